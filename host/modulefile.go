package host

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/cctoken/cctoken/host/embed"
)

// moduleBinary returns the module's bytes. The Go host embeds the module
// gzip-compressed; with a cache directory the decompressed copy is kept
// there, named by the compressed bytes' digest and checked against the
// length and CRC the gzip trailer records, so that a process reads it
// instead of decompressing. The copy is trusted as much as the compiled
// machine code wazero keeps beside it; the check catches a truncated or
// damaged file, which is then written anew. Where the system can, the copy
// is mapped rather than read (the pages come straight from the file cache,
// as the embedded bytes of a binary do): it is only ever replaced by a
// rename, never rewritten in place, so a process that maps it is not
// disturbed by another that replaces it. A mapping is kept for the life of
// the process, like the compiled module that refers to it.
func moduleBinary(cacheDir string) ([]byte, error) {
	if cacheDir == "" {
		return embed.Binary()
	}
	sum := sha256.Sum256(embed.Gzip)
	path := filepath.Join(cacheDir, "cctoken-"+hex.EncodeToString(sum[:16])+".wasm")
	size, crc := embed.Trailer()
	if b, release, err := readFile(path); err == nil {
		if len(b) == size && crc32.ChecksumIEEE(b) == crc {
			return b, nil
		}
		release()
	}
	b, err := embed.Binary()
	if err != nil {
		return nil, err
	}
	// Best effort: a cache that cannot be written only costs speed.
	if os.MkdirAll(cacheDir, 0o700) == nil {
		if f, err := os.CreateTemp(cacheDir, ".cctoken-*.wasm"); err == nil {
			_, werr := f.Write(b)
			if cerr := f.Close(); werr == nil && cerr == nil && os.Rename(f.Name(), path) == nil {
				return b, nil
			}
			os.Remove(f.Name())
		}
	}
	return b, nil
}
