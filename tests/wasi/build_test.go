package wasi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cctoken/cctoken/internal/wasitest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Everything the tests run is built from source on first use, by package
// wasitest (shared with tests/conformance): the command as build.sh builds
// it, wasirun from the pinned tools module and the wazero CLI from the main
// module's wazero; the native CLI to compare with is built here.

var (
	root     = wasitest.Root
	toolsDir = wasitest.ToolsDir
)

func TestMain(m *testing.M) {
	code := m.Run()
	wasitest.Cleanup()
	os.Exit(code)
}

var nativeBin struct {
	once sync.Once
	path string
	err  error
}

func must(t testing.TB, path string, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// buildNative builds the native command around a reactor built from the
// same source as the WASI command (go build -overlay replaces the embedded
// host/embed/cctoken.wasm), so the two are compared on the same engine even
// while the committed reactor lags behind an edit.
func buildNative() (string, error) {
	nativeBin.once.Do(func() {
		nativeBin.path, nativeBin.err = func() (string, error) {
			reactor, err := wasitest.Reactor()
			if err != nil {
				return "", err
			}
			dir, err := wasitest.Dir()
			if err != nil {
				return "", err
			}
			overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
				filepath.Join(root, "host", "embed", "cctoken.wasm"): reactor,
			}})
			overlayFile := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
				return "", err
			}
			out := filepath.Join(dir, "cctoken")
			return out, wasitest.GoBuild(root, nil, "-overlay", overlayFile, "-o", out, "./host/cmd/cctoken")
		}()
	})
	return nativeBin.path, nativeBin.err
}

var (
	buildWasm    = wasitest.Command
	buildWasirun = wasitest.Wasirun
)

func commandWasm(t testing.TB) string { p, err := wasitest.Command(); return must(t, p, err) }
func nativeCLI(t testing.TB) string   { p, err := buildNative(); return must(t, p, err) }
func wasirun(t testing.TB) string     { p, err := wasitest.Wasirun(); return must(t, p, err) }
func wazeroCLI(t testing.TB) string   { p, err := wasitest.Wazero(); return must(t, p, err) }

// result is one run of a command.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func runCmd(t testing.TB, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return res
}
