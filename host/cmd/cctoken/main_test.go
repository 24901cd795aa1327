package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("CCTOKEN_TEST_AS_COMMAND") == "1" {
		// The test binary re-executed as the command (realProcess).
		main()
	}
	// The command caches the compiled module in the user cache directory;
	// keep the tests' cache out of the user's home, and shared across runs.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(os.TempDir(), "cctoken-cli-test-cache"))
	os.Exit(m.Run())
}

// Secrets of the test clients. None may ever appear in the command's
// output; all contain "CANARY-SECRET" so one check catches any of them.
const (
	aliceSecret = "alice-CANARY-SECRET p+a&s%s:w=rd"
	bobSecret   = "bob-CANARY-SECRET-2"
	carolSecret = "carol-CANARY-SECRET-3" // what carol's preset says
	carolReal   = "carol-real-secret"     // what the server expects
)

type testClient struct {
	secret, method string
	scopes         []string
}

// authServer is a small client-credentials token endpoint. Its tokens all
// start with "TOKEN-CANARY-".
type authServer struct {
	*httptest.Server
	clients map[string]testClient
	hits    atomic.Int64
	mu      sync.Mutex
	issued  []string
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	s := &authServer{clients: map[string]testClient{
		"alice-id":    {aliceSecret, "basic", []string{"read"}},
		"bob id":      {bobSecret, "post", []string{"read", "write"}},
		"carol-id":    {carolReal, "basic", []string{"read"}},
		"env-user-id": {"env-CANARY-SECRET", "basic", nil},
	}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) handle(w http.ResponseWriter, r *http.Request) {
	n := s.hits.Add(1)
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q,"error_description":"refused by the test server"}`, code)
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		fail(http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, method := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), "post"
	if u, p, ok := r.BasicAuth(); ok {
		if id != "" || secret != "" {
			fail(http.StatusBadRequest, "invalid_request") // both methods at once
			return
		}
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
		method = "basic"
	}
	c, ok := s.clients[id]
	if !ok || c.secret != secret || c.method != method {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	scope := r.PostForm.Get("scope")
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(c.scopes, sc) {
			fail(http.StatusBadRequest, "invalid_scope")
			return
		}
	}
	tok := fmt.Sprintf("TOKEN-CANARY-%04d-%s", n, strings.ReplaceAll(id, " ", "_"))
	s.mu.Lock()
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": scope})
}

func (s *authServer) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// preset is the three-user document: alice (basic), bob (post, a client
// id with a space) and carol (whose secret the server refuses).
func (s *authServer) preset() string {
	return `preset:
- type: oauth_client_credentials
  url: ` + s.URL + `/token
  users:
  - username: alice
    client_id: alice-id
    client_secret: ` + strconv.Quote(aliceSecret) + `
    scopes: [read]
  - username: bob
    client_id: bob id
    client_secret: ` + bobSecret + `
    auth_method: client_secret_post
    scopes: [read, write]
    headers: {X-Team: billing}
  - username: carol
    client_id: carol-id
    client_secret: ` + carolSecret + `
`
}

// onlyAlice is a one-user document.
func (s *authServer) onlyAlice() string {
	return "preset:\n- type: oauth_client_credentials\n  url: " + s.URL + "/token\n  users:\n" +
		"  - {username: alice, client_id: alice-id, client_secret: " + strconv.Quote(aliceSecret) + ", scopes: [read]}\n"
}

// apiRequest is what the test API saw.
type apiRequest struct {
	method, path, body string
	header             http.Header
}

// api is a resource server that records requests. /missing answers 404.
type api struct {
	*httptest.Server
	mu   sync.Mutex
	seen []apiRequest
}

func newAPI(t *testing.T) *api {
	t.Helper()
	a := &api{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.seen = append(a.seen, apiRequest{r.Method, r.URL.Path, string(body), r.Header.Clone()})
		a.mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer TOKEN-CANARY-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/missing" {
			http.Error(w, "nothing here", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, "hello %s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *api) last(t *testing.T) apiRequest {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		t.Fatal("the API saw no request")
	}
	return a.seen[len(a.seen)-1]
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	code           int
	stdout, stderr string
}

// cctoken runs the command in-process. It fails the test if a secret ever
// appears in the output, or a token anywhere but on the standard output of
// `token`.
func cctoken(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	for _, secret := range []string{"CANARY-SECRET", aliceSecret, bobSecret, carolSecret, url.QueryEscape(aliceSecret)} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("cctoken %q printed a secret:\nstdout: %s\nstderr: %s", args, r.stdout, r.stderr)
			break
		}
	}
	if strings.Contains(r.stderr, "TOKEN-CANARY") || (len(args) > 0 && args[0] != "token" && strings.Contains(r.stdout, "TOKEN-CANARY")) {
		t.Errorf("cctoken %q printed a token:\nstdout: %s\nstderr: %s", args, r.stdout, r.stderr)
	}
	return r
}

func TestLint(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	clean := writeFile(t, "clean.yaml", srv.preset())
	// Five problems, one of them a secret in a field where it does not
	// belong (the message must not repeat it).
	brokenText := `preset:
- type: oauth_client_credentials
  url: ftp://example.com/token
  refresh_ahead: 2
  users:
  - username: alice
    client_id: alice-id
    client_secret: ` + strconv.Quote(aliceSecret) + `
    auth_method: ` + strconv.Quote(aliceSecret) + `
    scops: [read]
  - username: alice
    client_id: x
`
	broken := writeFile(t, "broken.yaml", brokenText)
	issueLine := regexp.MustCompile(`^(.+):(\d+):(\d+): (preset\[0\][^:]*): (.+)$`)

	t.Run("clean", func(t *testing.T) {
		r := cctoken(t, "", "lint", clean)
		if r.code != 0 || r.stdout != clean+": ok\n" || r.stderr != "" {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
		if n := srv.hits.Load(); n != 0 {
			t.Errorf("lint made %d token requests", n)
		}
	})
	check := func(t *testing.T, r result, file string) {
		t.Helper()
		if r.code != 1 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q; want 1 and nothing on stderr", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		want := map[string]int{ // field -> line
			"preset[0].url":                    3,
			"preset[0].refresh_ahead":          4,
			"preset[0].users[0].auth_method":   9,
			"preset[0].users[0].scops":         10,
			"preset[0].users[1].username":      11,
			"preset[0].users[1].client_secret": 0, // missing: reported where the user is
		}
		got := map[string]bool{}
		for _, l := range lines[:len(lines)-1] {
			m := issueLine.FindStringSubmatch(l)
			if m == nil || m[1] != file {
				t.Errorf("not a FILE:line:col: field: message line: %q", l)
				continue
			}
			field := m[4]
			got[field] = true
			if line, ok := want[field]; ok && line > 0 && m[2] != strconv.Itoa(line) {
				t.Errorf("%s reported on line %s, want %d", field, m[2], line)
			}
		}
		for field := range want {
			if !got[field] {
				t.Errorf("no issue for %s; all issues must be reported at once:\n%s", field, r.stdout)
			}
		}
		if summary := fmt.Sprintf("%d problems in %s", len(lines)-1, file); lines[len(lines)-1] != summary {
			t.Errorf("last line %q, want %q", lines[len(lines)-1], summary)
		}
		if !strings.Contains(r.stdout, "did you mean `scopes`?") {
			t.Errorf("no suggestion for the misspelt key:\n%s", r.stdout)
		}
	}
	t.Run("broken", func(t *testing.T) { check(t, cctoken(t, "", "lint", broken), broken) })
	t.Run("broken on stdin", func(t *testing.T) { check(t, cctoken(t, brokenText, "lint", "-"), "-") })
	t.Run("clean on stdin", func(t *testing.T) {
		if r := cctoken(t, srv.preset(), "lint", "-"); r.code != 0 || r.stdout != "-: ok\n" {
			t.Errorf("exit %d, stdout %q", r.code, r.stdout)
		}
	})
	t.Run("one problem", func(t *testing.T) {
		one := writeFile(t, "one.yaml", strings.Replace(srv.onlyAlice(), "scopes: [read]", "scopes: [read], refresh_skew: -3", 1))
		r := cctoken(t, "", "lint", one)
		if r.code != 1 || !strings.HasSuffix(r.stdout, "\n1 problem in "+one+"\n") || strings.Count(r.stdout, "\n") != 2 {
			t.Errorf("exit %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("not YAML", func(t *testing.T) {
		r := cctoken(t, "", "lint", writeFile(t, "bad.yaml", "preset: [\n  {{{\n"))
		if r.code != 1 || !strings.Contains(r.stdout, "problem") {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		r := cctoken(t, "", "lint", filepath.Join(t.TempDir(), "nope.yaml"))
		if r.code != 1 || !strings.Contains(r.stderr, "cannot read the preset") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("token and validate report the same issues", func(t *testing.T) {
		for _, cmd := range []string{"token", "validate"} {
			r := cctoken(t, "", cmd, broken)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, broken+":3:") || !strings.Contains(r.stderr, "problems in "+broken) {
				t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", cmd, r.code, r.stdout, r.stderr)
			}
		}
	})
}

func TestUsage(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	file := writeFile(t, "p.yaml", srv.preset())
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"no arguments", nil, 2, "usage:", ""},
		{"help", []string{"help"}, 0, "usage:", ""},
		{"--help", []string{"--help"}, 0, "cctoken lint FILE", ""},
		{"lint -h", []string{"lint", "-h"}, 0, "usage:", ""},
		{"token --help after other flags", []string{"token", file, "--user", "alice", "--help"}, 0, "usage:", ""},
		{"request -help", []string{"request", "-help"}, 0, "cctoken request FILE --user U", ""},
		{"unknown command", []string{"tokens", file}, 2, "", `unknown command "tokens"`},
		{"lint without a file", []string{"lint"}, 2, "", "usage: cctoken lint FILE"},
		{"lint with two files", []string{"lint", file, file}, 2, "", "usage: cctoken lint FILE"},
		{"lint unknown flag", []string{"lint", "--fix", file}, 2, "", "flag provided but not defined: -fix"},
		{"token without a file", []string{"token", "--user", "alice"}, 2, "", "usage: cctoken token FILE"},
		{"token flag without value", []string{"token", file, "--user"}, 2, "", "flag needs an argument: -user"},
		{"token unknown flag", []string{"token", file, "--usr", "alice"}, 2, "", "flag provided but not defined: -usr"},
		{"validate without a file", []string{"validate", "--json"}, 2, "", "usage: cctoken validate FILE"},
		{"validate bad --parallel", []string{"validate", file, "--parallel", "many"}, 2, "", "invalid value"},
		{"request without --user", []string{"request", file, "http://127.0.0.1:1/"}, 2, "", "usage: cctoken request FILE --user U"},
		{"request without URL", []string{"request", file, "--user", "alice"}, 2, "", "usage: cctoken request"},
		{"request bad header", []string{"request", file, "--user", "alice", "-H", "NoColonHere", "http://127.0.0.1:1/"}, 2, "", `-H takes 'Name: value', got "NoColonHere"`},
		{"request bad URL", []string{"request", file, "--user", "alice", "http://[::1"}, 2, "", "cctoken request:"},
		{"demo moved to its own command", []string{"demo"}, 2, "", "go run ./host/cmd/cctoken-demo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cctoken(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.code == 2 && tc.stdout == "" && r.stdout != "" {
				t.Errorf("usage error wrote to stdout: %q", r.stdout)
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("usage errors made %d token requests", n)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	file := writeFile(t, "p.yaml", srv.preset())

	t.Run("several users and no --user", func(t *testing.T) {
		before := srv.hits.Load()
		r := cctoken(t, "", "token", file)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "3 users") || !strings.Contains(r.stderr, "alice, bob, carol") || !strings.Contains(r.stderr, "--user") {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
		if n := srv.hits.Load() - before; n != 0 {
			t.Errorf("%d token requests", n)
		}
	})
	t.Run("the only user", func(t *testing.T) {
		r := cctoken(t, "", "token", writeFile(t, "one.yaml", srv.onlyAlice()))
		if r.code != 0 || r.stderr != "" || !regexp.MustCompile(`^TOKEN-CANARY-\d+-alice-id\n$`).MatchString(r.stdout) {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("--user with post and a client id with a space, flag first", func(t *testing.T) {
		r := cctoken(t, "", "token", "--user", "bob", file)
		if r.code != 0 || r.stderr != "" || !regexp.MustCompile(`^TOKEN-CANARY-\d+-bob_id\n$`).MatchString(r.stdout) {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
		if tok := strings.TrimSpace(r.stdout); !slices.Contains(srv.tokens(), tok) {
			t.Errorf("printed %q, not an issued token", tok)
		}
	})
	t.Run("--json", func(t *testing.T) {
		r := cctoken(t, "", "token", file, "--json", "--user=alice")
		var v map[string]any
		if r.code != 0 || r.stderr != "" || json.Unmarshal([]byte(r.stdout), &v) != nil {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range v {
				if !yield(k) {
					return
				}
			}
		})
		if fmt.Sprint(keys) != "[access_token expires_at expires_in expiry_source scopes token_type user]" {
			t.Errorf("keys %v", keys)
		}
		if v["user"] != "alice" || v["token_type"] != "Bearer" || v["expiry_source"] != "expires_in" || fmt.Sprint(v["scopes"]) != "[read]" {
			t.Errorf("token JSON %v", v)
		}
		if in, _ := v["expires_in"].(float64); in < 3590 || in > 3600 {
			t.Errorf("expires_in %v", v["expires_in"])
		}
		if at, err := time.Parse(time.RFC3339, fmt.Sprint(v["expires_at"])); err != nil || time.Until(at) < 59*time.Minute {
			t.Errorf("expires_at %v: %v", v["expires_at"], err)
		}
		if tok, _ := v["access_token"].(string); !slices.Contains(srv.tokens(), tok) {
			t.Errorf("access_token %q is not an issued token", tok)
		}
	})
	t.Run("-v logs to stderr without the token", func(t *testing.T) {
		r := cctoken(t, "", "token", file, "--user", "alice", "-v")
		if r.code != 0 || !strings.Contains(r.stderr, "token fetched") || !strings.HasPrefix(r.stdout, "TOKEN-CANARY-") {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("refused", func(t *testing.T) {
		r := cctoken(t, "", "token", file, "--user", "carol")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "invalid_client") || !strings.HasPrefix(r.stderr, "user carol: ") {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		r := cctoken(t, "", "token", file, "--user", "dave")
		if r.code != 1 || !strings.Contains(r.stderr, `no user "dave"`) {
			t.Errorf("exit %d\nstderr: %q", r.code, r.stderr)
		}
	})
	t.Run("preset on stdin", func(t *testing.T) {
		r := cctoken(t, srv.preset(), "token", "-", "--user", "alice")
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "TOKEN-CANARY-") {
			t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
		}
	})
}

// TestSecretFromEnv reads the secret from ${env:NAME}; it sets the
// process environment, so it does not run in parallel.
func TestSecretFromEnv(t *testing.T) {
	srv := newAuthServer(t)
	file := writeFile(t, "env.yaml", "preset:\n- type: oauth_client_credentials\n  url: "+srv.URL+"/token\n  users:\n"+
		"  - {username: e, client_id: env-user-id, client_secret: '${env:CCTOKEN_CLI_TEST_SECRET}'}\n")
	t.Setenv("CCTOKEN_CLI_TEST_SECRET", "env-CANARY-SECRET")
	if r := cctoken(t, "", "token", file); r.code != 0 || !strings.HasPrefix(r.stdout, "TOKEN-CANARY-") {
		t.Errorf("exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
	}
	os.Unsetenv("CCTOKEN_CLI_TEST_SECRET")
	r := cctoken(t, "", "token", file)
	if r.code != 1 || !strings.Contains(r.stderr, "CCTOKEN_CLI_TEST_SECRET") || !strings.Contains(r.stderr, "1 problem in "+file) {
		t.Errorf("unset variable: exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	// alice authenticates, carol does not.
	text := strings.Replace(srv.preset(), "  - username: bob\n    client_id: bob id\n    client_secret: "+bobSecret+"\n    auth_method: client_secret_post\n    scopes: [read, write]\n    headers: {X-Team: billing}\n", "", 1)
	if strings.Contains(text, "bob") {
		t.Fatal("could not drop bob from the preset")
	}
	file := writeFile(t, "p.yaml", text)

	t.Run("--json", func(t *testing.T) {
		r := cctoken(t, "", "validate", file, "--json")
		if r.code != 1 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q; want 1 and nothing on stderr", r.code, r.stderr)
		}
		var v struct {
			Users  []map[string]any `json:"users"`
			OK     *int             `json:"ok"`
			Failed *int             `json:"failed"`
		}
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil || v.OK == nil || v.Failed == nil || *v.OK != 1 || *v.Failed != 1 || len(v.Users) != 2 {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		good, bad := v.Users[0], v.Users[1]
		if keys := sortedKeys(good); fmt.Sprint(keys) != "[expires_at ok scopes token_type user]" {
			t.Errorf("good row keys %v", keys)
		}
		if good["user"] != "alice" || good["ok"] != true || good["token_type"] != "Bearer" || fmt.Sprint(good["scopes"]) != "[read]" {
			t.Errorf("good row %v", good)
		}
		if at, err := time.Parse(time.RFC3339, fmt.Sprint(good["expires_at"])); err != nil || time.Until(at) < 59*time.Minute {
			t.Errorf("expires_at %v: %v", good["expires_at"], err)
		}
		if keys := sortedKeys(bad); fmt.Sprint(keys) != "[code error ok user]" {
			t.Errorf("failed row keys %v", keys)
		}
		if bad["user"] != "carol" || bad["ok"] != false || bad["code"] != "invalid_client" || !strings.Contains(fmt.Sprint(bad["error"]), "invalid_client") || strings.HasPrefix(fmt.Sprint(bad["error"]), "cctoken") {
			t.Errorf("failed row %v", bad)
		}
	})
	t.Run("table", func(t *testing.T) {
		r := cctoken(t, "", "validate", file)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != 1 || len(lines) != 4 || !strings.HasPrefix(lines[0], "USER") ||
			!regexp.MustCompile(`^alice +ok +Bearer +in (59m59s|1h0m0s) +read *$`).MatchString(lines[1]) ||
			!regexp.MustCompile(`^carol +FAILED +the token endpoint refused`).MatchString(lines[2]) ||
			lines[3] != "1 of 2 users authenticated" {
			t.Errorf("exit %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("all good", func(t *testing.T) {
		r := cctoken(t, "", "validate", writeFile(t, "one.yaml", srv.onlyAlice()), "--json")
		if r.code != 0 || !strings.Contains(r.stdout, `"failed": 0`) {
			t.Errorf("exit %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("preset on stdin", func(t *testing.T) {
		r := cctoken(t, text, "validate", "--json", "-")
		if r.code != 1 || !strings.Contains(r.stdout, `"ok": 1`) {
			t.Errorf("exit %d\n%s", r.code, r.stdout)
		}
	})
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestRequest(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	api := newAPI(t)
	file := writeFile(t, "p.yaml", srv.preset())
	bodyFile := writeFile(t, "body.json", `{"from":"file"}`)
	cases := []struct {
		name    string
		args    []string
		code    int
		method  string
		path    string
		body    string
		headers map[string]string
	}{
		{"GET by default", []string{"request", file, "--user", "alice", api.URL + "/a"}, 0, "GET", "/a", "", nil},
		{"-X -H -d", []string{"request", file, "--user", "bob", "-X", "PUT", "-H", "X-One: 1", "-H", "X-Two:   two words  ", "-d", `{"a":1}`, api.URL + "/b"}, 0,
			"PUT", "/b", `{"a":1}`, map[string]string{"X-One": "1", "X-Two": "two words", "Content-Type": "application/json", "X-Team": "billing"}},
		{"flags after the positionals", []string{"request", file, api.URL + "/c", "--user", "bob", "-d", "x=1", "-H", "Content-Type: application/x-www-form-urlencoded"}, 0,
			"POST", "/c", "x=1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{"-d @FILE", []string{"request", "--user=alice", file, "-d", "@" + bodyFile, api.URL + "/d"}, 0, "POST", "/d", `{"from":"file"}`, nil},
		{"Authorization given is replaced", []string{"request", file, "--user", "alice", "-H", "Authorization: Bearer mine", api.URL + "/e"}, 0, "GET", "/e", "", nil},
		{"error status", []string{"request", file, "--user", "alice", "-X", "DELETE", api.URL + "/missing"}, 1, "DELETE", "/missing", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cctoken(t, "", tc.args...)
			if r.code != tc.code || r.stderr != "" {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			seen := api.last(t)
			if seen.method != tc.method || seen.path != tc.path || seen.body != tc.body {
				t.Errorf("API saw %s %s %q, want %s %s %q", seen.method, seen.path, seen.body, tc.method, tc.path, tc.body)
			}
			if a := seen.header.Get("Authorization"); !slices.Contains(srv.tokens(), strings.TrimPrefix(a, "Bearer ")) {
				t.Errorf("API saw Authorization %q, not an issued token", a)
			}
			for k, v := range tc.headers {
				if got := seen.header.Get(k); got != v {
					t.Errorf("API saw %s: %q, want %q", k, got, v)
				}
			}
			first, rest, _ := strings.Cut(r.stdout, "\n")
			status := map[int]string{0: "200 OK", 1: "404 Not Found"}[tc.code]
			if !regexp.MustCompile(`^HTTP/1\.1 ` + status + ` \(\d+ms\)$`).MatchString(first) {
				t.Errorf("status line %q", first)
			}
			// The body, ending in exactly one newline whether it had one
			// ("nothing here\n") or not ("hello …").
			wantBody := "hello " + tc.method + " " + tc.path + "\n"
			if tc.code != 0 {
				wantBody = "nothing here\n"
			}
			if rest != wantBody {
				t.Errorf("body %q, want %q", rest, wantBody)
			}
		})
	}
	t.Run("refused token", func(t *testing.T) {
		r := cctoken(t, "", "request", file, "--user", "carol", api.URL+"/f")
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "invalid_client") {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if last := api.last(t); last.path == "/f" {
			t.Error("the request went out without a token")
		}
	})
	t.Run("unreadable body file", func(t *testing.T) {
		r := cctoken(t, "", "request", file, "--user", "alice", "-d", "@"+filepath.Join(t.TempDir(), "none"), api.URL+"/g")
		if r.code != 1 || !strings.Contains(r.stderr, "no such file") {
			t.Errorf("exit %d\nstderr: %s", r.code, r.stderr)
		}
	})
	t.Run("preset on stdin", func(t *testing.T) {
		r := cctoken(t, srv.preset(), "request", "-", api.URL+"/h", "--user", "alice")
		if r.code != 0 || api.last(t).path != "/h" {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestLintHints: a provider's rules that a preset breaks are printed as
// hints, and the document is still ok (exit 0).
func TestLintHints(t *testing.T) {
	doc := "preset:\n- type: oauth_client_credentials\n  url: https://login.microsoftonline.com/contoso/oauth2/v2.0/token\n  users:\n  - username: svc\n    client_id: app\n    client_secret: ${env:S}\n    scopes: [User.Read]\n"
	r := cctoken(t, doc, "lint", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "-:8:") || !strings.Contains(r.stdout, "preset[0].users[0].scopes: hint: Microsoft Entra ID") || !strings.HasSuffix(r.stdout, "-: ok\n") {
		t.Fatalf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}
