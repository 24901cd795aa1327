//go:build unix && !linux

package linmem

func adviseHuge([]byte) {}
