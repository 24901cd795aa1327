// Package watch calls back when a file's contents change, for reloading a
// preset without a restart. It watches the file's directory, so editors and
// deployment tools that replace the file (write a new one, rename it over
// the old, as Kubernetes does for mounted secrets) are seen as well as
// writes in place.
package watch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long events must stop before the file is read: one save is
// often several events (truncate, write, chmod, rename).
const settle = 100 * time.Millisecond

// File calls changed with the new contents each time path's contents
// differ from the last ones seen (initial is what the caller has loaded),
// until ctx ends. Errors reading the file are passed to failed, if set.
func File(ctx context.Context, path string, initial []byte, changed func([]byte), failed func(error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		return err
	}
	last := append([]byte(nil), initial...)
	// One look once the watch is set up: a change made between the
	// caller's read (initial) and now has sent no event and is not lost.
	timer := time.NewTimer(settle)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// A Kubernetes volume swaps a ..data symlink: any event in the
			// directory may mean new contents.
			if filepath.Clean(ev.Name) == abs || filepath.Base(ev.Name) == "..data" {
				timer.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if ok && failed != nil {
				failed(err)
			}
		case <-timer.C:
			text, err := os.ReadFile(abs)
			if err != nil {
				if failed != nil {
					failed(err)
				}
				continue
			}
			if !bytes.Equal(text, last) {
				last = text
				changed(text)
			}
		}
	}
}
