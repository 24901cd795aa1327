//go:build !unix

package host

import "os"

// readFile reads a file; release does nothing.
func readFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
