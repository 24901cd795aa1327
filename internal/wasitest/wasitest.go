// Package wasitest builds what the tests of the standalone WASI command
// run: the command and a reactor with build.sh's own flags (build.sh
// --command, --reactor), wasirun at the version tests/wasi/tools pins, and
// the plain wazero CLI. Each is built once per test binary; go build's
// cache makes repeat runs quick.
package wasitest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Root is the repository's root: the directory of go.mod above the
// working directory.
var Root = func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !strings.Contains(dir, filepath.Join("tests", "wasi", "tools")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("go.mod not found above " + dir)
		}
		dir = parent
	}
}()

// ToolsDir keeps the runtimes between runs; they are rebuilt only when go
// build finds them stale.
var ToolsDir = filepath.Join(os.TempDir(), "cctoken-wasi-tools")

type built struct {
	once sync.Once
	path string
	err  error
}

func (b *built) get(build func() (string, error)) (string, error) {
	b.once.Do(func() { b.path, b.err = build() })
	return b.path, b.err
}

var (
	command, reactor, wasirun, wazero built
	tmpOnce                           sync.Once
	tmp                               string
	tmpErr                            error
)

// Dir is a temporary directory for this test binary's builds; Cleanup
// removes it (call it from TestMain).
func Dir() (string, error) {
	tmpOnce.Do(func() { tmp, tmpErr = os.MkdirTemp("", "cctoken-wasi-test-") })
	return tmp, tmpErr
}

// Cleanup removes Dir.
func Cleanup() {
	if tmp != "" {
		os.RemoveAll(tmp)
	}
}

func run(dir string, env []string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// buildSh builds one artifact with ./build.sh --KIND into Dir.
func buildSh(b *built, kind, name string) (string, error) {
	return b.get(func() (string, error) {
		dir, err := Dir()
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, name)
		return out, run(Root, nil, "./build.sh", "--"+kind, out)
	})
}

// Command is wasm/command, built as build.sh builds it.
func Command() (string, error) { return buildSh(&command, "command", "cctoken-wasi.wasm") }

// Reactor is wasm/module, built as build.sh builds the committed one.
func Reactor() (string, error) { return buildSh(&reactor, "reactor", "reactor.wasm") }

// Wasirun is stealthrocket/wasi-go's runtime at the version pinned in
// tests/wasi/tools/go.mod (`go install …/wasirun@v0.8.0` does not work: it
// asks the module proxy for the version list, which the proxy refuses).
func Wasirun() (string, error) {
	return wasirun.get(func() (string, error) {
		out := filepath.Join(ToolsDir, "wasirun-v0.8.0")
		return out, run(filepath.Join(Root, "tests", "wasi", "tools"), nil, "go", "build", "-o", out, "github.com/stealthrocket/wasi-go/cmd/wasirun")
	})
}

// Wazero is the plain wazero runtime: WASI preview 1 and no socket
// extensions, at the main module's wazero version.
func Wazero() (string, error) {
	return wazero.get(func() (string, error) {
		out := filepath.Join(ToolsDir, "wazero")
		return out, run(Root, nil, "go", "build", "-o", out, "github.com/tetratelabs/wazero/cmd/wazero")
	})
}

// GoBuild runs go build in dir with extra environment variables.
func GoBuild(dir string, env []string, args ...string) error {
	return run(dir, env, "go", append([]string{"build"}, args...)...)
}
