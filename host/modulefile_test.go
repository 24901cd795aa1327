package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cctoken/cctoken/host/embed"
)

func TestModuleBinaryKeepsADecompressedCopyAndReplacesADamagedOne(t *testing.T) {
	want, err := embed.Binary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(want, []byte("\x00asm")) {
		t.Fatal("the embedded module does not decompress to a wasm module")
	}
	dir := t.TempDir()
	got, err := moduleBinary(dir)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("first read: %d bytes, %v", len(got), err)
	}
	copies, _ := filepath.Glob(filepath.Join(dir, "cctoken-*.wasm"))
	if len(copies) != 1 {
		t.Fatalf("copies in the cache dir: %v", copies)
	}
	copyPath := copies[0]
	if b, _ := os.ReadFile(copyPath); !bytes.Equal(b, want) {
		t.Fatalf("the copy is not the module (%d bytes)", len(b))
	}
	flipped := bytes.Clone(want)
	flipped[len(flipped)/2] ^= 1
	for name, damaged := range map[string][]byte{
		"truncated":   want[:len(want)/2],
		"one bit off": flipped,
		"empty":       nil,
		"longer":      append(bytes.Clone(want), 0),
	} {
		if err := os.WriteFile(copyPath, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := moduleBinary(dir)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes, %v", name, len(got), err)
		}
		if b, _ := os.ReadFile(copyPath); !bytes.Equal(b, want) {
			t.Errorf("%s: the copy was not written anew", name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".cctoken-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestModuleBinaryWorksWithoutAWritableCache(t *testing.T) {
	want, _ := embed.Binary()
	// A file where the directory should be: nothing can be written.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", notDir} {
		got, err := moduleBinary(dir)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("cache dir %q: %d bytes, %v", dir, len(got), err)
		}
	}
}

// Closing a client unmaps its guest's memory: a call running in the guest
// at that moment must finish first, and calls after it must fail cleanly
// (before the close waited, this crashed the process with a fault in the
// guest's machine code).
func TestCloseWhileCallsRunFailsThemCleanly(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok", 3600))
	for round := 0; round < 20; round++ {
		c := newClient(t, presetFor(srv.URL, ""))
		ctx := context.Background()
		var wg sync.WaitGroup
		started := make(chan struct{}, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ { // bounded: stops by itself if Close never lands
					if i == 2 {
						started <- struct{}{}
					}
					if err := c.Invalidate(ctx, "svc"); err != nil {
						return
					}
				}
			}()
		}
		<-started
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if _, err := c.Token(ctx, "svc"); err == nil {
			t.Fatal("Token after Close succeeded")
		}
	}
}
