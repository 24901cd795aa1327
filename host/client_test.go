package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer is a small in-process token endpoint for fault injection.
type tokenServer struct {
	*httptest.Server
	hits    atomic.Int64
	handler atomic.Value // http.HandlerFunc
}

func newTokenServer(t *testing.T, h http.HandlerFunc) *tokenServer {
	t.Helper()
	s := &tokenServer{}
	s.handler.Store(h)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.handler.Load().(http.HandlerFunc)(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tokenServer) set(h http.HandlerFunc) { s.handler.Store(h) }

func jsonToken(tok string, expiresIn int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d}`, tok, expiresIn)
	}
}

func presetFor(url string, extra string) []byte {
	return []byte(fmt.Sprintf(`preset:
- type: oauth_client_credentials
  url: %s/token
  users:
  - username: svc
    client_id: svc-id
    client_secret: svc-secret-CANARY
    headers: {X-Team: a}
    cookies: {tenant: acme}
%s`, url, extra))
}

// testCache is one compilation cache for the whole test binary, so the
// module is compiled once, not once per test.
var testCache = filepath.Join(os.TempDir(), "cctoken-host-test-cache")

func newClient(t *testing.T, preset []byte, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithCacheDir(testCache), WithTimeout(2 * time.Second)}, opts...)
	c, err := New(context.Background(), preset, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTokenHeadersAndCache(t *testing.T) {
	var seen http.Header
	var form string
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		form = string(b)
		jsonToken("tok-1", 3600)(w, r)
	})
	c := newClient(t, presetFor(srv.URL, ""))
	ctx := context.Background()
	tok, err := c.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok-1" || tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 50*time.Minute {
		t.Fatalf("token = %+v", tok)
	}
	if seen.Get("X-Team") != "a" || seen.Get("Cookie") != "tenant=acme" || !strings.HasPrefix(seen.Get("Authorization"), "Basic ") {
		t.Errorf("token request headers = %v", seen)
	}
	if form != "grant_type=client_credentials" {
		t.Errorf("token request body = %q", form)
	}
	for i := 0; i < 100; i++ {
		if _, err := c.Token(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("token endpoint hit %d times, want 1", n)
	}
	h, err := c.Header(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Authorization") != "Bearer tok-1" || h.Get("X-Team") != "a" || h.Get("Cookie") != "tenant=acme" {
		t.Errorf("Header = %v", h)
	}
	if s := fmt.Sprint(tok) + fmt.Sprintf("%#v", tok); strings.Contains(s, "tok-1") {
		t.Errorf("printing a token shows it: %s", s)
	}
}

func TestConcurrentColdCallersShareOneRequest(t *testing.T) {
	release := make(chan struct{})
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		jsonToken("tok", 3600)(w, r)
	})
	c := newClient(t, presetFor(srv.URL, ""))
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Token(context.Background(), "svc")
			if err == nil && tok.AccessToken != "tok" {
				err = errors.New("wrong token")
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("%d cold callers made %d token requests, want 1", n, got)
	}
}

func TestRefreshAheadServesOldTokenMeanwhile(t *testing.T) {
	var count atomic.Int64
	gate := make(chan struct{})
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := count.Add(1)
		if n == 2 {
			<-gate // hold the background refresh
		}
		jsonToken(fmt.Sprintf("tok-%d", n), 4)(w, r)
	})
	// skew 1s, refresh_ahead 0.5: use_until at 3 s, refresh from 1.5 s.
	c := newClient(t, presetFor(srv.URL, "  refresh_skew: 1s\n  refresh_ahead: 0.5\n"))
	ctx := context.Background()
	if tok, _ := c.Token(ctx, "svc"); tok == nil || tok.AccessToken != "tok-1" {
		t.Fatalf("first token = %v", tok)
	}
	time.Sleep(1700 * time.Millisecond)
	start := time.Now()
	tok, err := c.Token(ctx, "svc")
	if err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("during refresh-ahead want the old token at once, got %v %v", tok, err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("caller waited %v during refresh-ahead", d)
	}
	close(gate)
	waitFor(t, func() bool { tok, _ := c.Token(ctx, "svc"); return tok != nil && tok.AccessToken == "tok-2" })
	if n := count.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition not met within 4s")
}

func TestStaleIfError(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok-1", 4))
	c := newClient(t, presetFor(srv.URL, "  refresh_skew: 1s\n  refresh_ahead: 0.3\n"))
	ctx := context.Background()
	if _, err := c.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	srv.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(503)
	})
	time.Sleep(1200 * time.Millisecond) // past refresh_at (0.9 s)
	c.Token(ctx, "svc")                 // starts the background refresh, which fails
	waitFor(t, func() bool { return srv.hits.Load() == 2 })
	time.Sleep(2200 * time.Millisecond) // past use_until (3 s), before expiry (4 s)
	tok, err := c.Token(ctx, "svc")
	if err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("with the endpoint down and the token valid, want the old token; got %v, %v", tok, err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("Retry-After 30 not honoured: %d requests", n)
	}
}

func TestFaults(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5<<20)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		code    string
	}{
		{"500", status(500, "text/plain", "oops"), "http_status"},
		{"502", status(502, "", ""), "http_status"},
		{"503 retry-after", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
		}, "http_status"},
		{"429 retry-after", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		}, "http_status"},
		{"html", status(200, "text/html", "<html><body>login</body></html>"), "invalid_response"},
		{"truncated json", status(200, "application/json", `{"access_token":"tok","tok`), "invalid_response"},
		{"5 MiB body", func(w http.ResponseWriter, r *http.Request) { w.Write(big) }, "too_large"},
		{"never finishes", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, "timeout"},
		{"connection reset", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, "network"},
		{"missing access_token", status(200, "application/json", `{"token_type":"Bearer"}`), "invalid_response"},
		{"missing token_type", status(200, "application/json", `{"access_token":"tok"}`), "invalid_response"},
		{"token_type mac", status(200, "application/json", `{"access_token":"tok","token_type":"mac"}`), "unsupported_token_type"},
		{"invalid_client", status(401, "application/json", `{"error":"invalid_client","error_description":"bad svc-secret-CANARY"}`), "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTokenServer(t, tc.handler)
			var logs bytes.Buffer
			c := newClient(t, presetFor(srv.URL, ""), WithTimeout(time.Second),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			_, err := c.Token(context.Background(), "svc")
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("want *Error, got %v", err)
			}
			if he.Code != tc.code {
				t.Errorf("code = %q, want %q (%s)", he.Code, tc.code, he.Message)
			}
			if strings.HasSuffix(tc.name, "retry-after") && time.Until(he.RetryAt()) < 100*time.Second {
				t.Errorf("retry_at = %v, want ~120 s ahead", he.RetryAt())
			}
			b, _ := json.Marshal(he)
			for _, s := range []string{err.Error(), string(b), logs.String()} {
				if strings.Contains(s, "CANARY") || strings.Contains(s, "svc-secret") {
					t.Errorf("secret leaked: %s", s)
				}
			}
		})
	}
}

func status(code int, ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func TestTransportRetriesOnInvalidToken(t *testing.T) {
	var n atomic.Int64
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		jsonToken(fmt.Sprintf("tok-%d", n.Add(1)), 3600)(w, r)
	})
	var calls []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, r.Header.Get("Authorization")+" "+string(body)+" "+r.Header.Get("Cookie"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer api.Close()
	c := newClient(t, presetFor(srv.URL, ""))
	hc := &http.Client{Transport: c.Transport("svc", nil)}
	req, _ := http.NewRequest("POST", api.URL, strings.NewReader("payload"))
	req.Header.Set("Authorization", "Bearer smuggled")
	req.Header.Set("Cookie", "mine=1")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	want := []string{"Bearer tok-1 payload mine=1; tenant=acme", "Bearer tok-2 payload mine=1; tenant=acme"}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("API saw %q, want %q", calls, want)
	}
}

func TestUnknownUserAndBadPreset(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok", 60))
	c := newClient(t, presetFor(srv.URL, ""))
	var he *Error
	if _, err := c.Token(context.Background(), "nobody"); !errors.As(err, &he) || he.Code != "unknown_user" {
		t.Errorf("unknown user: %v", err)
	}
	_, err := New(context.Background(), []byte("preset:\n- type: oauth_client_credentials\n  url: ftp://x\n  users: []\n"), WithCacheDir(testCache))
	if !errors.As(err, &he) || he.Code != "invalid_preset" || len(he.Issues) < 2 {
		t.Fatalf("bad preset: %v", err)
	}
	issues, err := Lint(context.Background(), []byte("preset:\n- type: oauth_client_credentials\n  url: ftp://x\n  users: []\n"), WithCacheDir(testCache))
	if err != nil || len(issues) != len(he.Issues) {
		t.Errorf("Lint = %v, %v; want the same %d issues as New", issues, err, len(he.Issues))
	}
}

func TestEnvOnlyNamedVariablesAreRead(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok", 60))
	var asked []string
	lookup := func(name string) (string, bool) {
		asked = append(asked, name)
		return "from-env", name == "SVC_SECRET"
	}
	preset := []byte(strings.Replace(string(presetFor(srv.URL, "")), "svc-secret-CANARY", "${env:SVC_SECRET}", 1))
	newClient(t, preset, WithEnv(lookup))
	if fmt.Sprint(asked) != "[SVC_SECRET]" {
		t.Errorf("looked up %v, want only SVC_SECRET", asked)
	}
	_, err := New(context.Background(), preset, WithCacheDir(testCache), WithEnv(func(string) (string, bool) { return "", false }))
	var he *Error
	if !errors.As(err, &he) || he.Code != "invalid_preset" || !strings.Contains(he.Message, "SVC_SECRET") {
		t.Errorf("missing variable: %v", err)
	}
}

func TestInstancesGetRealRandomness(t *testing.T) {
	ids := map[string]bool{}
	for i := 0; i < 2; i++ {
		inst, err := instantiate(context.Background(), testCache)
		if err != nil {
			t.Fatal(err)
		}
		a, err := inst.do(context.Background(), call{Op: "version"})
		inst.close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Instance string `json:"instance"`
		}
		json.Unmarshal(a.Result, &v)
		if v.Instance == "" {
			t.Fatal("no instance id")
		}
		ids[v.Instance] = true
	}
	if len(ids) != 2 {
		t.Fatal("two instances drew the same random id: the module's random source is deterministic")
	}
}
