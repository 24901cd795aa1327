//go:build unix

package linmem

import (
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// chunk is how much more becomes accessible at a time: a huge page on
// x86-64 and arm64 Linux, so that the kernel can back a grown memory with
// few large pages instead of thousands of small ones (every first touch of
// a page is a fault, and on virtual machines a costly one).
const chunk = 2 << 20

const maxInt = int(^uint(0) >> 1)

// Allocator returns the allocator to give wazero (experimental.
// WithMemoryAllocator) for instances of the module.
func Allocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(allocate)
}

func allocate(_, max uint64) experimental.LinearMemory {
	// One chunk more than the maximum, so that the start can be aligned.
	size := roundUp(max, chunk) + chunk
	if size < max || max == 0 || size > uint64(maxInt) {
		return &heap{}
	}
	whole, err := unix.Mmap(-1, 0, int(size), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|noReserve)
	if err != nil {
		return &heap{}
	}
	start := 0
	if r := addr(whole) % chunk; r != 0 {
		start = int(chunk - r)
	}
	m := &reserved{whole: whole, mem: whole[start : start+int(roundUp(max, chunk))]}
	adviseHuge(m.mem)
	return m
}

// reserved is a reservation of which the first committed bytes are
// readable and writable; the rest faults if touched.
type reserved struct {
	whole     []byte // the mapping, for Free
	mem       []byte // the aligned part the memory lives in
	committed int
}

func (m *reserved) Reallocate(size uint64) []byte {
	if size > uint64(len(m.mem)) {
		return nil
	}
	if n := int(size); n > m.committed {
		next := int(roundUp(size, chunk))
		if next > len(m.mem) {
			next = len(m.mem)
		}
		if err := unix.Mprotect(m.mem[m.committed:next], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil // wazero reports a failed memory.grow to the guest
		}
		m.committed = next
	}
	return m.mem[:size:size]
}

func (m *reserved) Free() {
	if m.whole != nil {
		_ = unix.Munmap(m.whole)
		m.whole, m.mem, m.committed = nil, nil, 0
	}
}

func roundUp(n, to uint64) uint64 { return (n + to - 1) / to * to }

// inPlace says whether Allocator's memories never move (tests).
const inPlace = true
