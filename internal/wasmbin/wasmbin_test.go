package wasmbin

import (
	"bytes"
	"math"
	"testing"
)

func TestNumbersRoundTrip(t *testing.T) {
	for _, v := range []uint32{0, 1, 63, 64, 127, 128, 16383, 16384, 1 << 21, 1<<28 - 1, 1 << 28, math.MaxUint32} {
		r := &Reader{B: AppendU32(nil, v)}
		if got := r.U32(); got != v || r.Err != nil || len(r.B) != 0 {
			t.Errorf("U32 %d: got %d, %v, %d bytes left", v, got, r.Err, len(r.B))
		}
	}
	for _, v := range []int32{0, 1, -1, 63, 64, -64, -65, 8191, -8192, 1 << 27, -(1 << 27), math.MaxInt32, math.MinInt32} {
		r := &Reader{B: AppendS32(nil, v)}
		if got := r.S32(); got != v || r.Err != nil || len(r.B) != 0 {
			t.Errorf("S32 %d: got %d, %v, %d bytes left", v, got, r.Err, len(r.B))
		}
	}
}

func TestBadInputIsAnErrorNotAPanic(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		read func(*Reader)
		want error
	}{
		{"a number that never ends", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, func(r *Reader) { r.U32() }, errLEB},
		{"a number past 32 bits", []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, func(r *Reader) { r.U32() }, errLEB},
		{"a signed number past 32 bits", []byte{0xff, 0xff, 0xff, 0xff, 0x4f}, func(r *Reader) { r.S32() }, errLEB},
		{"a number cut short", []byte{0x80}, func(r *Reader) { r.U32() }, errEnd},
		{"bytes past the end", []byte{1, 2}, func(r *Reader) { r.Bytes(3) }, errLen},
		{"a read after a failure", []byte{0x80}, func(r *Reader) { r.U32(); r.Bytes(0) }, errEnd},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Reader{B: c.in}
			c.read(r)
			if r.Err != c.want {
				t.Fatalf("error %v, want %v", r.Err, c.want)
			}
		})
	}
}

func TestSections(t *testing.T) {
	m := append([]byte(nil), Header...)
	m = AppendSection(m, Section{ID: 1, Body: []byte{9, 9}})
	m = AppendSection(m, Section{ID: 11, Body: bytes.Repeat([]byte{7}, 200)})
	got, err := Sections(m)
	if err != nil || len(got) != 2 || got[0].ID != 1 || len(got[1].Body) != 200 || got[1].ID != 11 {
		t.Fatalf("%v %+v", err, got)
	}
	if _, err := Sections(m[:len(m)-1]); err == nil {
		t.Error("a cut module was taken")
	}
	if _, err := Sections([]byte("\x7fELF....")); err == nil {
		t.Error("not wasm was taken")
	}
}
