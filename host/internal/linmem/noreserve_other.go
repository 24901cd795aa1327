//go:build freebsd || aix

package linmem

// noReserve: these systems have no MAP_NORESERVE; the reservation is still
// PROT_NONE, with nothing behind it until it becomes writable.
const noReserve = 0
