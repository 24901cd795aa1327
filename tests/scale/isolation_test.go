package scale

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/internal/redistest"
)

// echoEndpoint is a token endpoint that writes into each token what makes
// it differ: the organization parameter, the X-Tenant header and the
// region cookie it received, so a test can tell whose token a process got.
type echoEndpoint struct {
	*httptest.Server
	mu     sync.Mutex
	issued int
}

func startEcho(t *testing.T) *echoEndpoint {
	e := &echoEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if r.ParseForm() != nil || !ok || id != "shared-client" || secret != "shared-SECRET" || r.Form.Get("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		region := ""
		if c, err := r.Cookie("region"); err == nil {
			region = c.Value
		}
		e.mu.Lock()
		e.issued++
		n := e.issued
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d-org=%s-tenant=%s-region=%s","token_type":"Bearer","expires_in":3600}`,
			n, r.Form.Get("organization"), r.Header.Get("X-Tenant"), region)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *echoEndpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issued
}

// buildCLI builds the cctoken command into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cctoken")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/cctoken/cctoken/host/cmd/cctoken").CombinedOutput()
	if err != nil {
		t.Fatalf("building cctoken: %v\n%s", err, out)
	}
	return bin
}

// TestStoreKeepsUsersApart runs real cctoken processes against one
// redis-server: two users of one client that differ only in params, then
// only in headers, then only in cookies, each in its own preset file and
// process. Each must get the token the endpoint issued for its own
// request; before the store names covered the whole token request, the
// second process was served the first one's token.
func TestStoreKeepsUsersApart(t *testing.T) {
	r := redistest.Start(t)
	ep := startEcho(t)
	bin := buildCLI(t)
	dir := t.TempDir()
	cache := filepath.Join(os.TempDir(), "cctoken-cli-test-cache") // the compiled module, shared across runs
	run := func(file string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "token", file)
		// The store URL comes from the environment, as a deployment of
		// `cctoken keep` would give it.
		cmd.Env = append(os.Environ(), "CCTOKEN_STORE="+r.URL(), "XDG_CACHE_HOME="+cache)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("cctoken token %s: %v\n%s", filepath.Base(file), err, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}
	preset := func(name, extra string) string {
		p := filepath.Join(dir, name+".yaml")
		doc := "preset:\n- type: oauth_client_credentials\n  url: " + ep.URL + "/token\n  users:\n" +
			"  - username: svc\n    client_id: shared-client\n    client_secret: shared-SECRET\n" + extra
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		what     string
		a, b     string // the preset lines that differ
		wantA    string // in user a's token
		wantB    string
		neitherA string // in neither of b's tokens
	}{
		{"params", "    params: {organization: org-a}\n", "    params: {organization: org-b}\n", "-org=org-a-", "-org=org-b-", "org-a"},
		{"headers", "    headers: {X-Tenant: tenant-a}\n", "    headers: {X-Tenant: tenant-b}\n", "-tenant=tenant-a-", "-tenant=tenant-b-", "tenant-a"},
		{"cookies", "    cookies: {region: eu-a}\n", "    cookies: {region: eu-b}\n", "-region=eu-a", "-region=eu-b", "eu-a"},
	} {
		t.Run(c.what, func(t *testing.T) {
			before := ep.count()
			a, b := preset(c.what+"-a", c.a), preset(c.what+"-b", c.b)
			tokA := run(a)
			if !strings.Contains(tokA, c.wantA) {
				t.Fatalf("user a got %q, want a token issued for %s", tokA, c.wantA)
			}
			tokB := run(b)
			if !strings.Contains(tokB, c.wantB) || strings.Contains(tokB, c.neitherA) {
				t.Fatalf("user b (differing only in %s) got %q: the token issued for user a's request", c.what, tokB)
			}
			// Each user still shares with its own kind: another process of
			// user a takes a's token from the store, no request sent.
			if again := run(a); again != tokA {
				t.Fatalf("a second process of user a got %q, want the stored %q", again, tokA)
			}
			if n := ep.count() - before; n != 2 {
				t.Fatalf("%d token requests for two users in three processes, want 2", n)
			}
		})
	}
}
