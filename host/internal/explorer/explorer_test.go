package explorer

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host/embed"
)

// upstream is a target the relay may forward to; it records what it got.
type upstream struct {
	*httptest.Server
	mu  sync.Mutex
	got []*http.Request
	bod []string
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, r.Clone(context.Background()))
		u.bod = append(u.bod, string(b))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

func presetFor(tokenURL string) []byte {
	return []byte(`preset:
- type: oauth_client_credentials
  url: ` + tokenURL + `
  users:
  - username: svc
    client_id: id
    client_secret: ${env:SVC_SECRET}
`)
}

const self = "127.0.0.1:4000" // the Host the tests address the explorer by

// post sends a same-page POST to the explorer, as its page would.
func post(t *testing.T, h http.Handler, path string, body any, mod ...func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	r.Host = self
	r.Header.Set("Origin", "http://"+self)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Content-Type", "application/json")
	if s, ok := h.(*Server); ok {
		r.Header.Set(SecretHeader, s.Secret())
	}
	for _, m := range mod {
		m(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// get sends a GET to the explorer with its secret, as its page would.
func get(s *Server, path string, mod ...func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Host = self
	r.Header.Set(SecretHeader, s.Secret())
	for _, m := range mod {
		m(r)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

type envelope struct {
	Status     int               `json:"status"`
	Headers    map[string]string `json:"headers"`
	BodyBase64 string            `json:"body_base64"`
	Error      string            `json:"error"`
	Message    string            `json:"message"`
}

func decode(t *testing.T, w *httptest.ResponseRecorder) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("answer %d is not JSON: %q", w.Code, w.Body.String())
	}
	return e
}

func mustNew(t *testing.T, preset []byte, origins []string, opts ...Option) *Server {
	t.Helper()
	s, err := New(preset, origins, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRelayForwardsToThePresetsTokenURL(t *testing.T) {
	up := newUpstream(t)
	s := mustNew(t, presetFor(up.URL+"/token"), nil)

	w := post(t, s, "/relay", map[string]any{
		"method": "POST", "url": up.URL + "/token",
		"headers": map[string]string{"Authorization": "Basic aWQ6c2VjcmV0", "Content-Type": "application/x-www-form-urlencoded", "Host": "evil.example"},
		"body":    "grant_type=client_credentials",
	})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	e := decode(t, w)
	body, _ := base64.StdEncoding.DecodeString(e.BodyBase64)
	if e.Status != http.StatusTeapot || string(body) != `{"path":"/token"}` || e.Headers["x-upstream"] != "yes" {
		t.Fatalf("envelope %+v body %q", e, body)
	}
	got := up.got[0]
	if got.Method != "POST" || got.Header.Get("Authorization") != "Basic aWQ6c2VjcmV0" || up.bod[0] != "grant_type=client_credentials" {
		t.Fatalf("upstream got %s %v %q", got.Method, got.Header, up.bod[0])
	}
	if got.Host != strings.TrimPrefix(up.URL, "http://") || got.Header.Get("Origin") != "" {
		t.Fatalf("upstream got Host %q Origin %q", got.Host, got.Header.Get("Origin"))
	}

	// Token URLs take POSTs only, and only that URL: not another path of
	// the same origin.
	for _, target := range []map[string]any{
		{"method": "GET", "url": up.URL + "/token"},
		{"method": "POST", "url": up.URL + "/admin"},
		{"method": "POST", "url": up.URL + "/token/../admin"},
	} {
		w := post(t, s, "/relay", target)
		if e := decode(t, w); w.Code != http.StatusForbidden || e.Error != "forbidden_target" {
			t.Errorf("%v: status %d %+v", target, w.Code, e)
		}
	}
	if n := up.requests(); n != 1 {
		t.Fatalf("upstream got %d requests, want 1", n)
	}
}

func TestRelayTakesTheTokenURLsOfAPresetThePageLoaded(t *testing.T) {
	up := newUpstream(t)
	s := mustNew(t, nil, nil)
	target := map[string]any{"method": "POST", "url": up.URL + "/oauth/token", "body": "x=1"}

	if w := post(t, s, "/relay", target); w.Code != http.StatusForbidden {
		t.Fatalf("before the preset: status %d", w.Code)
	}
	w := post(t, s, "/relay/preset", map[string]string{"text": string(presetFor(up.URL + "/oauth/token"))})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), up.URL+"/oauth/token") {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	if w := post(t, s, "/relay", target); w.Code != http.StatusOK {
		t.Fatalf("after the preset: status %d %s", w.Code, w.Body)
	}

	// A preset that does not load registers nothing and says why.
	w = post(t, s, "/relay/preset", map[string]string{"text": "preset:\n- type: oauth_client_credentials\n  url: ftp://x.example/t\n"})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"line":3`) {
		t.Fatalf("invalid preset: %d %s", w.Code, w.Body)
	}
	if strings.Contains(post(t, s, "/relay", map[string]any{"method": "POST", "url": "ftp://x.example/t"}).Body.String(), `"status"`) {
		t.Fatal("an invalid preset's URL was allowed")
	}
}

func TestRelayForwardsToAllowedOrigins(t *testing.T) {
	up := newUpstream(t)
	s := mustNew(t, nil, []string{strings.ToUpper(up.URL) + "/"})
	w := post(t, s, "/relay", map[string]any{
		"method": "DELETE", "url": up.URL + "/things/7?x=1",
		"headers":     map[string]string{"Authorization": "Bearer t0k"},
		"body_base64": base64.StdEncoding.EncodeToString([]byte{0, 1, 2}),
	})
	if w.Code != http.StatusOK || decode(t, w).Status != http.StatusTeapot {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := up.got[0]; got.Method != "DELETE" || got.URL.RequestURI() != "/things/7?x=1" || up.bod[0] != "\x00\x01\x02" {
		t.Fatalf("upstream got %s %s %q", got.Method, got.URL, up.bod[0])
	}
}

func TestRelayRefusesAnythingElse(t *testing.T) {
	up := newUpstream(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(up.URL, "http://"))
	s := mustNew(t, presetFor("http://127.0.0.1:1/token"), []string{up.URL})
	for _, target := range []string{
		"http://localhost:" + port + "/x",     // same server, another origin
		"https://127.0.0.1:" + port + "/x",    // another scheme
		"http://127.0.0.1:1/x",                // the token URL's origin, another path
		"http://u:p@127.0.0.1:" + port + "/x", // user info
		"http://169.254.169.254/latest/meta-data/",
		"file:///etc/passwd",
		"gopher://127.0.0.1:" + port + "/",
	} {
		w := post(t, s, "/relay", map[string]any{"method": "GET", "url": target})
		e := decode(t, w)
		if w.Code != http.StatusForbidden || e.Error != "forbidden_target" || e.Message == "" {
			t.Errorf("%s: status %d %+v", target, w.Code, e)
		}
	}
	if w := post(t, s, "/relay", map[string]any{"method": "GET", "url": "/relative"}); w.Code != http.StatusBadRequest {
		t.Errorf("relative URL: status %d", w.Code)
	}
	if w := post(t, s, "/relay", map[string]any{"method": "CONNECT", "url": up.URL + "/"}); w.Code != http.StatusBadRequest {
		t.Errorf("CONNECT: status %d", w.Code)
	}
	if n := up.requests(); n != 0 {
		t.Fatalf("upstream got %d requests", n)
	}
}

func TestRelayOnlyServesItsOwnPage(t *testing.T) {
	up := newUpstream(t)
	s := mustNew(t, nil, []string{up.URL})
	target := map[string]any{"method": "GET", "url": up.URL + "/"}
	cases := map[string]func(*http.Request){
		"DNS rebinding Host": func(r *http.Request) {
			r.Host = "attacker.example:4000"
			r.Header.Set("Origin", "http://attacker.example:4000")
		},
		"another site's Origin":   func(r *http.Request) { r.Header.Set("Origin", "https://attacker.example") },
		"another port's Origin":   func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:4001") },
		"no Origin":               func(r *http.Request) { r.Header.Del("Origin") },
		"cross-site fetch":        func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
		"a form's content type":   func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
		"non-loopback Host names": func(r *http.Request) { r.Host = "192.168.1.5:4000"; r.Header.Set("Origin", "http://192.168.1.5:4000") },
	}
	for name, mod := range cases {
		w := post(t, s, "/relay", target, mod)
		if w.Code != http.StatusForbidden && w.Code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: status %d %s", name, w.Code, w.Body)
		}
		if w := post(t, s, "/relay/preset", map[string]string{"text": ""}, mod); w.Code != http.StatusForbidden && w.Code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: /relay/preset status %d", name, w.Code)
		}
	}
	if n := up.requests(); n != 0 {
		t.Fatalf("upstream got %d requests", n)
	}
	// The page itself is not served under a foreign Host either.
	w := get(s, "/", func(r *http.Request) { r.Host = "attacker.example" })
	if w.Code != http.StatusForbidden {
		t.Fatalf("page under a foreign Host: %d", w.Code)
	}
}

func TestServePinsTheHost(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := mustNew(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for host, want := range map[string]int{
		"127.0.0.1:" + port: http.StatusOK,
		"localhost:" + port: http.StatusOK,
		"127.0.0.2:" + port: http.StatusForbidden, // loopback, but not this server's name
		"127.0.0.1:1":       http.StatusForbidden,
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/relay", nil)
		req.Host = host
		req.Header.Set(SecretHeader, s.Secret())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestListenRefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "10.0.0.1:8080", "127.0.0.1"} {
		if ln, err := Listen(addr); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := Listen(addr)
		if err != nil {
			t.Fatalf("Listen(%q): %v", addr, err)
		}
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("Listen(%q) listens on %v", addr, ip)
		}
		ln.Close()
	}
}

func TestNewRefusesBadOriginsAndPresets(t *testing.T) {
	for _, o := range []string{"api.example.com", "https://api.example.com/v1", "ftp://x.example", "https://u@x.example", "https://x.example?q"} {
		if _, err := New(nil, []string{o}); err == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
	if _, err := New([]byte("preset: 3"), nil); err == nil {
		t.Error("a preset that does not load was accepted")
	}
}

func TestRelayLogsNoSecrets(t *testing.T) {
	up := newUpstream(t)
	var logs bytes.Buffer
	s := mustNew(t, nil, []string{up.URL}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	post(t, s, "/relay", map[string]any{
		"method": "POST", "url": up.URL + "/p?api_key=QUERYSECRET",
		"headers": map[string]string{"Authorization": "Bearer HEADERSECRET"},
		"body":    "BODYSECRET",
	})
	post(t, s, "/relay", map[string]any{"method": "GET", "url": "http://127.0.0.1:1/?k=QUERYSECRET2", "headers": map[string]string{"Authorization": "Bearer HEADERSECRET2"}})
	if !strings.Contains(logs.String(), up.URL+"/p") {
		t.Fatalf("no log line: %q", logs.String())
	}
	for _, secret := range []string{"SECRET", "Bearer", "api_key"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds %q: %s", secret, logs.String())
		}
	}
}

func TestServesThePageTheBundleAndTheModule(t *testing.T) {
	s := mustNew(t, []byte(presetFor("https://auth.example.com/token")), nil)
	for path, ctype := range map[string]string{
		"/":                          "text/html; charset=utf-8",
		"/index.html":                "text/html; charset=utf-8",
		"/js/dist/cctoken.bundle.js": "text/javascript; charset=utf-8",
		"/host/embed/cctoken.wasm":   "application/wasm",
		"/preset":                    "text/plain; charset=utf-8",
	} {
		w := get(s, path)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ctype || w.Body.Len() == 0 {
			t.Errorf("%s: %d %q (%d bytes)", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
		if path == "/" && !strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src 'self' 'wasm-unsafe-eval' 'sha256-") {
			t.Errorf("CSP %q", w.Header().Get("Content-Security-Policy"))
		}
	}
	if w := get(s, "/../go.mod"); w.Code != http.StatusNotFound {
		t.Errorf("/../go.mod: %d", w.Code)
	}
}

func TestRelayReportsUnreachableTargets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s := mustNew(t, nil, []string{"http://" + addr})
	start := time.Now()
	w := post(t, s, "/relay", map[string]any{"url": "http://" + addr + "/"})
	if e := decode(t, w); w.Code != http.StatusBadGateway || e.Error != "upstream_unreachable" {
		t.Fatalf("status %d %+v", w.Code, e)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("took too long")
	}
}

// authServer is an authorization server with metadata: it answers its
// metadata URLs with doc (its own issuer and token endpoint unless a test
// sets them) and anything else with 418, recording the paths it was asked.
type authServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	doc   func(base string) map[string]any
}

func newAuthServer(t *testing.T, issuerPath string, doc func(base string) map[string]any) *authServer {
	t.Helper()
	a := &authServer{doc: doc}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.paths = append(a.paths, r.Method+" "+r.URL.RequestURI())
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server" + issuerPath, issuerPath + "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(a.doc("http://" + r.Host))
		default:
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *authServer) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string{}, a.paths...)
}

func issuerPreset(issuer string) []byte {
	return []byte(`preset:
- type: oauth_client_credentials
  issuer: ` + issuer + `
  users:
  - username: svc
    client_id: id
    client_secret: ${env:SVC_SECRET}
`)
}

// relayed sends one request through the relay and returns the relay's
// status and the target's, 0 when the relay did not forward it.
func relayed(t *testing.T, s http.Handler, method, target string) (int, int) {
	t.Helper()
	w := post(t, s, "/relay", map[string]any{"method": method, "url": target, "body": ""})
	e := decode(t, w)
	if w.Code == http.StatusForbidden && e.Error != "forbidden_target" {
		t.Fatalf("%s %s: %+v", method, target, e)
	}
	return w.Code, e.Status
}

func TestRelayFetchesIssuerMetadataAndLearnsTheTokenEndpoint(t *testing.T) {
	auth := newAuthServer(t, "/tenant", func(base string) map[string]any {
		return map[string]any{"issuer": base + "/tenant", "token_endpoint": base + "/tenant/oauth2/token"}
	})
	issuer := auth.URL + "/tenant"
	token := auth.URL + "/tenant/oauth2/token"
	s := mustNew(t, issuerPreset(issuer), nil)

	// Before the metadata, neither the token endpoint nor the issuer
	// itself takes a POST.
	for _, target := range []string{token, issuer, issuer + "/"} {
		if code, _ := relayed(t, s, "POST", target); code != http.StatusForbidden {
			t.Fatalf("POST %s before the metadata: status %d", target, code)
		}
	}
	// The two metadata URLs take GETs, nothing else on that host does.
	for _, target := range []string{
		auth.URL + "/.well-known/oauth-authorization-server/tenant",
		auth.URL + "/tenant/.well-known/openid-configuration",
	} {
		if code, status := relayed(t, s, "GET", target); code != http.StatusOK || status != http.StatusOK {
			t.Fatalf("GET %s: status %d, target %d", target, code, status)
		}
		if code, _ := relayed(t, s, "POST", target); code != http.StatusForbidden {
			t.Errorf("POST %s: status %d", target, code)
		}
	}
	for _, target := range []string{
		auth.URL + "/.well-known/oauth-authorization-server",
		auth.URL + "/.well-known/oauth-authorization-server/tenant?x=1",
		auth.URL + "/.well-known/oauth-authorization-server/tenant/more",
		auth.URL + "/.well-known/openid-configuration",
		auth.URL + "/tenant",
		auth.URL + "/tenant/admin",
		auth.URL + "/",
	} {
		if code, _ := relayed(t, s, "GET", target); code != http.StatusForbidden {
			t.Errorf("GET %s: status %d", target, code)
		}
	}

	// The token endpoint the metadata named now takes POSTs, and only them.
	if code, status := relayed(t, s, "POST", token); code != http.StatusOK || status != http.StatusTeapot {
		t.Fatalf("POST %s after the metadata: status %d, target %d", token, code, status)
	}
	if code, _ := relayed(t, s, "GET", token); code != http.StatusForbidden {
		t.Errorf("GET %s: status %d", token, code)
	}
	if code, _ := relayed(t, s, "POST", issuer); code != http.StatusForbidden {
		t.Errorf("POST %s (the issuer): status %d", issuer, code)
	}
	want := []string{
		"GET /.well-known/oauth-authorization-server/tenant",
		"GET /tenant/.well-known/openid-configuration",
		"POST /tenant/oauth2/token",
	}
	if got := auth.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the server got %q, want %q", got, want)
	}

	// GET /relay says so.
	w := get(s, "/relay")
	var info struct {
		TokenURLs    []string `json:"token_urls"`
		MetadataURLs []string `json:"metadata_urls"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.TokenURLs) != 1 || info.TokenURLs[0] != token || len(info.MetadataURLs) != 2 {
		t.Fatalf("GET /relay: %s", w.Body)
	}
}

func TestRelayLearnsNothingFromMetadataOfAnotherIssuer(t *testing.T) {
	for name, doc := range map[string]func(base string) map[string]any{
		"another issuer": func(base string) map[string]any {
			return map[string]any{"issuer": "https://auth.example.com", "token_endpoint": base + "/token"}
		},
		"the issuer with a terminating slash": func(base string) map[string]any {
			return map[string]any{"issuer": base + "/", "token_endpoint": base + "/token"}
		},
		"no issuer": func(base string) map[string]any {
			return map[string]any{"token_endpoint": base + "/token"}
		},
		"a relative token endpoint": func(base string) map[string]any {
			return map[string]any{"issuer": base, "token_endpoint": "/token"}
		},
		"a token endpoint of another scheme": func(base string) map[string]any {
			return map[string]any{"issuer": base, "token_endpoint": "ftp" + strings.TrimPrefix(base, "http") + "/token"}
		},
		"a token endpoint that is not a string": func(base string) map[string]any {
			return map[string]any{"issuer": base, "token_endpoint": []string{base + "/token"}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			auth := newAuthServer(t, "", doc)
			s := mustNew(t, nil, nil)
			// The page registers the preset, as it does on loading one.
			w := post(t, s, "/relay/preset", map[string]string{"text": string(issuerPreset(auth.URL))})
			if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"token_urls":["`) {
				t.Fatalf("register: %d %s", w.Code, w.Body)
			}
			for _, target := range []string{auth.URL + "/.well-known/oauth-authorization-server", auth.URL + "/.well-known/openid-configuration"} {
				if code, status := relayed(t, s, "GET", target); code != http.StatusOK || status != http.StatusOK {
					t.Fatalf("GET %s: status %d, target %d", target, code, status)
				}
			}
			if code, _ := relayed(t, s, "POST", auth.URL+"/token"); code != http.StatusForbidden {
				t.Fatalf("POST to the token endpoint: status %d", code)
			}
			if n := len(auth.requests()); n != 2 {
				t.Fatalf("the server got %q", auth.requests())
			}
		})
	}
}

// SetPreset (explore --watch) swaps the preset the page gets and the token
// URLs the relay allows; a document that does not load changes nothing.
func TestSetPresetReplacesThePresetAndItsTokenURLs(t *testing.T) {
	up := newUpstream(t)
	s := mustNew(t, presetFor(up.URL+"/old"), nil)
	relayed := func(path string) int {
		return post(t, s, "/relay", map[string]any{"method": "POST", "url": up.URL + path, "body": "grant_type=client_credentials"}).Code
	}
	served := func() string {
		return get(s, "/preset", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-origin") }).Body.String()
	}
	if relayed("/old") != http.StatusOK || relayed("/new") != http.StatusForbidden {
		t.Fatal("before: the old token URL only")
	}
	if err := s.SetPreset(context.Background(), presetFor(up.URL+"/new")); err != nil {
		t.Fatal(err)
	}
	if relayed("/new") != http.StatusOK || relayed("/old") != http.StatusForbidden {
		t.Fatal("after: the new token URL only")
	}
	if !strings.Contains(served(), up.URL+"/new") {
		t.Fatalf("GET /preset: %s", served())
	}
	if err := s.SetPreset(context.Background(), []byte("preset:\n- type: oauth_client_credentials\n  url: ftp://x/t\n")); err == nil {
		t.Fatal("a preset that does not load was taken")
	}
	if relayed("/new") != http.StatusOK || !strings.Contains(served(), up.URL+"/new") {
		t.Fatal("a refused preset changed what is served")
	}
}

// The relay learns a token endpoint only when the module would use it: a
// plain http:// endpoint on another host only for a preset that says
// insecure: true, as the module's own discovery.
func TestRelayLearnsWhatTheModuleAccepts(t *testing.T) {
	const remote = "http://auth.example.com/token"
	auth := newAuthServer(t, "", func(base string) map[string]any {
		return map[string]any{"issuer": base, "token_endpoint": remote}
	})
	for _, insecure := range []bool{false, true} {
		t.Run(fmt.Sprint("insecure ", insecure), func(t *testing.T) {
			doc := string(issuerPreset(auth.URL))
			if insecure {
				doc = strings.Replace(doc, "  issuer:", "  insecure: true\n  issuer:", 1)
			}
			s := mustNew(t, []byte(doc), nil)
			if code, status := relayed(t, s, "GET", auth.URL+"/.well-known/oauth-authorization-server"); code != http.StatusOK || status != http.StatusOK {
				t.Fatalf("metadata GET: status %d, target %d", code, status)
			}
			w := get(s, "/relay")
			if w.Code != http.StatusOK {
				t.Fatalf("GET /relay: %d %s", w.Code, w.Body)
			}
			learned := strings.Contains(w.Body.String(), `"token_urls":["`+remote+`"]`)
			if learned != insecure {
				t.Fatalf("insecure %v: GET /relay: %s", insecure, w.Body)
			}
		})
	}
}

// The module is embedded gzip-compressed: a browser (which accepts gzip)
// gets those bytes with Content-Encoding: gzip, anything else the module.
func TestServesTheModuleCompressedToWhoAcceptsIt(t *testing.T) {
	s := mustNew(t, []byte(presetFor("https://auth.example.com/token")), nil)
	for _, c := range []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"identity", false},
	} {
		w := get(s, "/host/embed/cctoken.wasm", func(r *http.Request) {
			if c.accept != "" {
				r.Header.Set("Accept-Encoding", c.accept)
			}
		})
		body := w.Body.Bytes()
		if c.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("Accept-Encoding %q: %v", c.accept, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("Accept-Encoding %q: %v", c.accept, err)
			}
		}
		if got := w.Header().Get("Content-Encoding") == "gzip"; got != c.gzip {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", c.accept, w.Header().Get("Content-Encoding"))
		}
		if w.Header().Get("Content-Length") != fmt.Sprint(w.Body.Len()) || !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: Content-Length %q for %d bytes, Vary %q", c.accept, w.Header().Get("Content-Length"), w.Body.Len(), w.Header().Get("Vary"))
		}
		size, _ := embed.Trailer()
		if !bytes.HasPrefix(body, []byte("\x00asm")) || len(body) != size {
			t.Errorf("Accept-Encoding %q: %d bytes, not the %d-byte module", c.accept, len(body), size)
		}
	}
}
