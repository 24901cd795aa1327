package watch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "preset.yaml")
	os.WriteFile(path, []byte("one"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	done := make(chan error)
	go func() { done <- File(ctx, path, []byte("one"), func(b []byte) { got <- string(b) }, nil) }()
	time.Sleep(100 * time.Millisecond) // the watch is set up
	// A write in place is not atomic: a look can land between the
	// truncation and the write and see a part of the new contents. Such a
	// part may be reported (callers validate what they load), but the
	// whole contents must follow, and nothing else may be reported.
	expect := func(want string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case g := <-got:
				if g == want {
					return
				}
				if !strings.HasPrefix(want, g) {
					t.Fatalf("got %q, want %q", g, want)
				}
			case <-deadline:
				t.Fatalf("no change reported, want %q", want)
			}
		}
	}
	// Written in place.
	os.WriteFile(path, []byte("two"), 0o600)
	expect("two")
	// Replaced by a rename, as editors and deployments do.
	tmp := filepath.Join(dir, "new")
	os.WriteFile(tmp, []byte("three"), 0o600)
	os.Rename(tmp, path)
	expect("three")
	// The same contents again, and other files: nothing.
	os.WriteFile(path, []byte("three"), 0o600)
	os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o600)
	select {
	case g := <-got:
		t.Fatalf("reported %q for no change", g)
	case <-time.After(400 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A change made before the watch was set up (after the caller read the
// file) is still reported.
func TestFileChangedBeforeTheWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "preset.yaml")
	os.WriteFile(path, []byte("newer"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1)
	go File(ctx, path, []byte("what the caller read"), func(b []byte) { got <- string(b) }, nil)
	select {
	case g := <-got:
		if g != "newer" {
			t.Fatalf("got %q", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the change made before the watch was not reported")
	}
}
