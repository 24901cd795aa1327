// Package e2e runs cctoken end to end: the real wasm module, the Go host and
// the cctoken command against node-oidc-provider (tests/oidctest).
//
// One authorization server serves the whole test binary; every test uses
// its own registered clients and compares request counters before and
// after, so tests can run in parallel and with -count > 1.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/tests/oidctest"
)

// cacheDir is the wazero compilation cache of this test binary, kept
// between runs so the module is compiled once.
var cacheDir = filepath.Join(os.TempDir(), "cctoken-e2e-cache")

// Clients registered at the shared server. Each test owns its clients so
// that request counters are not disturbed by tests running alongside.
var (
	introspector = oidctest.Client{ID: "e2e-introspector", Secret: "introspector-secret", AuthMethod: oidctest.AuthBasic}

	basicClient = oidctest.Client{ID: "e2e-basic", Secret: "basic-secret-1", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read", "write"}}
	postClient  = oidctest.Client{ID: "e2e-post", Secret: "post-secret-1", AuthMethod: oidctest.AuthPost, Scopes: []string{"read", "write"}}

	// Printable ASCII with every character that needs encoding somewhere.
	specialSecret      = `p+l&u%s 25:a=b c&d=e%3A`
	specialBasicClient = oidctest.Client{ID: "special basic client", Secret: specialSecret, AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	specialPostClient  = oidctest.Client{ID: "special post client", Secret: specialSecret, AuthMethod: oidctest.AuthPost, Scopes: []string{"read"}}

	errBasicClient = oidctest.Client{ID: "e2e-errors-basic", Secret: "errors-basic-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	errPostClient  = oidctest.Client{ID: "e2e-errors-post", Secret: "errors-post-secret", AuthMethod: oidctest.AuthPost, Scopes: []string{"read"}}

	cacheClient      = oidctest.Client{ID: "e2e-cache", Secret: "cache-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	coldClient       = oidctest.Client{ID: "e2e-cold", Secret: "cold-secret", AuthMethod: oidctest.AuthPost, Scopes: []string{"read"}}
	invalidateClient = oidctest.Client{ID: "e2e-invalidate", Secret: "invalidate-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	transportClient  = oidctest.Client{ID: "e2e-transport", Secret: "transport-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}

	canarySecret      = "CANARY-SECRET-5e1f0a9c +&%:= tail"
	wrongCanarySecret = "CANARY-SECRET-WRONG-77b2 +&%:= tail"
	canaryBasicClient = oidctest.Client{ID: "canary-basic", Secret: canarySecret, AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	canaryPostClient  = oidctest.Client{ID: "canary-post", Secret: canarySecret, AuthMethod: oidctest.AuthPost, Scopes: []string{"read", "write"}}

	// refreshClient lives on the short-TTL server.
	refreshClient = oidctest.Client{ID: "e2e-refresh", Secret: "refresh-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
)

var (
	mainServer = &lazyServer{opts: oidctest.Options{
		Clients: []oidctest.Client{
			introspector, basicClient, postClient, specialBasicClient, specialPostClient,
			errBasicClient, errPostClient, cacheClient, coldClient, invalidateClient,
			transportClient, canaryBasicClient, canaryPostClient,
		},
		AccessTokenTTL:    300,
		StrictAuthMethods: true,
	}}
	shortServer = &lazyServer{opts: oidctest.Options{
		Clients:           []oidctest.Client{introspector, refreshClient},
		AccessTokenTTL:    4,
		StrictAuthMethods: true,
	}}
	suite = &suiteTB{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 {
		suite.setFailed()
	}
	suite.runCleanups()
	if suite.Failed() && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// suiteTB is the testing.TB the shared servers are started with: they
// outlive any one test, so their cleanups run at the end of TestMain. It
// implements only what oidctest uses; the embedded nil TB makes any other
// method panic loudly.
type suiteTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// suiteFatal is what Fatalf panics with; lazyServer turns it into an error
// for the test that asked for the server.
type suiteFatal struct{ msg string }

func (s *suiteTB) Helper()      {}
func (s *suiteTB) Name() string { return "e2e-suite" }
func (s *suiteTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e suite: "+format+"\n", args...)
}
func (s *suiteTB) Log(args ...any) { s.Logf("%s", fmt.Sprint(args...)) }
func (s *suiteTB) Errorf(format string, args ...any) {
	s.setFailed()
	s.Logf(format, args...)
}
func (s *suiteTB) Error(args ...any) { s.Errorf("%s", fmt.Sprint(args...)) }
func (s *suiteTB) Fatalf(format string, args ...any) {
	s.Errorf(format, args...)
	panic(suiteFatal{fmt.Sprintf(format, args...)})
}
func (s *suiteTB) Fatal(args ...any) { s.Fatalf("%s", fmt.Sprint(args...)) }
func (s *suiteTB) FailNow()          { s.Fatalf("FailNow") }
func (s *suiteTB) Fail()             { s.setFailed() }
func (s *suiteTB) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}
func (s *suiteTB) setFailed() {
	s.mu.Lock()
	s.failed = true
	s.mu.Unlock()
}
func (s *suiteTB) Cleanup(f func()) {
	s.mu.Lock()
	s.cleanups = append(s.cleanups, f)
	s.mu.Unlock()
}
func (s *suiteTB) TempDir() string {
	dir, err := os.MkdirTemp("", "cctoken-e2e-")
	if err != nil {
		s.Fatalf("TempDir: %v", err)
	}
	s.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
func (s *suiteTB) runCleanups() {
	s.mu.Lock()
	fs := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// lazyServer starts an oidc-provider the first time a test needs it.
type lazyServer struct {
	opts oidctest.Options
	once sync.Once
	srv  *oidctest.Server
	err  error
}

func (l *lazyServer) get(t testing.TB) *oidctest.Server {
	t.Helper()
	l.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				f, ok := r.(suiteFatal)
				if !ok {
					panic(r)
				}
				l.err = errors.New(f.msg)
			}
		}()
		l.srv = oidctest.Start(suite, l.opts)
	})
	if l.err != nil {
		t.Fatalf("starting oidc-provider: %v", l.err)
	}
	return l.srv
}

// presetUser is one user of a generated preset document.
type presetUser struct {
	name   string
	client oidctest.Client
	secret string // overrides client.Secret when set
	scopes []string
	extra  map[string]any
}

// presetJSON writes a preset document (JSON is YAML) for tokenURL.
func presetJSON(tokenURL string, settings map[string]any, users ...presetUser) []byte {
	var us []map[string]any
	for _, u := range users {
		m := map[string]any{
			"username":      u.name,
			"client_id":     u.client.ID,
			"client_secret": u.client.Secret,
			"auth_method":   u.client.AuthMethod,
		}
		if u.secret != "" {
			m["client_secret"] = u.secret
		}
		if m["auth_method"] == "" {
			m["auth_method"] = oidctest.AuthBasic
		}
		scopes := u.scopes
		if scopes == nil {
			scopes = u.client.Scopes
		}
		if len(scopes) > 0 {
			m["scopes"] = scopes
		}
		for k, v := range u.extra {
			m[k] = v
		}
		us = append(us, m)
	}
	p := map[string]any{"type": "oauth_client_credentials", "url": tokenURL, "users": us}
	for k, v := range settings {
		p[k] = v
	}
	b, err := json.MarshalIndent(map[string]any{"preset": []any{p}}, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// newClient loads a preset into a host client closed at the test's end.
func newClient(t testing.TB, preset []byte, opts ...host.Option) *host.Client {
	t.Helper()
	opts = append([]host.Option{host.WithCacheDir(cacheDir), host.WithTimeout(10 * time.Second)}, opts...)
	c, err := host.New(context.Background(), preset, opts...)
	if err != nil {
		t.Fatalf("host.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testCtx bounds one test's calls.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// introspect asks the server about token as the introspector client, with
// plain net/http so that it may run outside the test goroutine (in an API
// handler).
func introspect(ctx context.Context, srv *oidctest.Server, token string) (active bool, clientID, scope string, err error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.IntrospectionURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", oidctest.BasicAuth(introspector.ID, introspector.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, "", "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return false, "", "", fmt.Errorf("introspection: %s: %s", resp.Status, body)
	}
	var out struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return false, "", "", err
	}
	return out.Active, out.ClientID, out.Scope, nil
}

// protectedAPI is a resource server that accepts a bearer token only when
// the authorization server says it is active.
type protectedAPI struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string // every bearer token presented, in order
}

func newProtectedAPI(t testing.TB, srv *oidctest.Server) *protectedAPI {
	t.Helper()
	api := &protectedAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok {
			api.mu.Lock()
			api.tokens = append(api.tokens, tok)
			api.mu.Unlock()
		}
		if !ok || r.URL.Path == "/always-401" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="the token is not accepted"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_token"}`)
			return
		}
		active, clientID, scope, err := introspect(r.Context(), srv, tok)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if !active {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": clientID, "scope": scope, "method": r.Method, "body": string(body),
			"team": r.Header.Get("X-Team"),
		})
	}))
	t.Cleanup(api.Close)
	return api
}

func (a *protectedAPI) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.tokens...)
}

// revoke revokes token at the server, authenticating as its client.
func revoke(t testing.TB, srv *oidctest.Server, token string, c oidctest.Client) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if c.AuthMethod == oidctest.AuthPost {
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	}
	req, err := http.NewRequest(http.MethodPost, srv.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.AuthMethod != oidctest.AuthPost {
		req.Header.Set("Authorization", oidctest.BasicAuth(c.ID, c.Secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %s", resp.Status)
	}
}

// cliBinary builds host/cmd/cctoken once per test binary.
var cli struct {
	once sync.Once
	path string
	err  error
}

func cctokenBinary(t testing.TB) string {
	t.Helper()
	cli.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			cli.err = err
			return
		}
		dir := suite.TempDir()
		cli.path = filepath.Join(dir, "cctoken")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, goTool, "build", "-o", cli.path, "github.com/cctoken/cctoken/host/cmd/cctoken").CombinedOutput()
		if err != nil {
			cli.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cli.err != nil {
		t.Fatalf("building the cctoken command: %v", cli.err)
	}
	return cli.path
}

// cliResult is one run of the cctoken command.
type cliResult struct {
	args           []string
	code           int
	stdout, stderr string
}

// runCLI runs the cctoken command with extra environment variables. Its
// compilation cache lives under os.TempDir, not the user's cache.
func runCLI(t testing.TB, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cctokenBinary(t), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(os.TempDir(), "cctoken-e2e-xdg-cache"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("cctoken %v: %v", args, err)
	}
	return res
}
