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
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
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

var header = []byte("\x00asm\x01\x00\x00\x00")

// segment is an active data segment of memory 0.
type segment struct {
	offset uint32
	init   []byte
}

// pack returns module with its data segments joined across gaps of at most
// gap zero bytes.
func pack(module []byte, gap int) ([]byte, error) {
	if !bytes.HasPrefix(module, header) {
		return nil, errors.New("not a wasm module (version 1)")
	}
	out := append([]byte(nil), header...)
	rest := module[len(header):]
	for len(rest) > 0 {
		id := rest[0]
		size, n, err := uleb(rest[1:])
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		start := 1 + n
		if uint64(len(rest)-start) < uint64(size) {
			return nil, fmt.Errorf("section %d: longer than the module", id)
		}
		body := rest[start : start+int(size)]
		rest = rest[start+int(size):]
		switch id {
		case sectionData:
			segs, err := readData(body)
			if err != nil {
				return nil, fmt.Errorf("data section: %w", err)
			}
			body = writeData(join(segs, gap))
		case sectionDataCount:
			// Only passive segments (refused above) need the count; a
			// module with one states it, and it must match.
			return nil, errors.New("the module has a data count section; wasmdata packs only modules without one")
		}
		out = append(out, id)
		out = appendUleb(out, uint64(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func readData(b []byte) ([]segment, error) {
	count, n, err := uleb(b)
	if err != nil {
		return nil, err
	}
	b = b[n:]
	segs := make([]segment, 0, min(count, uint64(len(b))))
	for i := uint64(0); i < count; i++ {
		kind, n, err := uleb(b)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		b = b[n:]
		switch kind {
		case 0:
		case 2:
			mem, n, err := uleb(b)
			if err != nil || mem != 0 {
				return nil, fmt.Errorf("segment %d: not for memory 0", i)
			}
			b = b[n:]
		default:
			return nil, fmt.Errorf("segment %d: passive segments are not packed", i)
		}
		if len(b) == 0 || b[0] != opI32Const {
			return nil, fmt.Errorf("segment %d: its address is not an i32.const", i)
		}
		off, n, err := sleb32(b[1:])
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		b = b[1+n:]
		if len(b) == 0 || b[0] != opEnd {
			return nil, fmt.Errorf("segment %d: its address is not an i32.const", i)
		}
		b = b[1:]
		size, n, err := uleb(b)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", i, err)
		}
		b = b[n:]
		if uint64(len(b)) < size {
			return nil, fmt.Errorf("segment %d: longer than the section", i)
		}
		segs = append(segs, segment{offset: uint32(off), init: b[:size]})
		b = b[size:]
	}
	if len(b) != 0 {
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
	b := appendUleb(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, opI32Const)
		b = appendSleb(b, int64(int32(s.offset)))
		b = append(b, opEnd)
		b = appendUleb(b, uint64(len(s.init)))
		b = append(b, s.init...)
	}
	return b
}

var errLEB = errors.New("bad LEB128 number")

func uleb(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errLEB
}

func sleb32(b []byte) (int32, int, error) {
	var v int64
	for i := 0; i < len(b) && i < 5; i++ {
		v |= int64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			if b[i]&0x40 != 0 {
				v -= 1 << (7 * (i + 1))
			}
			if v < -1<<31 || v >= 1<<31 {
				return 0, 0, errLEB
			}
			return int32(v), i + 1, nil
		}
	}
	return 0, 0, errLEB
}

func appendUleb(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
