package linmem

import (
	"bytes"
	"testing"
)

// Growing keeps what the memory holds, hands out zeroed bytes, and never
// moves the memory (on systems with mmap); past the maximum it fails.
func TestReallocateGrowsInPlaceAndKeepsContents(t *testing.T) {
	const page = 64 << 10
	max := uint64(64 * page)
	for name, mem := range map[string]interface {
		Reallocate(uint64) []byte
		Free()
	}{
		"allocator": allocatorOrHeap(max),
		"heap":      &heap{},
	} {
		t.Run(name, func(t *testing.T) {
			defer mem.Free()
			b := mem.Reallocate(page)
			if len(b) != page {
				t.Fatalf("len %d", len(b))
			}
			copy(b, "guest data")
			first := &b[0]
			for _, pages := range []uint64{1, 2, 33, 40, 64} {
				b = mem.Reallocate(pages * page)
				if uint64(len(b)) != pages*page {
					t.Fatalf("%d pages: len %d", pages, len(b))
				}
				if !bytes.HasPrefix(b, []byte("guest data")) {
					t.Fatalf("%d pages: contents lost", pages)
				}
				if i := bytes.IndexFunc(b[page:], func(r rune) bool { return r != 0 }); i >= 0 {
					t.Fatalf("%d pages: byte %d not zero", pages, page+i)
				}
				b[len(b)-1] = 0 // writable up to the end
				if name == "allocator" && &b[0] != first && inPlace {
					t.Fatalf("%d pages: the memory moved", pages)
				}
			}
			if name == "allocator" && inPlace {
				if got := mem.Reallocate(max + page); got != nil {
					t.Fatalf("past the maximum: %d bytes", len(got))
				}
			}
		})
	}
}

func allocatorOrHeap(max uint64) interface {
	Reallocate(uint64) []byte
	Free()
} {
	if a := Allocator(); a != nil {
		return a.Allocate(0, max)
	}
	return &heap{}
}
