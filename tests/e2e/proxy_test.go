package e2e

// cctoken proxy as a real process (the built command) in front of a real
// API that checks tokens with node-oidc-provider's introspection.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cctoken/cctoken/internal/redistest"
	"github.com/cctoken/cctoken/tests/oidctest"
)

var (
	proxyClient      = oidctest.Client{ID: "e2e-proxy", Secret: "proxy-secret-CANARY-7f3a", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	proxyWrongClient = oidctest.Client{ID: "e2e-proxy-wrong", Secret: "proxy-right-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	proxyLoadClient  = oidctest.Client{ID: "e2e-proxy-load", Secret: "proxy-load-secret-CANARY", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	proxyServer      = &lazyServer{opts: oidctest.Options{
		Clients:           []oidctest.Client{introspector, proxyClient, proxyWrongClient, proxyLoadClient},
		AccessTokenTTL:    300,
		StrictAuthMethods: true,
	}}
)

// wrongSecret is what the preset gives proxyWrongClient.
const wrongSecret = "proxy-WRONG-secret-CANARY"

// echoAPI is a resource server that accepts a bearer token only when the
// authorization server says it is active, and answers with what it was
// sent (header names and the values of a few).
type echoAPI struct {
	*httptest.Server
	mu      sync.Mutex
	tokens  []string
	arrived chan string // paths of /slow requests, as they arrive
	release chan struct{}
}

func newEchoAPI(t *testing.T, srv *oidctest.Server, elsewhere string) *echoAPI {
	api := &echoAPI{arrived: make(chan string, 64), release: make(chan struct{})}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		api.mu.Lock()
		api.tokens = append(api.tokens, tok)
		api.mu.Unlock()
		active, clientID, _, err := introspect(r.Context(), srv, tok)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if !active {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/away":
			http.Redirect(w, r, elsewhere+"/stolen", http.StatusFound)
			return
		case "/v1/here":
			http.Redirect(w, r, "/v1/landed", http.StatusFound)
			return
		case "/v1/slow":
			api.arrived <- r.URL.Path
			<-api.release
		}
		n, _ := io.Copy(io.Discard, r.Body)
		var names []string
		for k := range r.Header {
			names = append(names, k)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "hop")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": clientID, "method": r.Method, "uri": r.URL.RequestURI(), "body_bytes": n,
			"headers": names, "team": r.Header.Get("X-Team"), "cookie": r.Header.Get("Cookie"), "keep": r.Header.Get("X-Keep"),
		})
	}))
	t.Cleanup(api.Close)
	return api
}

func (a *echoAPI) lastToken() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokens[len(a.tokens)-1]
}

// proxyProc is a running cctoken proxy (or keep).
type proxyProc struct {
	cmd     *exec.Cmd
	addr    string // http://HOST:PORT or unix:/path
	metrics string // http://HOST:PORT, when --metrics was given
	lines   chan string
	stderr  *lockedBuffer
	done    chan error
}

// startCLI starts a long-running cctoken command and waits for its
// "listening on" (or, for keep, "metrics on") line.
func startCLI(t *testing.T, env []string, args ...string) *proxyProc {
	t.Helper()
	cmd := exec.Command(cctokenBinary(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "cctoken-e2e-xdg-cache"))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proxyProc{cmd: cmd, lines: make(chan string, 256), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	wantListen := args[0] == "proxy"
	bound := time.After(90 * time.Second) // a safety bound, not an assertion on speed
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("cctoken %v ended before listening: %s", args, p.stderr.String())
			}
			if s, ok := strings.CutPrefix(line, "metrics on "); ok {
				p.metrics = strings.TrimSuffix(s, "/metrics")
				if !wantListen {
					return p
				}
			}
			if s, ok := strings.CutPrefix(line, "listening on "); ok {
				p.addr = s
				return p
			}
		case <-bound:
			t.Fatalf("cctoken %v did not start: %s", args, p.stderr.String())
		}
	}
}

// waitLine waits for a stdout line starting with prefix.
func (p *proxyProc) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	bound := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("no %q line: %s", prefix, p.stderr.String())
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-bound:
			t.Fatalf("no %q line: %s", prefix, p.stderr.String())
		}
	}
}

type proxyAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, c *http.Client, method, url string, body io.Reader, hdr map[string]string) proxyAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := proxyAnswer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &a.body)
	return a
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	// Written beside and renamed over, as deployment tools do, so a
	// watcher never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func routesJSON(routes ...map[string]any) []byte {
	b, _ := json.Marshal(routes)
	return b
}

func TestProxyRules(t *testing.T) {
	srv := proxyServer.get(t)
	var stolen atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer other.Close()
	api := newEchoAPI(t, srv, other.URL)

	// An HTTPS upstream that speaks HTTP/2, trusted through SSL_CERT_FILE.
	h2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"proto":%q}`, r.Proto)
	}))
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	writeFile(t, ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h2.Certificate().Raw}))

	preset := filepath.Join(dir, "preset.json")
	writeFile(t, preset, presetJSON(srv.TokenURL, nil,
		presetUser{name: "svc", client: proxyClient, extra: map[string]any{"headers": map[string]string{"X-Team": "blue"}, "cookies": map[string]string{"tenant": "acme"}}},
		presetUser{name: "wrong", client: proxyWrongClient, secret: wrongSecret}))
	routes := filepath.Join(dir, "routes.json")
	writeFile(t, routes, routesJSON(
		map[string]any{"path": "/api", "user": "svc", "upstream": api.URL + "/v1", "strip_prefix": true},
		map[string]any{"path": "/wrong", "user": "wrong", "upstream": api.URL},
		map[string]any{"path": "/h2", "user": "svc", "upstream": h2.URL},
	))
	before := srv.TokenRequests(proxyClient.ID)
	p := startCLI(t, []string{"SSL_CERT_FILE=" + ca}, "proxy", preset, "--routes", routes, "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--access-log")

	// The caller's credentials and hop-by-hop headers are dropped; the
	// user's token, headers and cookies are added.
	a := call(t, noFollow, "POST", p.addr+"/api/items?q=query-CANARY", strings.NewReader("hello"), map[string]string{
		"Authorization": "Bearer caller-CANARY", "Cookie": "sid=caller-CANARY", "DPoP": "caller-proof", "X-Cctoken-Key": "caller-key",
		"Connection": "X-Private", "X-Private": "p", "X-Keep": "kept", "Proxy-Authorization": "Basic eA==",
	})
	if a.status != 200 || a.body["client_id"] != proxyClient.ID || a.body["uri"] != "/v1/items?q=query-CANARY" || a.body["body_bytes"] != float64(5) {
		t.Fatalf("signed request: %d %s", a.status, a.raw)
	}
	if a.body["team"] != "blue" || a.body["cookie"] != "tenant=acme" || a.body["keep"] != "kept" {
		t.Fatalf("user headers: %s", a.raw)
	}
	for _, h := range a.body["headers"].([]any) {
		switch h {
		case "Dpop", "X-Cctoken-Key", "X-Private", "Proxy-Authorization":
			t.Errorf("the upstream received %s", h)
		}
	}
	if a.header.Get("X-Upstream-Hop") != "" {
		t.Errorf("a hop-by-hop answer header came back")
	}

	// A body of unknown length beyond the replay limit streams through.
	big := bytes.Repeat([]byte("x"), 3<<20)
	if a = call(t, noFollow, "PUT", p.addr+"/api/big", io.MultiReader(bytes.NewReader(big)), nil); a.status != 200 || a.body["body_bytes"] != float64(len(big)) {
		t.Fatalf("streamed body: %d %s", a.status, a.raw)
	}

	// Unrouted: 403 no_route.
	if a = call(t, noFollow, "GET", p.addr+"/elsewhere", nil, nil); a.status != 403 || a.body["error"] != "no_route" {
		t.Fatalf("unrouted: %d %s", a.status, a.raw)
	}

	// A redirect to another origin: 403, and nothing reaches it.
	if a = call(t, http.DefaultClient, "GET", p.addr+"/api/away", nil, nil); a.status != 403 || a.body["error"] != "redirect_not_allowed" || stolen.Load() != 0 {
		t.Fatalf("redirect away: %d %s; the other origin saw %d requests", a.status, a.raw, stolen.Load())
	}

	// A redirect on the same origin is followed, signed again (the
	// module's answer step), and the caller gets where it landed.
	if a = call(t, noFollow, "GET", p.addr+"/api/here", nil, nil); a.status != 200 || a.body["uri"] != "/v1/landed" || a.body["client_id"] != proxyClient.ID {
		t.Fatalf("same-origin redirect: %d %s", a.status, a.raw)
	}

	// The token is revoked: the API answers invalid_token, the proxy gets a
	// new token and sends the request once more.
	if n := srv.TokenRequests(proxyClient.ID) - before; n != 1 {
		t.Fatalf("%d token requests before the revocation, want 1", n)
	}
	revoke(t, srv, api.lastToken(), proxyClient)
	if a = call(t, noFollow, "PATCH", p.addr+"/api/after-revoke", strings.NewReader("again"), nil); a.status != 200 || a.body["body_bytes"] != float64(5) {
		t.Fatalf("after revocation: %d %s", a.status, a.raw)
	}
	if n := srv.TokenRequests(proxyClient.ID) - before; n != 2 {
		t.Fatalf("%d token requests after the revocation, want 2", n)
	}

	// A wrong secret: 502 with the OAuth error, nothing forwarded.
	a = call(t, noFollow, "GET", p.addr+"/wrong/x", nil, nil)
	if a.status != 502 || a.body["error"] != "invalid_client" || a.body["user"] != "wrong" || a.body["token_endpoint_status"] != float64(401) {
		t.Fatalf("wrong secret: %d %s", a.status, a.raw)
	}

	// HTTP/2 to an HTTPS upstream.
	if a = call(t, noFollow, "GET", p.addr+"/h2/x", nil, nil); a.status != 200 || a.body["proto"] != "HTTP/2.0" {
		t.Fatalf("http/2 upstream: %d %s", a.status, a.raw)
	}

	// Metrics, health and readiness, with no secret, token or query.
	m := call(t, noFollow, "GET", p.metrics+"/metrics", nil, nil)
	for _, want := range []string{
		`cctoken_token_requests_total{outcome="ok",user="svc"} 2`,
		`cctoken_token_requests_total{outcome="invalid_client",user="wrong"}`,
		`cctoken_token_request_duration_seconds_bucket{user="svc"`,
		`cctoken_token_expiry_seconds{user="svc"}`,
		`cctoken_proxy_requests_total{route="/api",status_class="2xx"} 4`,
		`cctoken_proxy_requests_total{route="/api",status_class="4xx"} 1`,
		`cctoken_proxy_requests_total{route="(none)",status_class="4xx"} 1`,
		`cctoken_proxy_requests_total{route="/wrong",status_class="5xx"} 1`,
		`cctoken_proxy_request_duration_seconds_count{route="/h2"} 1`,
	} {
		if !strings.Contains(m.raw, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if h := call(t, noFollow, "GET", p.metrics+"/healthz", nil, nil); h.status != 200 {
		t.Errorf("healthz: %d", h.status)
	}
	// svc has a token; wrong's token endpoint answered (with a refusal).
	if r := call(t, noFollow, "GET", p.metrics+"/readyz", nil, nil); r.status != 200 {
		t.Errorf("readyz: %d %s", r.status, r.raw)
	}
	api.mu.Lock()
	tokens := append([]string(nil), api.tokens...)
	api.mu.Unlock()
	logs := p.stderr.String()
	for _, secret := range append(tokens, proxyClient.Secret, wrongSecret, "CANARY", "query", "blue", "acme") {
		if secret == "" {
			continue
		}
		if strings.Contains(m.raw, secret) || strings.Contains(logs, secret) {
			t.Errorf("metrics or the access log hold %q", secret)
		}
	}
	if !strings.Contains(logs, `"route":"/api"`) || !strings.Contains(logs, `"status":403`) {
		t.Errorf("access log: %s", logs)
	}
}

func TestProxyInboundKey(t *testing.T) {
	srv := proxyServer.get(t)
	api := newEchoAPI(t, srv, "http://127.0.0.1:1")
	dir, preset, routes := svcProxyFiles(t, srv, map[string]any{"user": "svc", "upstream": api.URL})

	// Off loopback without a key, or with a short one: refused, saying why.
	for _, env := range [][]string{nil, {"CCTOKEN_INBOUND_KEY=short"}} {
		r := runCLI(t, env, "", "proxy", preset, "--routes", routes, "--listen", "0.0.0.0:0")
		if r.code != 2 || !strings.Contains(r.stderr, "CCTOKEN_INBOUND_KEY") || !strings.Contains(r.stderr, "16 characters") {
			t.Fatalf("env %v: exit %d: %s", env, r.code, r.stderr)
		}
	}
	// A bad route table: refused, naming the field.
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, []byte(`[{"user":"svc","upstream":"ftp://x"}]`))
	if r := runCLI(t, nil, "", "proxy", preset, "--routes", bad); r.code != 1 || !strings.Contains(r.stderr, "[0].upstream") {
		t.Fatalf("bad routes: exit %d: %s", r.code, r.stderr)
	}

	// With a key set it is required on loopback too, so the check is
	// exercised without the test listening anywhere but 127.0.0.1 (the
	// off-loopback rule itself is inboundKey's table test).
	key := "inbound-key-0123456789"
	p := startCLI(t, []string{"CCTOKEN_INBOUND_KEY=" + key}, "proxy", preset, "--routes", routes, "--listen", "127.0.0.1:0")
	url := p.addr + "/x"
	for _, tc := range []struct {
		key    string
		status int
	}{{"", 401}, {key + "x", 401}, {strings.ToUpper(key), 401}, {key, 200}} {
		hdr := map[string]string{}
		if tc.key != "" {
			hdr["X-Cctoken-Key"] = tc.key
		}
		if a := call(t, noFollow, "GET", url, nil, hdr); a.status != tc.status {
			t.Errorf("key %q: %d %s", tc.key, a.status, a.raw)
		}
	}
}

func TestProxyUnixSocket(t *testing.T) {
	srv := proxyServer.get(t)
	api := newEchoAPI(t, srv, "http://127.0.0.1:1")
	dir, preset, routes := svcProxyFiles(t, srv, map[string]any{"user": "svc", "upstream": api.URL})
	sock := filepath.Join(dir, "cctoken.sock")
	p := startCLI(t, nil, "proxy", preset, "--routes", routes, "--listen", "unix:"+sock)
	if p.addr != "unix:"+sock {
		t.Fatalf("listening on %s", p.addr)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v: %v", fi.Mode(), err)
	}
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	if a := call(t, c, "GET", "http://cctoken/over-the-socket", nil, nil); a.status != 200 || a.body["uri"] != "/over-the-socket" {
		t.Fatalf("over the socket: %d %s", a.status, a.raw)
	}
}

func TestProxyReloadUnderLoad(t *testing.T) {
	srv := proxyServer.get(t)
	api := newEchoAPI(t, srv, "http://127.0.0.1:1")
	dir := t.TempDir()
	preset := filepath.Join(dir, "preset.json")
	presetV := func(team string) []byte {
		return presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: proxyLoadClient, extra: map[string]any{"headers": map[string]string{"X-Team": team}}})
	}
	writeFile(t, preset, presetV("v0"))
	routes := filepath.Join(dir, "routes.json")
	routesV := func(n int) []byte {
		rs := []map[string]any{{"path": "/a", "user": "svc", "upstream": api.URL}}
		for i := range n {
			rs = append(rs, map[string]any{"path": fmt.Sprintf("/extra%d", i), "user": "svc", "upstream": api.URL})
		}
		return routesJSON(rs...)
	}
	writeFile(t, routes, routesV(0))
	p := startCLI(t, nil, "proxy", preset, "--routes", routes, "--listen", "127.0.0.1:0", "--watch")

	// Bounded load: 4 workers, each stops after 400 requests or once the
	// reloads are done.
	var stop atomic.Bool
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			for i := 0; i < 400 && !stop.Load(); i++ {
				resp, err := c.Get(p.addr + "/a/load")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprint(err, resp))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := 1; i <= 3; i++ {
		writeFile(t, routes, routesV(i))
		p.waitLine(t, fmt.Sprintf("reloaded %s: %d routes", routes, i+1))
		writeFile(t, preset, presetV(fmt.Sprintf("v%d", i)))
		p.waitLine(t, "reloaded "+preset)
	}
	// A broken table is refused; the last good one keeps serving.
	writeFile(t, routes, []byte(`[{"user":"svc"}]`))
	for i := 0; i < 600 && !strings.Contains(p.stderr.String(), "was not reloaded"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.stderr.String(), "[0].upstream") {
		t.Errorf("the broken table was not refused by name: %s", p.stderr.String())
	}
	if a := call(t, noFollow, "GET", p.addr+"/extra2/x", nil, nil); a.status != 200 || a.body["team"] != "v3" {
		t.Errorf("after the refused table: %d %s", a.status, a.raw)
	}
	// So is a broken preset.
	writeFile(t, preset, []byte("preset: [{type: oauth_client_credentials}]"))
	for i := 0; i < 600 && strings.Count(p.stderr.String(), "was not reloaded") < 2; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.stderr.String(), preset+" was not reloaded") {
		t.Errorf("the broken preset was not refused: %s", p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), proxyLoadClient.Secret) {
		t.Errorf("stderr holds the secret")
	}
	if a := call(t, noFollow, "GET", p.addr+"/extra1/y", nil, nil); a.status != 200 || a.body["team"] != "v3" {
		t.Errorf("after the refused preset: %d %s", a.status, a.raw)
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("%d requests failed (first: %v), %d succeeded", failed.Load(), firstFailure.Load(), ok.Load())
	}
	t.Logf("%d requests during 6 reloads, none failed", ok.Load())
}

func TestProxyGracefulShutdown(t *testing.T) {
	srv := proxyServer.get(t)
	api := newEchoAPI(t, srv, "http://127.0.0.1:1")
	_, preset, routes := svcProxyFiles(t, srv, map[string]any{"user": "svc", "upstream": api.URL + "/v1", "strip_prefix": true, "path": "/"})
	p := startCLI(t, nil, "proxy", preset, "--routes", routes, "--listen", "127.0.0.1:0")

	const n = 3
	results := make(chan proxyAnswer, n)
	for range n {
		go func() {
			resp, err := http.Get(p.addr + "/slow")
			if err != nil {
				results <- proxyAnswer{raw: err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- proxyAnswer{status: resp.StatusCode, raw: string(b)}
		}()
	}
	for range n {
		<-api.arrived
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	// Once the proxy stops accepting, the requests under way may finish.
	host := strings.TrimPrefix(p.addr, "http://")
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", host)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	close(api.release)
	for range n {
		if a := <-results; a.status != 200 {
			t.Errorf("a request under way at SIGTERM: %d %s", a.status, a.raw)
		}
	}
	if err := <-p.done; err != nil {
		t.Fatalf("exit: %v: %s", err, p.stderr.String())
	}
	p.waitLine(t, "stopped")
}

func TestKeepMetrics(t *testing.T) {
	srv := proxyServer.get(t)
	dir := t.TempDir()
	preset := filepath.Join(dir, "preset.json")
	writeFile(t, preset, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: proxyClient}))
	p := startCLI(t, nil, "keep", preset, "--metrics", "127.0.0.1:0")
	p.waitLine(t, "svc: token until")
	if r := call(t, noFollow, "GET", p.metrics+"/readyz", nil, nil); r.status != 200 {
		t.Errorf("readyz: %d %s", r.status, r.raw)
	}
	m := call(t, noFollow, "GET", p.metrics+"/metrics", nil, nil)
	if !strings.Contains(m.raw, `cctoken_token_requests_total{outcome="ok",user="svc"} 1`) || !strings.Contains(m.raw, `cctoken_token_expiry_seconds{user="svc"}`) {
		t.Errorf("keep metrics: %s", m.raw)
	}
	if strings.Contains(m.raw, proxyClient.Secret) {
		t.Errorf("the secret is in the metrics")
	}
}

// DPoP through the proxy: a proof per request for the exact upstream
// method and URL, and the resource server's nonce retried once.
func TestProxyDPoP(t *testing.T) {
	srv := dpopNonceServer.get(t)
	rs := oidctest.StartResourceServer(t, srv, true)
	dir := t.TempDir()
	preset := filepath.Join(dir, "preset.json")
	writeFile(t, preset, jwtPreset(srv.TokenURL, map[string]any{"resource": []string{srv.Resource}}, map[string]any{
		"username": "svc", "client_id": dpopClient.ID, "client_secret": dpopClient.Secret, "scopes": []string{"read"}, "dpop": true,
	}))
	routes := filepath.Join(dir, "routes.json")
	writeFile(t, routes, routesJSON(map[string]any{"path": "/rs", "user": "svc", "upstream": rs.URL, "strip_prefix": true}))
	p := startCLI(t, nil, "proxy", preset, "--routes", routes, "--listen", "127.0.0.1:0")
	for _, tc := range []struct{ method, path string }{{"GET", "/rs/v1/things?page=2"}, {"GET", "/rs/v1/things/7"}, {"POST", "/rs/v1/things"}} {
		var body io.Reader
		if tc.method == "POST" {
			body = strings.NewReader(`{"n":1}`)
		}
		if a := call(t, noFollow, tc.method, p.addr+tc.path, body, map[string]string{"DPoP": "caller-proof", "Authorization": "DPoP caller"}); a.status != 200 || a.body["ok"] != true {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, a.status, a.raw)
		}
	}
	st := rs.Stats(t)
	if st.Accepted != 3 || st.Rejected["the proof must carry the current nonce"] != 1 || len(st.Rejected) != 1 {
		t.Fatalf("resource server: %+v", st)
	}
}

// Replicas with --store share one token.
func TestProxyStore(t *testing.T) {
	srv := proxyServer.get(t)
	r := redistest.Start(t)
	api := newEchoAPI(t, srv, "http://127.0.0.1:1")
	dir := t.TempDir()
	preset := filepath.Join(dir, "preset.json")
	writeFile(t, preset, presetJSON(srv.TokenURL, nil, presetUser{name: "shared", client: proxyLoadClient}))
	routes := filepath.Join(dir, "routes.json")
	writeFile(t, routes, routesJSON(map[string]any{"user": "shared", "upstream": api.URL}))
	before := srv.TokenRequests(proxyLoadClient.ID)
	store := fmt.Sprintf("redis://%s/0", r.Addr)
	var ps []*proxyProc
	for range 3 {
		ps = append(ps, startCLI(t, nil, "proxy", preset, "--routes", routes, "--listen", "127.0.0.1:0", "--store", store))
	}
	for _, p := range ps {
		if a := call(t, noFollow, "GET", p.addr+"/x", nil, nil); a.status != 200 || a.body["client_id"] != proxyLoadClient.ID {
			t.Fatalf("%s: %d %s", p.addr, a.status, a.raw)
		}
	}
	if n := srv.TokenRequests(proxyLoadClient.ID) - before; n != 1 {
		t.Fatalf("3 replicas made %d token requests, want 1", n)
	}
}

// svcProxyFiles writes, in a new directory, a preset whose one user svc is
// proxyClient at srv, and a route table of route; it returns the
// directory and both paths.
func svcProxyFiles(t *testing.T, srv *oidctest.Server, route map[string]any) (dir, preset, routes string) {
	t.Helper()
	dir = t.TempDir()
	preset = filepath.Join(dir, "preset.json")
	writeFile(t, preset, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: proxyClient}))
	routes = filepath.Join(dir, "routes.json")
	writeFile(t, routes, routesJSON(route))
	return dir, preset, routes
}
