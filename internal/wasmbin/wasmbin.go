// Package wasmbin reads and writes the parts of the WebAssembly binary
// format that the project's tools look into: sections, LEB128 numbers and
// byte vectors. build.sh packs the module's data segments with it
// (internal/wasmdata) and the benchmarks split the code section by package
// (tests/bench/wasmsize).
package wasmbin

import (
	"bytes"
	"errors"
	"fmt"
)

// Header starts every module of binary format version 1.
var Header = []byte("\x00asm\x01\x00\x00\x00")

var (
	errEnd = errors.New("ends early")
	errLEB = errors.New("bad LEB128 number")
	errLen = errors.New("longer than the section")
)

// Reader takes values off the front of B. The first failure is kept in Err,
// and every later read returns zero values, so a caller checks Err once
// after a run of reads.
type Reader struct {
	B   []byte
	Err error
}

// Fail records err, unless a failure came first, and drops what is left.
func (r *Reader) Fail(err error) {
	if r.Err == nil {
		r.Err = err
	}
	r.B = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err != nil || len(r.B) == 0 {
		r.Fail(errEnd)
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// U32 reads an unsigned LEB128 number of at most 32 bits.
func (r *Reader) U32() uint32 {
	var v uint64
	for i := 0; i < 5; i++ {
		c := r.Byte()
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if r.Err != nil || v > 1<<32-1 {
				break
			}
			return uint32(v)
		}
	}
	r.Fail(errLEB)
	return 0
}

// S32 reads a signed LEB128 number of at most 32 bits.
func (r *Reader) S32() int32 {
	var v int64
	for i := 0; i < 5; i++ {
		c := r.Byte()
		v |= int64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c&0x40 != 0 {
				v -= 1 << (7 * (i + 1))
			}
			if r.Err != nil || v < -1<<31 || v > 1<<31-1 {
				break
			}
			return int32(v)
		}
	}
	r.Fail(errLEB)
	return 0
}

// Bytes reads n bytes; the slice shares B's memory.
func (r *Reader) Bytes(n uint32) []byte {
	if r.Err != nil || uint64(len(r.B)) < uint64(n) {
		r.Fail(errLen)
		return nil
	}
	s := r.B[:n]
	r.B = r.B[n:]
	return s
}

// Section is one section of a module: its id and its contents.
type Section struct {
	ID   byte
	Body []byte
}

// Sections splits a module into its sections, in order.
func Sections(module []byte) ([]Section, error) {
	if !bytes.HasPrefix(module, Header) {
		return nil, errors.New("not a wasm module (version 1)")
	}
	r := &Reader{B: module[len(Header):]}
	var out []Section
	for len(r.B) > 0 {
		id := r.Byte()
		size := r.U32()
		if r.Err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.Err)
		}
		if uint64(len(r.B)) < uint64(size) {
			return nil, fmt.Errorf("section %d: longer than the module", id)
		}
		out = append(out, Section{ID: id, Body: r.Bytes(size)})
	}
	return out, nil
}

// AppendSection appends a section with its id and size.
func AppendSection(b []byte, s Section) []byte {
	b = append(b, s.ID)
	b = AppendU32(b, uint32(len(s.Body)))
	return append(b, s.Body...)
}

// AppendU32 appends v as an unsigned LEB128 number.
func AppendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendS32 appends v as a signed LEB128 number.
func AppendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
