// Package embed hands the built cctoken reactor to the host library.
//
// build.sh writes cctoken.wasm (the module, which the JavaScript host and
// the edge worker load) and cctoken.wasm.gz (the same, gzip-compressed);
// both are committed, and CI checks that a fresh build reproduces them byte
// for byte. Go programs embed only the compressed copy: it makes every
// program that links the host 6.5 MB smaller. The host keeps the
// decompressed module in its compilation cache directory, so decompressing
// (tens of milliseconds) happens once per machine, not once per process.
package embed

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
)

// Gzip is the cctoken reactor module (GOOS=wasip1, -buildmode=c-shared),
// gzip-compressed.
//
//go:embed cctoken.wasm.gz
var Gzip []byte

// Binary decompresses the module.
func Binary() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(Gzip))
	if err != nil {
		return nil, fmt.Errorf("embedded module: %w", err)
	}
	size, _ := Trailer()
	out := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := io.Copy(out, zr); err != nil {
		return nil, fmt.Errorf("embedded module: %w", err)
	}
	return out.Bytes(), nil
}

// Trailer returns the decompressed module's length and CRC-32 (IEEE), as the
// gzip trailer records them: enough to check a decompressed copy without
// decompressing again.
func Trailer() (size int, crc uint32) {
	if len(Gzip) < 8 {
		return 0, 0
	}
	t := Gzip[len(Gzip)-8:]
	return int(binary.LittleEndian.Uint32(t[4:])), binary.LittleEndian.Uint32(t[:4])
}
