// Package bench holds the speed and memory benchmarks of cctoken. They print
// figures; they assert no timing. tests/bench/run.sh runs them together with
// the cold-start, RSS and size measurements and turns the output into
// "name value unit" lines (see README.md).
//
// Every token endpoint is a local httptest server on 127.0.0.1 that answers
// a client-credentials request with expires_in 3600.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/embed"
)

// accessToken is what every token server hands out: opaque, 64 characters.
const accessToken = "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"

const tokenBody = `{"access_token":"` + accessToken + `","token_type":"Bearer","expires_in":3600}`

// tokenServer is a local token endpoint that counts the requests it gets.
type tokenServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newTokenServer(tb testing.TB) *tokenServer {
	return newSlowTokenServer(tb, 0)
}

// newSlowTokenServer answers after delay, as an endpoint across a network
// does: a client's work after the answer is then done with its code and
// data out of the CPU's caches, as in production.
func newSlowTokenServer(tb testing.TB, delay time.Duration) *tokenServer {
	tb.Helper()
	s := &tokenServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if delay > 0 {
			time.Sleep(delay)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			http.Error(w, "not a token request", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(tokenBody))
	}))
	tb.Cleanup(s.Close)
	return s
}

// cacheDir is the compilation cache the in-process benchmarks share. run.sh
// points CCTOKEN_BENCH_CACHE at a directory it warmed; without it the
// benchmarks use one under the system temp dir, so only the first run
// compiles.
func cacheDir() string {
	if d := os.Getenv("CCTOKEN_BENCH_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "cctoken-bench-cache")
}

// presetFor lists users svc (n == 1) or u0000… (n > 1) at url.
func presetFor(url string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "preset:\n- type: oauth_client_credentials\n  url: %s/token\n  users:\n", url)
	for i := 0; i < n; i++ {
		name := "svc"
		if n > 1 {
			name = fmt.Sprintf("u%04d", i)
		}
		fmt.Fprintf(&b, "  - username: %s\n    client_id: %s-id\n    client_secret: %s-secret\n", name, name, name)
	}
	return []byte(b.String())
}

func newClient(tb testing.TB, url string) *host.Client {
	tb.Helper()
	c, err := host.New(context.Background(), presetFor(url, 1), host.WithCacheDir(cacheDir()), host.WithTimeout(10*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// peerConfig is the x/oauth2 counterpart of the preset above: same
// endpoint, same client, credentials in a Basic header as cctoken sends them.
func peerConfig(url string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:     "svc-id",
		ClientSecret: "svc-secret",
		TokenURL:     url + "/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
}

// cpuClock reports cpu-ns/op when the benchmark ends: the CPU time (user
// and system, every thread of the process: client, server, runtime) per
// operation between its call and b.StopTimer's. Other work on a shared
// machine stretches wall-clock ns/op but hardly this, so on a busy machine
// compare these. Call it right before the timed loop.
func cpuClock(b *testing.B) func() {
	start := cpuNow()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuNow() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// BenchmarkCachedToken: a token that is already cached, one caller.
func BenchmarkCachedToken(b *testing.B) {
	b.Run("cctoken", func(b *testing.B) {
		srv := newTokenServer(b)
		ctx := benchCtx(b)
		c := newClient(b, srv.URL)
		defer c.Close()
		if _, err := c.Token(ctx, "svc"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		done := cpuClock(b)
		for b.Loop() {
			if _, err := c.Token(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
		}
		done()
		b.ReportMetric(float64(srv.hits.Load()), "hits")
	})
	b.Run("x_oauth2", func(b *testing.B) {
		srv := newTokenServer(b)
		ctx := benchCtx(b)
		ts := oauth2.ReuseTokenSource(nil, peerConfig(srv.URL).TokenSource(ctx))
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		done := cpuClock(b)
		for b.Loop() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
		done()
		b.ReportMetric(float64(srv.hits.Load()), "hits")
	})
}

// BenchmarkCachedTokenOptions: a cached token asked for with an option
// (WithScopes): the host finds its memo by a key made from the options.
func BenchmarkCachedTokenOptions(b *testing.B) {
	srv := newTokenServer(b)
	ctx := benchCtx(b)
	c := newClient(b, srv.URL)
	defer c.Close()
	if _, err := c.Token(ctx, "svc", host.WithScopes("read", "write")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := cpuClock(b)
	for b.Loop() {
		if _, err := c.Token(ctx, "svc", host.WithScopes("read", "write")); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkCachedTokenParallel: the same with GOMAXPROCS callers at once.
func BenchmarkCachedTokenParallel(b *testing.B) {
	b.Run("cctoken", func(b *testing.B) {
		srv := newTokenServer(b)
		ctx := benchCtx(b)
		c := newClient(b, srv.URL)
		defer c.Close()
		if _, err := c.Token(ctx, "svc"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Token(ctx, "svc"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("x_oauth2", func(b *testing.B) {
		srv := newTokenServer(b)
		ctx := benchCtx(b)
		ts := oauth2.ReuseTokenSource(nil, peerConfig(srv.URL).TokenSource(ctx))
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ts.Token(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkTokenFetch: one token request to the server per iteration. For
// cctoken that is Invalidate then Token (three module calls: invalidate,
// token, resume; one HTTP exchange); for x/oauth2 a fresh Config.Token. The
// other sub-benchmarks split cctoken's figure: Invalidate alone, the same
// three module calls driven straight through the ABI with a canned response
// (no HTTP, no package host, no JSON of this harness's), and a bare net/http POST of the same request
// (the floor both clients share).
func BenchmarkTokenFetch(b *testing.B) {
	// Against an endpoint that answers at once, and against one that takes
	// 1 ms, as one across a network does: how much each client adds to a
	// fetch whose wait is long enough for its code to go cold (run.sh
	// prints the difference).
	for _, e := range []struct {
		suffix string
		delay  time.Duration
	}{{"", 0}, {"_endpoint_1ms", time.Millisecond}} {
		b.Run("cctoken"+e.suffix, func(b *testing.B) {
			srv := newSlowTokenServer(b, e.delay)
			ctx := benchCtx(b)
			c := newClient(b, srv.URL)
			defer c.Close()
			if _, err := c.Token(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
			timeFetches(b, srv, func() error {
				if err := c.Invalidate(ctx, "svc"); err != nil {
					return err
				}
				_, err := c.Token(ctx, "svc")
				return err
			})
		})
		b.Run("x_oauth2"+e.suffix, func(b *testing.B) {
			srv := newSlowTokenServer(b, e.delay)
			ctx := benchCtx(b)
			cfg := peerConfig(srv.URL)
			if _, err := cfg.Token(ctx); err != nil {
				b.Fatal(err)
			}
			timeFetches(b, srv, func() error {
				_, err := cfg.Token(ctx)
				return err
			})
		})
	}
	b.Run("cctoken_invalidate_only", func(b *testing.B) {
		srv := newTokenServer(b)
		ctx := benchCtx(b)
		c := newClient(b, srv.URL)
		defer c.Close()
		b.ReportAllocs()
		b.ResetTimer()
		done := cpuClock(b)
		for b.Loop() {
			if err := c.Invalidate(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
	// The module's three calls driven straight through the ABI, the
	// response body inside the resume call's JSON or after it (body_bytes,
	// as the Go host sends it).
	for _, c := range []struct {
		name   string
		resume func(task []byte) []byte
	}{
		{"guest_abi_only", resumeWithBody},
		{"guest_abi_only_body_after", resumeWithBodyAfter},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := benchCtx(b)
			g := loadedGuest(b, ctx)
			warmGuest(b, ctx, g, c.resume)
			b.ReportAllocs()
			b.ResetTimer()
			done := cpuClock(b)
			for b.Loop() {
				guestFetch(b, ctx, g, c.resume)
			}
			done()
		})
	}
	b.Run("bare_http_post", func(b *testing.B) {
		srv := newTokenServer(b)
		ctx := benchCtx(b)
		post := func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/token", strings.NewReader("grant_type=client_credentials"))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("svc-id", "svc-secret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			err = json.NewDecoder(resp.Body).Decode(&tok)
			resp.Body.Close()
			if err != nil || tok.AccessToken != accessToken {
				b.Fatal("bad token response", err)
			}
		}
		post()
		b.ReportAllocs()
		b.ResetTimer()
		done := cpuClock(b)
		for b.Loop() {
			post()
		}
		done()
	})
}

// timeFetches times fetch, one token request each, with its allocations,
// CPU time and the endpoint's hits per operation.
func timeFetches(b *testing.B, srv *tokenServer, fetch func() error) {
	b.ReportAllocs()
	srv.hits.Store(0)
	b.ResetTimer()
	done := cpuClock(b)
	for b.Loop() {
		if err := fetch(); err != nil {
			b.Fatal(err)
		}
	}
	done()
	b.ReportMetric(float64(srv.hits.Load())/float64(b.N), "hits/op")
}

const coldCallers = 1000

// BenchmarkColdCallers: coldCallers goroutines ask a client with an empty
// cache for the same token at once. hits/round is the most token requests
// the server saw in any round (the goal is 1); ns/op is the time from
// releasing the callers until the last has its token. Setting up the client
// and the goroutines is not timed.
func BenchmarkColdCallers(b *testing.B) {
	run := func(b *testing.B, get func(srv *tokenServer) (func() error, func())) {
		srv := newTokenServer(b)
		var maxHits, failures int64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			srv.hits.Store(0)
			token, done := get(srv)
			start := make(chan struct{})
			var ready, wg sync.WaitGroup
			var failed atomic.Int64
			for j := 0; j < coldCallers; j++ {
				ready.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					ready.Done()
					<-start
					if err := token(); err != nil {
						failed.Add(1)
					}
				}()
			}
			ready.Wait()
			b.StartTimer()
			close(start)
			wg.Wait()
			b.StopTimer()
			maxHits = max(maxHits, srv.hits.Load())
			failures += failed.Load()
			done()
		}
		b.ReportMetric(float64(maxHits), "hits/round")
		b.ReportMetric(float64(failures), "failures")
	}
	b.Run("cctoken", func(b *testing.B) {
		ctx := benchCtx(b)
		run(b, func(srv *tokenServer) (func() error, func()) {
			c := newClient(b, srv.URL)
			return func() error { _, err := c.Token(ctx, "svc"); return err }, func() { c.Close() }
		})
	})
	b.Run("x_oauth2", func(b *testing.B) {
		ctx := benchCtx(b)
		run(b, func(srv *tokenServer) (func() error, func()) {
			ts := oauth2.ReuseTokenSource(nil, peerConfig(srv.URL).TokenSource(ctx))
			return func() error { _, err := ts.Token(); return err }, func() {}
		})
	})
}

// guest drives the embedded module through the ABI of wasm/ABI.md, without
// package host, so the benchmark can look at the instance's linear memory.
type guest struct {
	rt     wazero.Runtime
	mod    api.Module
	buffer api.Function
	call   api.Function
}

type guestAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	Task   uint64          `json:"task"`
	HTTP   *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
		Body   string `json:"body"`
	} `json:"http"`
	Env []string `json:"env"`
}

func newGuest(ctx context.Context) (*guest, error) {
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir())
	if err != nil {
		return nil, err
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache))
	fail := func(err error) (*guest, error) { rt.Close(ctx); return nil, err }
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(err)
	}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader)
	bin, err := embed.Binary()
	if err != nil {
		return fail(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, bin, cfg)
	if err != nil {
		return fail(err)
	}
	g := &guest{rt: rt, mod: mod, buffer: mod.ExportedFunction("cctoken_buffer"), call: mod.ExportedFunction("cctoken_call")}
	if g.buffer == nil || g.call == nil {
		return fail(fmt.Errorf("module lacks cctoken_buffer or cctoken_call"))
	}
	return g, nil
}

func (g *guest) close(ctx context.Context) { g.rt.Close(ctx) }

// loadedGuest is a module instance driven straight through the ABI, with
// the one-user benchmark preset loaded; it is closed when b ends.
func loadedGuest(b *testing.B, ctx context.Context) *guest {
	g, err := newGuest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.close(context.Background()) })
	if _, _, err := g.run(ctx, map[string]any{"op": "load", "text": string(presetFor("http://127.0.0.1:1", 1))}, ""); err != nil {
		b.Fatal(err)
	}
	return g
}

// The calls of a fetch, written and their answers read without
// encoding/json, so that a figure is the module's (and wazero's), not this
// harness's.
var (
	invalidateCall = []byte(`{"op":"invalidate","user":"svc"}`)
	tokenCall      = []byte(`{"op":"token","user":"svc"}`)
)

// resumeWithBody resumes task with the token response as a JSON string.
func resumeWithBody(task []byte) []byte {
	return append(append([]byte(`{"op":"resume","task":`), task...),
		`,"response":{"status":200,"header":{"Content-Type":"application/json"},"body":"{\"access_token\":\"`+accessToken+`\",\"token_type\":\"Bearer\",\"expires_in\":3600}"}}`...)
}

// resumeWithBodyAfter resumes task with the token response after the
// call's JSON text (body_bytes), as the Go host sends it.
func resumeWithBodyAfter(task []byte) []byte {
	return append(append(append([]byte(`{"op":"resume","task":`), task...),
		`,"response":{"status":200,"header":{"Content-Type":"application/json"},"body_bytes":`+strconv.Itoa(len(tokenBody))+`}}`...), tokenBody...)
}

// guestToken makes the token call after an invalidate and returns the
// resume call that answers it.
func guestToken(b *testing.B, ctx context.Context, g *guest, resume func(task []byte) []byte) []byte {
	if out, err := g.raw(ctx, invalidateCall); err != nil || !bytes.HasPrefix(out, []byte(`{"result"`)) {
		b.Fatalf("invalidate: %s %v", out, err)
	}
	out, err := g.raw(ctx, tokenCall)
	task, ok := taskOf(out)
	if err != nil || !ok {
		b.Fatalf("token: %s %v", out, err)
	}
	return resume(task)
}

// guestResume sends a resume call and checks that the token came back.
func guestResume(b *testing.B, ctx context.Context, g *guest, call []byte) {
	if out, err := g.raw(ctx, call); err != nil || !bytes.Contains(out, []byte(accessToken)) {
		b.Fatalf("resume: %.200s %v", out, err)
	}
}

// warmGuest makes 2000 fetches before a benchmark times any: until the
// guest's heap has reached its size, its memory grows, and wazero's own
// memory (this harness does not use the host's allocator) copies itself at
// every growth, which no fetch of a warmed-up client pays.
func warmGuest(b *testing.B, ctx context.Context, g *guest, resume func(task []byte) []byte) {
	for range 2000 {
		guestFetch(b, ctx, g, resume)
	}
}

// guestFetch is one token fetch's three calls: invalidate, token, resume.
func guestFetch(b *testing.B, ctx context.Context, g *guest, resume func(task []byte) []byte) {
	guestResume(b, ctx, g, guestToken(b, ctx, g, resume))
}

// raw sends one call and returns a copy of the answer as it is.
func (g *guest) raw(ctx context.Context, body []byte) ([]byte, error) {
	res, err := g.buffer.Call(ctx, uint64(len(body)))
	if err != nil {
		return nil, err
	}
	if !g.mod.Memory().Write(uint32(res[0]), body) {
		return nil, fmt.Errorf("buffer out of range")
	}
	if res, err = g.call.Call(ctx, uint64(len(body))); err != nil {
		return nil, err
	}
	out, ok := g.mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
	if !ok {
		return nil, fmt.Errorf("answer out of range")
	}
	return bytes.Clone(out), nil
}

// taskOf finds the task number of an http effect, as digits.
func taskOf(out []byte) ([]byte, bool) {
	_, rest, ok := bytes.Cut(out, []byte(`{"task":`))
	if !ok {
		return nil, false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	return rest[:n], n > 0
}

// do sends one call and decodes the answer.
func (g *guest) do(ctx context.Context, req map[string]any) (*guestAnswer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	out, err := g.raw(ctx, body)
	if err != nil {
		return nil, err
	}
	var a guestAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// run drives req to its result, answering every HTTP effect with a canned
// 200 token response carrying tok, and returns how many HTTP effects it saw.
func (g *guest) run(ctx context.Context, req map[string]any, tok string) (json.RawMessage, int, error) {
	a, err := g.do(ctx, req)
	exchanges := 0
	for i := 0; err == nil && i < 10; i++ {
		switch {
		case a.Error != nil:
			return nil, exchanges, fmt.Errorf("module error: %s", a.Error)
		case a.HTTP != nil:
			exchanges++
			resp := map[string]any{
				"status": 200,
				"header": map[string]string{"Content-Type": "application/json"},
				"body":   `{"access_token":"` + tok + `","token_type":"Bearer","expires_in":3600}`,
			}
			a, err = g.do(ctx, map[string]any{"op": "resume", "task": a.Task, "response": resp})
		case a.Env != nil:
			a, err = g.do(ctx, map[string]any{"op": "resume", "task": a.Task, "env": map[string]string{}})
		default:
			return a.Result, exchanges, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("no result after 10 effects")
	}
	return nil, exchanges, err
}

const memoryUsers = 1000

// BenchmarkGuestMemory: linear memory of one module instance right after
// instantiation, after loading a preset of memoryUsers users, and after
// one token is cached for each of them (64-character tokens). ns/op is the
// whole sequence.
func BenchmarkGuestMemory(b *testing.B) {
	ctx := benchCtx(b)
	preset := presetFor("http://127.0.0.1:1", memoryUsers)
	var initial, loaded, full uint32
	for i := 0; i < b.N; i++ {
		g, err := newGuest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		initial = g.mod.Memory().Size()
		if _, _, err := g.run(ctx, map[string]any{"op": "load", "text": string(preset)}, ""); err != nil {
			b.Fatal(err)
		}
		loaded = g.mod.Memory().Size()
		for u := 0; u < memoryUsers; u++ {
			tok := fmt.Sprintf("tok-u%04d-%s", u, accessToken[:55])
			res, n, err := g.run(ctx, map[string]any{"op": "token", "user": fmt.Sprintf("u%04d", u)}, tok)
			if err != nil {
				b.Fatal(err)
			}
			if n != 1 || !strings.Contains(string(res), tok) {
				b.Fatalf("user %d: %d exchanges, result %.80s", u, n, res)
			}
		}
		// Every token is now served from the module's cache.
		if _, n, err := g.run(ctx, map[string]any{"op": "token", "user": "u0000"}, "x"); err != nil || n != 0 {
			b.Fatalf("cached token: %d exchanges, %v", n, err)
		}
		full = g.mod.Memory().Size()
		g.close(ctx)
	}
	b.ReportMetric(float64(initial), "initial_bytes")
	b.ReportMetric(float64(loaded), "loaded_bytes")
	b.ReportMetric(float64(full), "full_bytes")
}

// BenchmarkTransport: one API request through the RoundTripper with a
// cached Bearer token, the API answering 200 (the path where the module's
// answer step is not called); x/oauth2's Transport is the peer.
func BenchmarkTransport(b *testing.B) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	b.Cleanup(api.Close)
	run := func(b *testing.B, hc *http.Client) {
		get := func() {
			resp, err := hc.Get(api.URL + "/v1/things")
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		get()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			get()
		}
	}
	b.Run("cctoken", func(b *testing.B) {
		srv := newTokenServer(b)
		c := newClient(b, srv.URL)
		defer c.Close()
		run(b, &http.Client{Transport: c.Transport("svc", nil)})
	})
	b.Run("x_oauth2", func(b *testing.B) {
		srv := newTokenServer(b)
		run(b, peerConfig(srv.URL).Client(benchCtx(b)))
	})
}
