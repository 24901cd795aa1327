// Package linmem backs the module's linear memory with memory reserved from
// the operating system instead of a Go slice.
//
// Without it wazero grows a memory by appending to a []byte: every growth
// copies the whole memory into a fresh allocation, and a module that starts
// at a few MB and grows page run by page run touches its memory many times
// over before it answers its first call. A reservation is mapped once, at
// the largest size the memory may reach, and growing it only makes more of
// it accessible: nothing moves, nothing is copied, and the operating system
// hands out zeroed pages as the guest touches them. It also keeps guest
// memory out of the Go heap, so it does not count towards the collector's
// pacing.
//
// On systems without mmap, Allocator returns nil and wazero keeps its own
// slices.
package linmem

import "github.com/tetratelabs/wazero/experimental"

// heap is the fallback when a reservation cannot be made (an address-space
// limit, for example): wazero's own behaviour, a slice that grows by
// appending.
type heap struct{ buf []byte }

func (h *heap) Reallocate(size uint64) []byte {
	if size > uint64(cap(h.buf)) {
		grown := make([]byte, size, size+size/4)
		copy(grown, h.buf)
		h.buf = grown
	}
	h.buf = h.buf[:size]
	return h.buf
}

func (h *heap) Free() { h.buf = nil }

var _ experimental.LinearMemory = (*heap)(nil)
