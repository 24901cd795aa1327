// Command wasmdata rewrites the data section of a wasm module for build.sh:
// the active segments, sorted by address, are joined into one wherever
// fewer than maxGap zero bytes lie between them, and the zeros are written
// out. Go's linker starts a new segment after every short run of zeros
// (80,000 segments in the reactor, most 17 to 32 bytes apart); their
// headers, an address and a length each, compress badly, while a run of
// zeros compresses to almost nothing. The memory a module starts with is
// the same byte for byte; every other section is copied as it is.
//
//	wasmdata IN OUT
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/cctoken/cctoken/internal/wasmbin"
)

// maxGap is the longest run of zeros written out to join two segments.
// Longer runs (none in today's modules) keep their segments apart, so that
// a large zeroed area never lands in the file.
const maxGap = 4096

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: wasmdata IN OUT")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		if out, err = pack(in, maxGap); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmdata:", err)
		os.Exit(1)
	}
}

const (
	sectionData      = 11
	sectionDataCount = 12
	opI32Const       = 0x41
	opEnd            = 0x0b
)

// segment is an active data segment of memory 0.
type segment struct {
	offset uint32
	init   []byte
}

// pack returns module with its data segments joined across gaps of at most
// gap zero bytes.
func pack(module []byte, gap int) ([]byte, error) {
	sections, err := wasmbin.Sections(module)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), wasmbin.Header...)
	for _, s := range sections {
		switch s.ID {
		case sectionData:
			segs, err := readData(s.Body)
			if err != nil {
				return nil, fmt.Errorf("data section: %w", err)
			}
			s.Body = writeData(join(segs, gap))
		case sectionDataCount:
			// Only passive segments (refused below) need the count; a
			// module with one states it, and it must match.
			return nil, errors.New("the module has a data count section; wasmdata packs only modules without one")
		}
		out = wasmbin.AppendSection(out, s)
	}
	return out, nil
}

func readData(b []byte) ([]segment, error) {
	r := &wasmbin.Reader{B: b}
	count := r.U32()
	segs := make([]segment, 0, min(int(count), len(b)))
	for i := uint32(0); i < count && r.Err == nil; i++ {
		s, err := readSegment(r)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		segs = append(segs, s)
	}
	if r.Err != nil {
		return nil, r.Err
	}
	if len(r.B) != 0 {
		return nil, errors.New("bytes after the last segment")
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].offset < segs[j].offset })
	for i := 1; i < len(segs); i++ {
		if end(segs[i-1]) > uint64(segs[i].offset) {
			// Later segments overwrite earlier ones; joining would have
			// to keep that order. Go's linker never writes this.
			return nil, fmt.Errorf("segments at %d and %d overlap", segs[i-1].offset, segs[i].offset)
		}
	}
	return segs, nil
}

func readSegment(r *wasmbin.Reader) (segment, error) {
	switch kind := r.U32(); {
	case r.Err != nil:
		return segment{}, r.Err
	case kind == 2:
		if mem := r.U32(); r.Err == nil && mem != 0 {
			return segment{}, errors.New("not for memory 0")
		}
	case kind != 0:
		return segment{}, errors.New("passive segments are not packed")
	}
	if r.Byte() != opI32Const && r.Err == nil {
		return segment{}, errors.New("its address is not an i32.const")
	}
	off := r.S32()
	if r.Byte() != opEnd && r.Err == nil {
		return segment{}, errors.New("its address is not an i32.const")
	}
	init := r.Bytes(r.U32())
	return segment{offset: uint32(off), init: init}, r.Err
}

func end(s segment) uint64 { return uint64(s.offset) + uint64(len(s.init)) }

// join merges sorted, disjoint segments no more than gap bytes apart.
func join(segs []segment, gap int) []segment {
	var out []segment
	for _, s := range segs {
		if len(out) > 0 {
			last := &out[len(out)-1]
			if d := uint64(s.offset) - end(*last); d <= uint64(gap) {
				last.init = append(last.init, make([]byte, d)...)
				last.init = append(last.init, s.init...)
				continue
			}
		}
		out = append(out, segment{offset: s.offset, init: append([]byte(nil), s.init...)})
	}
	return out
}

func writeData(segs []segment) []byte {
	b := wasmbin.AppendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		b = append(b, 0, opI32Const)
		b = wasmbin.AppendS32(b, int32(s.offset))
		b = append(b, opEnd)
		b = wasmbin.AppendU32(b, uint32(len(s.init)))
		b = append(b, s.init...)
	}
	return b
}
