package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cctoken/cctoken/host"
)

// A small token endpoint and upstream in process: the handler's own rules
// (what it strips, adds and refuses) under fault injection. The real
// authorization server and the built command are in tests/e2e.

func tokenEndpoint(t *testing.T, hits *atomic.Int64, secret string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		_, sec, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		if sec != secret {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client","error_description":"bad client"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-CANARY-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func newHandler(t *testing.T, tokenURL string, routes string, opts ...Option) *Handler {
	t.Helper()
	preset := fmt.Sprintf(`preset:
- type: oauth_client_credentials
  url: %s
  users:
  - username: svc
    client_id: svc-id
    client_secret: svc-secret-CANARY
    headers: {X-Team: a}
    cookies: {tenant: acme}
`, tokenURL)
	c, err := host.New(context.Background(), []byte(preset), host.WithCacheDir(filepath.Join(os.TempDir(), "cctoken-host-test-cache")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	table, err := ParseRoutes([]byte(routes))
	if err != nil {
		t.Fatal(err)
	}
	return New(c, table, opts...)
}

func TestHandlerRules(t *testing.T) {
	var tokens atomic.Int64
	tokenSrv := tokenEndpoint(t, &tokens, "svc-secret-CANARY")
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	var mu sync.Mutex
	var seen []*http.Request
	var bodies []string
	refuse := atomic.Int64{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r)
		bodies = append(bodies, string(b))
		mu.Unlock()
		switch r.URL.Path {
		case "/v1/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/v1/refuse":
			if refuse.Add(1) == 1 {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "1")
		w.Header().Set("X-Api", "yes")
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
	}))
	defer api.Close()

	var events []Event
	h := newHandler(t, tokenSrv.URL+"/token", fmt.Sprintf(`[{"path":"/api","user":"svc","upstream":%q,"strip_prefix":true}]`, api.URL+"/v1"),
		WithEvents(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	proxy := httptest.NewServer(h)
	defer proxy.Close()

	do := func(method, path, body string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(method, proxy.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	last := func() (*http.Request, string) {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1], bodies[len(bodies)-1]
	}

	// Credentials and hop-by-hop headers of the caller are gone; the user's
	// are added; the path loses the prefix and keeps its query.
	resp, body := do("POST", "/api/items?q=1", "payload", map[string]string{
		"Authorization": "Bearer caller", "Cookie": "s=caller", "DPoP": "x", KeyHeader: "k",
		"Connection": "X-Private", "X-Private": "p", "X-Keep": "kept",
	})
	r, got := last()
	if resp.StatusCode != 200 || body != "POST /v1/items?q=1" || got != "payload" {
		t.Fatalf("got %d %q, upstream body %q", resp.StatusCode, body, got)
	}
	if r.Header.Get("Authorization") != "Bearer tok-CANARY-1" || r.Header.Get("X-Team") != "a" || r.Header.Get("Cookie") != "tenant=acme" ||
		r.Header.Get("Dpop") != "" || r.Header.Get(KeyHeader) != "" || r.Header.Get("X-Private") != "" || r.Header.Get("X-Keep") != "kept" {
		t.Fatalf("upstream saw %v", r.Header)
	}
	if resp.Header.Get("X-Hop") != "" || resp.Header.Get("X-Api") != "yes" {
		t.Fatalf("answer headers %v", resp.Header)
	}

	// No route.
	if resp, body = do("GET", "/other", "", nil); resp.StatusCode != 403 || !strings.Contains(body, `"no_route"`) {
		t.Fatalf("unrouted: %d %s", resp.StatusCode, body)
	}
	// A redirect to another origin: 403, and nothing reaches it.
	if resp, body = do("GET", "/api/away", "", nil); resp.StatusCode != 403 || !strings.Contains(body, `"redirect_not_allowed"`) || elsewhere.Load() != 0 {
		t.Fatalf("away: %d %s, other origin saw %d", resp.StatusCode, body, elsewhere.Load())
	}
	// invalid_token: a new token, the request (and its body) sent again.
	if resp, body = do("PUT", "/api/refuse", "again", nil); resp.StatusCode != 200 || tokens.Load() != 2 {
		t.Fatalf("refused: %d %s after %d token requests", resp.StatusCode, body, tokens.Load())
	}
	if r, got = last(); got != "again" || r.Header.Get("Authorization") != "Bearer tok-CANARY-2" {
		t.Fatalf("retry carried %q with %q", got, r.Header.Get("Authorization"))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"200 svc /api", "403  ", "403 svc /api", "200 svc /api"}
	for i, e := range events {
		if s := fmt.Sprintf("%d %s %s", e.Status, e.User, e.Route); i >= len(want) || s != want[i] {
			t.Errorf("event %d: %q, want %q", i, s, want)
		}
	}
}

func TestHandlerKeyAndTokenFailure(t *testing.T) {
	var tokens atomic.Int64
	tokenSrv := tokenEndpoint(t, &tokens, "another-secret")
	var reached atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer api.Close()
	h := newHandler(t, tokenSrv.URL+"/token", fmt.Sprintf(`[{"user":"svc","upstream":%q}]`, api.URL), WithInboundKey("0123456789abcdef"))
	proxy := httptest.NewServer(h)
	defer proxy.Close()
	for _, tc := range []struct {
		key    string
		status int
		code   string
	}{
		{"", 401, "unauthorized"},
		{"0123456789abcdeX", 401, "unauthorized"},
		{"0123456789abcdef0", 401, "unauthorized"},
		{"0123456789abcdef", 502, "invalid_client"},
	} {
		req, _ := http.NewRequest("GET", proxy.URL+"/x", nil)
		if tc.key != "" {
			req.Header.Set(KeyHeader, tc.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body["error"] != tc.code {
			t.Errorf("key %q: %d %v", tc.key, resp.StatusCode, body)
		}
		if tc.status == 502 && (body["user"] != "svc" || body["token_endpoint_status"] != float64(401) || strings.Contains(fmt.Sprint(body), "CANARY")) {
			t.Errorf("token failure body %v", body)
		}
	}
	if reached.Load() != 0 {
		t.Fatalf("the upstream was reached %d times", reached.Load())
	}
}
