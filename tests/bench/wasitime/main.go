// Command wasitime times `cctoken token` for one user as the standalone
// WASI command under wasirun and as the native command, against local token
// endpoints on 127.0.0.1 (plain http, and https with httptest's certificate
// passed as the CA), and prints "name value unit" lines: medians of -runs
// processes each, and the ratio WASI/native. tests/bench/wasi.sh builds the
// programs and runs it.
//
// Besides the wall time of the whole process it prints, for each, the time
// the endpoint saw from accepting the connection to having read the request
// (server_ms): the part of a run that is the token request itself, where a
// stall on the wire (Nagle's algorithm, say) would show.
package main

import (
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	wasirun := flag.String("wasirun", "", "the wasirun binary")
	wasm := flag.String("wasm", "", "build/cctoken-wasi.wasm")
	native := flag.String("native", "", "the native cctoken binary")
	runs := flag.Int("runs", 5, "processes per figure")
	flag.Parse()
	if *wasirun == "" || *wasm == "" || *native == "" {
		fmt.Fprintln(os.Stderr, "usage: wasitime -wasirun BIN -wasm FILE -native BIN [-runs N]")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "cctoken-wasitime-")
	check(err)
	defer os.RemoveAll(dir)

	plain := newEndpoint(false)
	defer plain.srv.Close()
	tlsEP := newEndpoint(true)
	defer tlsEP.srv.Close()
	ca := filepath.Join(dir, "ca.pem")
	check(os.WriteFile(ca, pemCert(tlsEP.srv.Certificate().Raw), 0o600))

	preset := func(name, url string) string {
		p := filepath.Join(dir, name)
		check(os.WriteFile(p, []byte("preset:\n- type: oauth_client_credentials\n  url: "+url+"/token\n  users:\n"+
			"  - username: svc\n    client_id: bench\n    client_secret: ${env:BENCH_SECRET}\n"), 0o600))
		return p
	}
	httpPreset, httpsPreset := preset("http.yaml", plain.srv.URL), preset("https.yaml", tlsEP.srv.URL)
	xdg := filepath.Join(dir, "xdg")

	wasiCmd := func(args ...string) *exec.Cmd {
		a := append([]string{"--dir", dir, "--env", "BENCH_SECRET=s3cret", *wasm, "--"}, args...)
		return exec.Command(*wasirun, a...)
	}
	nativeCmd := func(env []string, args ...string) *exec.Cmd {
		c := exec.Command(*native, args...)
		c.Env = append(os.Environ(), append([]string{"BENCH_SECRET=s3cret", "XDG_CACHE_HOME=" + xdg}, env...)...)
		return c
	}
	// The native command compiles the module once into its cache; what a
	// user sees from then on is the warm start.
	run(nativeCmd(nil, "lint", httpPreset))

	type job struct {
		name string
		ep   *endpoint
		cmd  func() *exec.Cmd
	}
	jobs := []job{
		{"native_token_http", plain, func() *exec.Cmd { return nativeCmd(nil, "token", httpPreset) }},
		{"wasi_token_http", plain, func() *exec.Cmd { return wasiCmd("token", httpPreset) }},
		{"native_token_https", tlsEP, func() *exec.Cmd { return nativeCmd([]string{"SSL_CERT_FILE=" + ca}, "token", httpsPreset) }},
		{"wasi_token_https", tlsEP, func() *exec.Cmd { return wasiCmd("token", httpsPreset, "--ca-file", ca) }},
		{"wasi_lint", nil, func() *exec.Cmd { return wasiCmd("lint", httpPreset) }},
	}
	wall := map[string]float64{}
	server := map[string]float64{}
	for _, j := range jobs {
		fmt.Fprintf(os.Stderr, "== %s (%d runs)\n", j.name, *runs)
		var ws, ss []float64
		for range *runs {
			if j.ep != nil {
				j.ep.reset()
			}
			start := time.Now()
			run(j.cmd())
			ws = append(ws, ms(time.Since(start)))
			if j.ep != nil {
				ss = append(ss, ms(j.ep.latency()))
			}
		}
		wall[j.name] = median(ws)
		fmt.Printf("%s_wall_ms %.1f ms\n", j.name, wall[j.name])
		if j.ep != nil {
			server[j.name] = median(ss)
			fmt.Printf("%s_server_ms %.2f ms\n", j.name, server[j.name])
		}
	}
	for _, p := range []string{"http", "https"} {
		fmt.Printf("wasi_token_%s_wall_ratio_vs_native %.2f ratio\n", p, wall["wasi_token_"+p]/wall["native_token_"+p])
	}
}

// endpoint is a token endpoint that notes when its last connection was
// accepted and when the request on it had been read.
type endpoint struct {
	srv      *httptest.Server
	mu       sync.Mutex
	accepted map[string]time.Time
	took     time.Duration
}

func newEndpoint(useTLS bool) *endpoint {
	e := &endpoint{accepted: map[string]time.Time{}}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		e.mu.Lock()
		e.took = time.Since(e.accepted[r.RemoteAddr])
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"bench-token-0123456789abcdef","token_type":"Bearer","expires_in":3600}`)
	}))
	e.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.mu.Lock()
			e.accepted[c.RemoteAddr().String()] = time.Now()
			e.mu.Unlock()
		}
	}
	if useTLS {
		e.srv.EnableHTTP2 = true // offered, as most servers do
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	return e
}

func (e *endpoint) reset() {
	e.mu.Lock()
	e.took = -1
	e.mu.Unlock()
}

func (e *endpoint) latency() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.took < 0 {
		fmt.Fprintln(os.Stderr, "wasitime: the endpoint saw no request")
		os.Exit(1)
	}
	return e.took
}

func run(c *exec.Cmd) {
	out, err := c.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasitime: %s: %v\n%s", strings.Join(c.Args, " "), err, out)
		os.Exit(1)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasitime:", err)
		os.Exit(1)
	}
}
