package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	json "github.com/goccy/go-json"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/cctoken/cctoken/host/internal/linmem"
)

// abiVersion is the module ABI this host speaks (wasm/ABI.md).
const abiVersion = 1

// engines holds one compiled module per compilation-cache directory: the
// module is compiled once per process and instantiated per Client.
var engines struct {
	sync.Mutex
	byDir map[string]*compiled
}

type compiled struct {
	rt  wazero.Runtime
	mod wazero.CompiledModule
}

// DefaultCacheDir is where compiled modules are cached between runs unless
// WithCacheDir says otherwise; "" when the system has no user cache dir.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "cctoken", "wazero")
}

func compile(ctx context.Context, cacheDir string) (*compiled, error) {
	engines.Lock()
	defer engines.Unlock()
	if c := engines.byDir[cacheDir]; c != nil {
		return c, nil
	}
	cfg := wazero.NewRuntimeConfigCompiler()
	if cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err == nil {
			cfg = cfg.WithCompilationCache(cache)
		}
		// An unusable cache dir only costs speed; compile without it.
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("cctoken: setting up WASI: %w", err)
	}
	bin, err := moduleBinary(cacheDir)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("cctoken: reading the module: %w", err)
	}
	// Without a cached copy, compiling takes seconds: spread it over the
	// cores the program may use. The machine code is the same either way.
	mod, err := rt.CompileModule(experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0)), bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("cctoken: compiling the module: %w", err)
	}
	if engines.byDir == nil {
		engines.byDir = map[string]*compiled{}
	}
	c := &compiled{rt: rt, mod: mod}
	engines.byDir[cacheDir] = c
	return c, nil
}

// instance is one instantiated module. Calls are serialised: the module is
// single-threaded.
type instance struct {
	mu      sync.Mutex
	closed  bool // under mu: the memory may be unmapped, so no call may start
	mod     api.Module
	buffer  api.Function
	call    api.Function
	version api.Function
}

func instantiate(ctx context.Context, cacheDir string) (*instance, error) {
	c, err := compile(ctx, cacheDir)
	if err != nil {
		return nil, err
	}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so many instances can coexist
		WithStartFunctions("_initialize").
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		// wazero's default random source is deterministic.
		WithRandSource(rand.Reader)
	// The guest's memory lives in a reservation that grows in place.
	mod, err := c.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, linmem.Allocator()), c.mod, cfg)
	if err != nil {
		return nil, fmt.Errorf("cctoken: starting the module: %w", err)
	}
	in := &instance{
		mod:     mod,
		buffer:  mod.ExportedFunction("cctoken_buffer"),
		call:    mod.ExportedFunction("cctoken_call"),
		version: mod.ExportedFunction("cctoken_abi_version"),
	}
	if in.buffer == nil || in.call == nil || in.version == nil {
		mod.Close(ctx)
		return nil, errors.New("cctoken: the module lacks the cctoken_* exports; rebuild it with build.sh")
	}
	v, err := in.version.Call(ctx)
	if err != nil || len(v) != 1 || v[0] != abiVersion {
		mod.Close(ctx)
		return nil, fmt.Errorf("cctoken: the module speaks another ABI version than this host (%d); use matching versions", abiVersion)
	}
	return in, nil
}

// do sends one call to the module and decodes its answer.
func (in *instance) do(ctx context.Context, c call) (*answer, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return in.send(ctx, body)
}

// send runs the call body holds and decodes its answer.
func (in *instance) send(ctx context.Context, body []byte) (*answer, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil, errors.New("cctoken: the client is closed")
	}
	res, err := in.buffer.Call(ctx, uint64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("cctoken: module call failed: %w", err)
	}
	ptr := uint32(res[0])
	if !in.mod.Memory().Write(ptr, body) {
		return nil, errors.New("cctoken: module buffer out of range")
	}
	res, err = in.call.Call(ctx, uint64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("cctoken: module call failed: %w", err)
	}
	optr, olen := uint32(res[0]>>32), uint32(res[0])
	out, ok := in.mod.Memory().Read(optr, olen)
	if !ok {
		return nil, errors.New("cctoken: module answer out of range")
	}
	var a answer
	if err := decodeAnswer(out, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// close waits for a call in progress: closing unmaps the guest's memory
// (linmem), which a running call or an answer being decoded still reads.
func (in *instance) close(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil
	}
	in.closed = true
	return in.mod.Close(ctx)
}
