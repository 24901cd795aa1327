package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
)

// tokenProxy forwards token requests to the authorization server and
// records what crossed it: every access token issued and the credentials
// sent, so that the test knows every token the CLI processes were given.
type tokenProxy struct {
	*httptest.Server
	mu          sync.Mutex
	tokens      map[string]bool
	authHeaders []string
	bodies      []string
}

func newTokenProxy(t testing.TB, target string) *tokenProxy {
	t.Helper()
	p := &tokenProxy{tokens: map[string]bool{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		p.mu.Lock()
		p.bodies = append(p.bodies, string(body))
		if a := r.Header.Get("Authorization"); a != "" {
			p.authHeaders = append(p.authHeaders, a)
		}
		p.mu.Unlock()
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target, bytes.NewReader(body))
		if err != nil {
			http.Error(w, "proxy", http.StatusBadGateway)
			return
		}
		for _, h := range []string{"Authorization", "Content-Type", "Accept"} {
			if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, "proxy", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(out, &tr) == nil && tr.AccessToken != "" {
			p.mu.Lock()
			p.tokens[tr.AccessToken] = true
			p.mu.Unlock()
		}
		for _, h := range []string{"Content-Type", "WWW-Authenticate", "Cache-Control", "Pragma"} {
			if v := resp.Header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *tokenProxy) issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ts []string
	for tok := range p.tokens {
		ts = append(ts, tok)
	}
	return ts
}

func (p *tokenProxy) has(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens[tok]
}

// sawSecret reports whether a request carried secret for clientID, in an
// Authorization header or in the body.
func (p *tokenProxy) sawSecret(clientID, secret string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.authHeaders {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "Basic "))
		if err != nil {
			continue
		}
		id, sec, _ := strings.Cut(string(raw), ":")
		id, _ = url.QueryUnescape(id)
		sec, _ = url.QueryUnescape(sec)
		if id == clientID && sec == secret {
			return true
		}
	}
	for _, b := range p.bodies {
		f, _ := url.ParseQuery(b)
		if f.Get("client_id") == clientID && f.Get("client_secret") == secret {
			return true
		}
	}
	return false
}

// lockedBuffer is a log sink written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// output is one piece of text the canary must not appear in.
type output struct {
	name string
	text string
}

// TestCanary runs the whole flow, the failures included, with a
// recognisable secret, and checks that neither that secret nor any token
// that was issued appears in a log line, an error or the command's output
// (save the token that `cctoken token` prints, which is its job).
func TestCanary(t *testing.T) {
	t.Parallel()
	srv := mainServer.get(t)
	api := newProtectedAPI(t, srv)
	proxy := newTokenProxy(t, srv.TokenURL)
	ctx := testCtx(t)
	dir := t.TempDir()
	const envName = "CCTOKEN_E2E_CANARY_POST_SECRET"
	env := func(name string) (string, bool) {
		if name == envName {
			return canarySecret, true
		}
		return "", false
	}

	goodUsers := `  - username: canary-basic
    client_id: canary-basic
    client_secret: ` + strconv.Quote(canarySecret) + `
    scopes: [read]
    headers: {X-Team: canary}
  - username: canary-post
    client_id: canary-post
    client_secret: ${env:` + envName + `}
    auth_method: client_secret_post
    scopes: [read, write]
`
	failingUsers := `  - username: canary-wrong
    client_id: canary-basic
    client_secret: ` + strconv.Quote(wrongCanarySecret) + `
    scopes: [read]
  - username: canary-badscope
    client_id: canary-post
    client_secret: ` + strconv.Quote(canarySecret) + `
    auth_method: client_secret_post
    scopes: [read, not-a-declared-scope]
`
	head := "preset:\n- type: oauth_client_credentials\n  url: " + proxy.URL + "/token\n  users:\n"
	good := head + goodUsers
	full := head + goodUsers + failingUsers
	// The secret where it does not belong: every issue must name the field
	// without repeating the value.
	q := strconv.Quote(canarySecret)
	broken := "preset:\n- type: oauth_client_credentials\n  url: " + q + "\n  refresh_skew: " + q + "\n  users:\n" +
		"  - username: canary-basic\n" +
		"    client_id: canary-basic\n" +
		"    client_secret: " + q + "\n" +
		"    client-secret: " + q + "\n" +
		"    auth_method: " + q + "\n" +
		"    scopes: [" + q + "]\n" +
		"    headers: {Authorization: " + strconv.Quote("Basic "+canarySecret) + ", X-Ok: " + strconv.Quote(canarySecret+"\x01") + "}\n" +
		"    cookies: {session: " + q + "}\n" +
		"  - username: canary-basic\n" +
		"    client_id: " + q + "\n" +
		"    client_secret: {nested: " + q + "}\n"
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodFile, fullFile, brokenFile := write("good.yaml", good), write("full.yaml", full), write("broken.yaml", broken)

	var outs []output
	add := func(name, text string) { outs = append(outs, output{name, text}) }

	// --- The host, logging at Debug.
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	jsonLogs := &lockedBuffer{}
	jsonLogger := slog.New(slog.NewJSONHandler(jsonLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, []byte(full), host.WithLogger(logger), host.WithEnv(env))

	users, _ := json.Marshal(c.Users())
	add("Users()", string(users))
	var hostTokens []string
	for _, u := range []struct{ user, clientID, scope string }{
		{"canary-basic", canaryBasicClient.ID, "read"},
		{"canary-post", canaryPostClient.ID, "read write"},
	} {
		tok, err := c.Token(ctx, u.user)
		if err != nil {
			t.Fatalf("Token(%s): %v", u.user, err)
		}
		hostTokens = append(hostTokens, tok.AccessToken)
		if active, clientID, scope := srv.Introspect(t, tok.AccessToken, introspector); !active || clientID != u.clientID || scope != u.scope {
			t.Errorf("%s: introspection active=%v client_id=%q scope=%q", u.user, active, clientID, scope)
		}
		// Printing or logging a token by mistake, as a pointer or a value.
		add("fmt "+u.user, fmt.Sprintf("%v|%+v|%#v|%s|%q", tok, tok, tok, tok, tok))
		add("fmt value "+u.user, fmt.Sprintf("%v|%+v|%#v|%s", *tok, *tok, *tok, *tok))
		logger.Info("token by mistake", "token", tok, "value", *tok)
		jsonLogger.Info("token by mistake", "token", tok, "value", *tok)
		h, err := c.Header(ctx, u.user)
		if err != nil || h.Get("Authorization") != "Bearer "+tok.AccessToken {
			t.Errorf("Header(%s) = %v", u.user, err)
		}
	}
	for _, u := range []struct{ user, code string }{{"canary-wrong", "invalid_client"}, {"canary-badscope", "invalid_scope"}} {
		_, err := c.Token(ctx, u.user)
		var he *host.Error
		if !errors.As(err, &he) || he.Code != u.code {
			t.Fatalf("Token(%s) = %v, want %s", u.user, err, u.code)
		}
		b, _ := json.Marshal(he)
		add("error "+u.user, fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, b))
		logger.Error("token failed", "error", err)
		jsonLogger.Error("token failed", "error", err)
	}
	// The transport: a good call, and one the API keeps refusing (after
	// which the transport has dropped the token and fetched another).
	hc := &http.Client{Transport: c.Transport("canary-basic", nil), Timeout: 10 * time.Second}
	for _, path := range []string{"/", "/always-401"} {
		resp, err := hc.Get(api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		add("transport "+path, resp.Status+" "+string(body))
		if want := map[string]int{"/": 200, "/always-401": 401}[path]; resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, want)
		}
	}
	if err := c.Invalidate(ctx, "canary-post"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(ctx, "canary-post"); err != nil {
		t.Fatal(err)
	}
	_, err := host.New(ctx, []byte(broken), host.WithCacheDir(cacheDir), host.WithLogger(logger))
	var he *host.Error
	if !errors.As(err, &he) || he.Code != "invalid_preset" {
		t.Fatalf("New(broken) = %v", err)
	}
	b, _ := json.Marshal(he)
	add("New(broken)", fmt.Sprintf("%v|%#v|%s", err, err, b))
	issues, err := host.Lint(ctx, []byte(broken), host.WithCacheDir(cacheDir))
	if err != nil || len(issues) < 8 {
		t.Errorf("Lint(broken) = %d issues, %v; want every problem", len(issues), err)
	}
	add("Lint(broken)", fmt.Sprint(issues))

	// --- The command line.
	cliEnv := []string{envName + "=" + canarySecret}
	r := runCLI(t, cliEnv, "", "token", goodFile, "--user", "canary-basic")
	if r.code != 0 || r.stderr != "" || !regexp.MustCompile(`^[A-Za-z0-9_\-.~+/=]+\n$`).MatchString(r.stdout) {
		t.Errorf("token: exit %d, stdout %d bytes, stderr %q; want exactly the token", r.code, len(r.stdout), r.stderr)
	}
	printed := strings.TrimSuffix(r.stdout, "\n")
	if !proxy.has(printed) {
		t.Errorf("token printed something that is not an issued token")
	}
	add("token stderr", r.stderr)
	cliRuns := [][]string{
		{"token", goodFile, "--user", "canary-post", "-v"}, // stdout is the token, checked below
		{"token", fullFile, "--user", "canary-wrong"},
		{"token", fullFile, "--user", "canary-badscope", "-v"},
		{"validate", goodFile},
		{"validate", fullFile},
		{"validate", fullFile, "--json", "-v"},
		{"request", goodFile, "--user", "canary-basic", api.URL + "/"},
		{"request", goodFile, "--user", "canary-post", "-v", "-X", "PATCH", "-H", "X-Trace: 1", "-d", `{"x":1}`, api.URL + "/items"},
		{"request", goodFile, "--user", "canary-basic", api.URL + "/always-401"},
		{"request", fullFile, "--user", "canary-wrong", api.URL + "/"},
		{"lint", goodFile},
		{"lint", brokenFile},
		{"validate", brokenFile},
		{"token", "-", "--user", "canary-basic"}, // the broken preset on stdin
	}
	wantCode := []int{0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1}
	results := make([]cliResult, len(cliRuns))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i, args := range cliRuns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			stdin := ""
			if args[1] == "-" {
				stdin = broken
			}
			results[i] = runCLI(t, cliEnv, stdin, args...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		name := "cctoken " + strings.Join(cliRuns[i], " ")
		if r.code != wantCode[i] {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", name, r.code, wantCode[i], r.stdout, r.stderr)
		}
		if i == 0 {
			if !proxy.has(strings.TrimSpace(r.stdout)) {
				t.Errorf("%s printed something that is not an issued token", name)
			}
			if !strings.Contains(r.stderr, "token fetched") {
				t.Errorf("%s: -v logged nothing: %q", name, r.stderr)
			}
		} else {
			add(name+" stdout", r.stdout)
		}
		add(name+" stderr", r.stderr)
	}
	if r := results[5]; r.code == 1 {
		var v struct {
			Users []struct {
				User string `json:"user"`
				OK   bool   `json:"ok"`
				Code string `json:"code"`
			} `json:"users"`
			OK, Failed int
		}
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.OK != 2 || v.Failed != 2 || len(v.Users) != 4 || v.Users[2].Code != "invalid_client" || v.Users[3].Code != "invalid_scope" {
			t.Errorf("validate --json: %v\n%s", err, r.stdout)
		}
	}
	if r := results[11]; !strings.Contains(r.stdout, brokenFile+":") || !strings.Contains(r.stdout, "problems in "+brokenFile) {
		t.Errorf("lint broken: %s", r.stdout)
	}

	add("host text log", logs.String())
	add("host JSON log", jsonLogs.String())
	if !strings.Contains(logs.String(), "token fetched") || !strings.Contains(logs.String(), "token request failed") {
		t.Errorf("the host logged too little to be a useful canary:\n%s", logs.String())
	}

	// The failure paths really sent the canary secrets to the server.
	if !proxy.sawSecret(canaryBasicClient.ID, wrongCanarySecret) {
		t.Error("the wrong canary secret never reached the server")
	}
	if !proxy.sawSecret(canaryPostClient.ID, canarySecret) || !proxy.sawSecret(canaryBasicClient.ID, canarySecret) {
		t.Error("the canary secret never reached the server with both methods")
	}

	// Everything that must not appear anywhere.
	type secretText struct{ kind, s string }
	forbidden := []secretText{{"the canary prefix", "CANARY-SECRET"}, {"part of the secret", "5e1f0a9c"}, {"part of the wrong secret", "77b2e4d1"},
		{"the form-encoded secret", url.QueryEscape(canarySecret)}, {"the path-encoded secret", url.PathEscape(canarySecret)}}
	proxy.mu.Lock()
	for _, a := range proxy.authHeaders {
		forbidden = append(forbidden, secretText{"Basic credentials", strings.TrimPrefix(a, "Basic ")})
	}
	proxy.mu.Unlock()
	tokens := append(proxy.issued(), api.seen()...)
	tokens = append(tokens, hostTokens...)
	if len(proxy.issued()) < 10 {
		t.Errorf("only %d tokens issued; the flow did not run", len(proxy.issued()))
	}
	for _, tok := range tokens {
		forbidden = append(forbidden, secretText{"a token", tok})
		if len(tok) >= 32 {
			forbidden = append(forbidden, secretText{"a token's start", tok[:16]}, secretText{"a token's end", tok[len(tok)-16:]})
		}
	}
	redact := func(s string) string {
		for _, f := range forbidden {
			if f.s != "" {
				s = strings.ReplaceAll(s, f.s, "<"+f.kind+">")
			}
		}
		return s
	}
	for _, o := range outs {
		for _, f := range forbidden {
			if f.s != "" && strings.Contains(o.text, f.s) {
				t.Errorf("%s leaks %s:\n%s", o.name, f.kind, redact(o.text))
				break
			}
		}
	}
	if testing.Verbose() {
		for _, o := range outs {
			t.Logf("== %s\n%s", o.name, redact(o.text))
		}
	}
}
