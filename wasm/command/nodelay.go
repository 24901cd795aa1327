//go:build wasip1

package main

import (
	"context"
	"net"
	"syscall"
	"unsafe"

	"github.com/stealthrocket/net/wasip1"
)

// dial connects through the socket extensions and turns Nagle's algorithm
// off. On wasip1 (*net.TCPConn).SetNoDelay does nothing, and with Nagle on,
// the request written right after the TLS handshake's last flight waits for
// the server's delayed ACK: some 40 ms on every HTTPS token request.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := wasip1.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { setNoDelay(int32(fd)) })
		}
	}
	return c, nil
}

// wasi-go names TCP_NODELAY level 6 (IPPROTO_TCP), option 15; a runtime
// that numbers it otherwise, or lacks it, answers an error, which is
// ignored: the connection then only keeps Nagle's algorithm.
const (
	levelTCP      = 6
	optTCPNoDelay = 15
)

func setNoDelay(fd int32) {
	one := int32(1)
	sock_setsockopt(fd, levelTCP, optTCPNoDelay, unsafe.Pointer(&one), 4)
}

// The same import as github.com/stealthrocket/net/wasip1's, which keeps it
// unexported.
//
//go:wasmimport wasi_snapshot_preview1 sock_setsockopt
//go:noescape
func sock_setsockopt(fd int32, level uint32, name uint32, value unsafe.Pointer, valueLen uint32) syscall.Errno
