//go:build unix && !freebsd && !aix

package linmem

import "golang.org/x/sys/unix"

// noReserve keeps the reservation out of the system's commit accounting:
// only what becomes writable counts.
const noReserve = unix.MAP_NORESERVE
