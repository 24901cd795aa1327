package wasi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Everything the tests run is built from source on first use: the command
// (as build.sh builds it), the native CLI to compare with, wasirun from the
// pinned tools module and the wazero CLI from the main module's wazero.

var root = func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("go.mod not found above " + dir)
		}
		dir = parent
	}
}()

// toolsDir is a cache kept between runs (the binaries are rebuilt only when
// go build finds them stale, which is quick).
var toolsDir = filepath.Join(os.TempDir(), "cctoken-wasi-tools")

type built struct {
	once sync.Once
	path string
	err  error
}

var (
	wasmBin, nativeBin, wasirunBin, wazeroBin built
	buildTmp                                  string
	buildTmpOnce                              sync.Once
)

func tmpDir() string {
	buildTmpOnce.Do(func() {
		var err error
		buildTmp, err = os.MkdirTemp("", "cctoken-wasi-test-")
		if err != nil {
			panic(err)
		}
	})
	return buildTmp
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildTmp != "" {
		os.RemoveAll(buildTmp)
	}
	os.Exit(code)
}

func goBuild(dir string, env []string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

func (b *built) get(build func() (string, error)) (string, error) {
	b.once.Do(func() { b.path, b.err = build() })
	return b.path, b.err
}

func must(t testing.TB, path string, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// buildWasm builds wasm/command with build.sh's flags.
func buildWasm() (string, error) {
	return wasmBin.get(func() (string, error) {
		out := filepath.Join(tmpDir(), "cctoken-wasi.wasm")
		return out, goBuild(root, []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"},
			"-trimpath", "-ldflags=-s -w -buildid=", "-o", out, "./wasm/command")
	})
}

// buildNative builds the native command around a reactor built from the
// same source as the WASI command (go build -overlay replaces the embedded
// host/embed/cctoken.wasm), so the two are compared on the same engine even
// while the committed reactor lags behind an edit.
func buildNative() (string, error) {
	return nativeBin.get(func() (string, error) {
		dir := tmpDir()
		reactor := filepath.Join(dir, "reactor.wasm")
		err := goBuild(root, []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"},
			"-trimpath", "-buildmode=c-shared", "-ldflags=-s -w -buildid=", "-o", reactor, "./wasm/module")
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
		return out, goBuild(root, nil, "-overlay", overlayFile, "-o", out, "./host/cmd/cctoken")
	})
}

// buildWasirun builds stealthrocket/wasi-go's runtime, v0.8.0 as pinned in
// tests/wasi/tools/go.mod. (`go install …/wasirun@v0.8.0` does not work:
// it asks the module proxy for the version list, which the proxy refuses.)
func buildWasirun() (string, error) {
	return wasirunBin.get(func() (string, error) {
		out := filepath.Join(toolsDir, "wasirun-v0.8.0")
		return out, goBuild(filepath.Join(root, "tests", "wasi", "tools"), nil, "-o", out, "github.com/stealthrocket/wasi-go/cmd/wasirun")
	})
}

// buildWazero builds the plain wazero runtime: WASI preview 1 and no socket
// extensions, at the main module's wazero version.
func buildWazero() (string, error) {
	return wazeroBin.get(func() (string, error) {
		out := filepath.Join(toolsDir, "wazero")
		return out, goBuild(root, nil, "-o", out, "github.com/tetratelabs/wazero/cmd/wazero")
	})
}

func commandWasm(t testing.TB) string { p, err := buildWasm(); return must(t, p, err) }
func nativeCLI(t testing.TB) string   { p, err := buildNative(); return must(t, p, err) }
func wasirun(t testing.TB) string     { p, err := buildWasirun(); return must(t, p, err) }
func wazeroCLI(t testing.TB) string   { p, err := buildWazero(); return must(t, p, err) }

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
