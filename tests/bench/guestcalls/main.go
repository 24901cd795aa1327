// Command guestcalls counts the module's function calls in one token fetch
// (invalidate, token, resume with a canned 200 as the Go host sends it,
// the body after the call), by function, with a
// wazero function listener: in wasm every call costs, so the count and
// where it goes show what to cut. It needs a module with its name section
// (built without -ldflags=-s; tests/bench/guestcalls.sh builds one).
//
//	tests/bench/guestcalls.sh
//	go run ./tests/bench/guestcalls module.wasm [top]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

const preset = `{"preset":[{"type":"oauth_client_credentials","url":"http://127.0.0.1:1/token","users":[{"username":"svc","client_id":"svc-id","client_secret":"svc-secret"}]}]}`

// counter counts calls per function while on is set.
type counter struct {
	on     bool
	counts map[string]int
}

func (c *counter) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	name := def.DebugName()
	return experimental.FunctionListenerFunc(func(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
		if c.on {
			c.counts[name]++
		}
	})
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guestcalls module.wasm [top]")
		os.Exit(2)
	}
	top := 40
	if len(os.Args) > 2 {
		top, _ = strconv.Atoi(os.Args[2])
	}
	bin, err := os.ReadFile(os.Args[1])
	check(err)
	c := &counter{counts: map[string]int{}}
	ctx := experimental.WithFunctionListenerFactory(context.Background(), c)
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName("").
		WithStartFunctions("_initialize").WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader))
	check(err)
	buffer, call := mod.ExportedFunction("cctoken_buffer"), mod.ExportedFunction("cctoken_call")
	do := func(in []byte) []byte {
		res, err := buffer.Call(ctx, uint64(len(in)))
		check(err)
		mod.Memory().Write(uint32(res[0]), in)
		res, err = call.Call(ctx, uint64(len(in)))
		check(err)
		out, _ := mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
		return bytes.Clone(out)
	}
	do([]byte(`{"op":"load","text":` + strconv.Quote(preset) + `}`))
	fetch := func() {
		do([]byte(`{"op":"invalidate","user":"svc"}`))
		out := do([]byte(`{"op":"token","user":"svc"}`))
		_, rest, _ := bytes.Cut(out, []byte(`"task":`))
		task, _, _ := bytes.Cut(rest, []byte(","))
		body := `{"access_token":"bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH","token_type":"Bearer","expires_in":3600}`
		out = do([]byte(`{"op":"resume","task":` + string(task) + `,"response":{"status":200,"header":{"Cache-Control":"no-store","Content-Length":"104","Content-Type":"application/json","Date":"Mon, 07 Dec 2026 07:26:24 GMT"},"body_bytes":` + strconv.Itoa(len(body)) + `}}` + body))
		if !bytes.HasPrefix(out, []byte(`{"result"`)) {
			fmt.Fprintf(os.Stderr, "resume: %s\n", out)
			os.Exit(1)
		}
	}
	fetch() // first use: the request and cache key are made once per user
	c.on = true
	fetch()
	c.on = false
	type fc struct {
		name string
		n    int
	}
	var all []fc
	total := 0
	for k, v := range c.counts {
		all = append(all, fc{k, v})
		total += v
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].name < all[j].name })
	fmt.Printf("guest_calls_per_fetch %d calls\n", total)
	fmt.Printf("guest_functions_per_fetch %d functions\n", len(all))
	for i, f := range all {
		if i == top {
			break
		}
		fmt.Printf("%6d %s\n", f.n, f.name)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
