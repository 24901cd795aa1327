package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/cctoken/cctoken/internal/wasmbin"
)

// image is the memory the module's data segments give, from address 0.
func image(t *testing.T, module []byte) []byte {
	t.Helper()
	var mem []byte
	for _, s := range dataSegments(t, module) {
		if need := int(end(s)); need > len(mem) {
			mem = append(mem, make([]byte, need-len(mem))...)
		}
		copy(mem[s.offset:], s.init)
	}
	return bytes.TrimRight(mem, "\x00")
}

func dataSegments(t *testing.T, module []byte) []segment {
	t.Helper()
	sections, err := wasmbin.Sections(module)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sections {
		if s.ID == sectionData {
			segs, err := readData(s.Body)
			if err != nil {
				t.Fatal(err)
			}
			return segs
		}
	}
	return nil
}

// module builds a wasm binary: a custom section, a memory section, then a
// data section with raw (the segment entries as written).
func module(count int, raw []byte) []byte {
	m := append([]byte(nil), wasmbin.Header...)
	custom := append([]byte{4}, "note"...)
	m = append(m, 0, byte(len(custom)))
	m = append(m, custom...)
	m = append(m, 5, 3, 1, 0, 2) // one memory of at least two pages
	body := wasmbin.AppendU32(nil, uint32(count))
	body = append(body, raw...)
	return wasmbin.AppendSection(m, wasmbin.Section{ID: sectionData, Body: body})
}

func active(offset int32, data string) []byte {
	b := []byte{0, opI32Const}
	b = wasmbin.AppendS32(b, offset)
	b = append(b, opEnd)
	b = wasmbin.AppendU32(b, uint32(len(data)))
	return append(b, data...)
}

func TestPackJoinsSegmentsAndKeepsTheMemory(t *testing.T) {
	cases := []struct {
		name     string
		segs     [][]byte
		gap      int
		segments int
	}{
		{"adjacent", [][]byte{active(100, "ab"), active(102, "cd")}, 16, 1},
		{"a short gap", [][]byte{active(100, "ab"), active(110, "cd")}, 16, 1},
		{"a gap of exactly the limit", [][]byte{active(100, "ab"), active(118, "cd")}, 16, 1},
		{"a gap past the limit", [][]byte{active(100, "ab"), active(119, "cd")}, 16, 2},
		{"out of order", [][]byte{active(300, "z"), active(100, "ab"), active(104, "cd")}, 16, 2},
		{"memory index form", [][]byte{{2, 0, opI32Const, 10, opEnd, 1, 'x'}, active(12, "y")}, 16, 1},
		{"an address of three LEB bytes", [][]byte{active(70000, "hi"), active(70010, "there")}, 16, 1},
		{"one segment", [][]byte{active(0, "only")}, 16, 1},
		{"none", nil, 16, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := module(len(c.segs), bytes.Join(c.segs, nil))
			out, err := pack(in, c.gap)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(dataSegments(t, out)); got != c.segments {
				t.Errorf("%d segments, want %d", got, c.segments)
			}
			if !bytes.Equal(image(t, in), image(t, out)) {
				t.Error("the memory image changed")
			}
			// The sections before the data section are untouched.
			if i := bytes.IndexByte(in, sectionData); !bytes.Equal(in[:i], out[:i]) {
				t.Error("other sections changed")
			}
			again, err := pack(out, c.gap)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("packing twice changed the module (err %v)", err)
			}
		})
	}
}

func TestPackRandomLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		var segs [][]byte
		addr := int32(r.IntN(1000))
		for n := r.IntN(30); n > 0; n-- {
			data := make([]byte, 1+r.IntN(40))
			for j := range data {
				data[j] = byte(r.IntN(3)) // zeros inside segments too
			}
			segs = append(segs, active(addr, string(data)))
			addr += int32(len(data) + r.IntN(70))
		}
		r.Shuffle(len(segs), func(a, b int) { segs[a], segs[b] = segs[b], segs[a] })
		in := module(len(segs), bytes.Join(segs, nil))
		out, err := pack(in, 32)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(image(t, in), image(t, out)) {
			t.Fatalf("layout %d: the memory image changed", i)
		}
	}
}

func TestPackRefusesWhatItCannotKeep(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"not wasm", []byte("\x7fELF...."), "not a wasm module"},
		{"a truncated section", module(1, active(1, "abc"))[:30], "longer than the module"},
		{"overlapping segments", module(2, append(active(10, "abcd"), active(12, "x")...)), "overlap"},
		{"a passive segment", module(1, []byte{1, 1, 'x'}), "passive"},
		{"another memory", module(1, []byte{2, 1, opI32Const, 0, opEnd, 1, 'x'}), "memory 0"},
		{"a global address", module(1, []byte{0, 0x23, 0, opEnd, 1, 'x'}), "i32.const"},
		{"a segment past the section", module(1, []byte{0, opI32Const, 0, opEnd, 9, 'x'}), "longer than the section"},
		{"more segments than written", module(3, active(1, "a")), "segment 1"},
		{"a runaway LEB", module(1, []byte{0, opI32Const, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "LEB128"},
		{"a data count section", append(append([]byte(nil), wasmbin.Header...), sectionDataCount, 1, 0), "data count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pack(c.in, 16)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// The committed module went through build.sh, so it is packed already:
// packing it again changes nothing.
func TestTheCommittedModuleIsPacked(t *testing.T) {
	m, err := os.ReadFile("../../host/embed/cctoken.wasm")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pack(m, maxGap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, m) {
		t.Fatal("host/embed/cctoken.wasm is not packed; run ./build.sh")
	}
	if n := len(dataSegments(t, m)); n > 10 {
		t.Errorf("%d data segments", n)
	}
}
