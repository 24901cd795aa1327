//go:build wasip1

// Command module is the cctoken reactor: built with GOOS=wasip1
// -buildmode=c-shared, it exports the three functions described in ABI.md
// and keeps one engine per instance.
package main

import (
	"unsafe"

	"github.com/cctoken/cctoken/wasm/internal/abi"
)

var (
	dispatcher = abi.New()
	in         = make([]byte, 4096)
	out        []byte // kept alive until the next call so the host can read it
)

// cctoken_abi_version returns abi.Version, so a host can refuse a module it
// does not understand before calling anything else.
//
//go:wasmexport cctoken_abi_version
func abiVersion() uint32 { return abi.Version }

// cctoken_buffer returns a pointer to a buffer of at least size bytes where
// the host writes the next call's JSON.
//
//go:wasmexport cctoken_buffer
func buffer(size uint32) uint32 {
	if uint32(cap(in)) < size {
		in = make([]byte, size)
	}
	return uint32(uintptr(unsafe.Pointer(&in[:1][0])))
}

// cctoken_call runs the call of size bytes in the buffer and returns the
// answer as (pointer << 32 | length); the answer stays readable until the
// next cctoken_call.
//
//go:wasmexport cctoken_call
func call(size uint32) uint64 {
	if size > uint32(len(in)) {
		size = uint32(len(in))
	}
	// The previous answer is no longer needed: its buffer takes this one.
	out = dispatcher.AppendHandle(out[:0], in[:size])
	if len(out) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}

func main() {}
