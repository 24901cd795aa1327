package linmem

import "unsafe"

// addr is the address of b's first byte.
func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }
