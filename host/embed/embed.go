// Package embed hands the built cctoken reactor to the host library.
// build.sh writes cctoken.wasm here; it is committed, and CI checks that a
// fresh build reproduces it byte for byte.
package embed

import _ "embed"

// Binary is the cctoken reactor module (GOOS=wasip1, -buildmode=c-shared).
//
//go:embed cctoken.wasm
var Binary []byte
