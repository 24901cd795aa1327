//go:build !unix

package linmem

import "github.com/tetratelabs/wazero/experimental"

// Allocator returns nil: without mmap, wazero's own slices back the memory.
func Allocator() experimental.MemoryAllocator { return nil }

const inPlace = false
