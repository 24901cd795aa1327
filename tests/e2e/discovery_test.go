package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/tests/oidctest"
)

// Clients of the discovery tests, on a server of their own so that its
// counters see nobody else.
var (
	discBasicClient    = oidctest.Client{ID: "e2e-disc-basic", Secret: "disc-basic-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	discPostClient     = oidctest.Client{ID: "e2e-disc-post", Secret: "disc-post-secret", AuthMethod: oidctest.AuthPost, Scopes: []string{"read"}}
	discMismatchClient = oidctest.Client{ID: "e2e-disc-mismatch", Secret: "disc-mismatch-secret", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}

	discoveryServer = &lazyServer{opts: oidctest.Options{
		Clients:           []oidctest.Client{discBasicClient, discPostClient, discMismatchClient},
		AccessTokenTTL:    300,
		StrictAuthMethods: true,
	}}
)

// discoveryPreset is a preset with issuer instead of url. A user whose
// extra has no auth_method leaves it to the server's metadata.
func discoveryPreset(t *testing.T, issuer string, users ...presetUser) []byte {
	t.Helper()
	var us []map[string]any
	for _, u := range users {
		m := map[string]any{"username": u.name, "client_id": u.client.ID, "client_secret": u.client.Secret, "scopes": u.client.Scopes}
		for k, v := range u.extra {
			m[k] = v
		}
		us = append(us, m)
	}
	b, err := json.Marshal(map[string]any{"preset": []any{map[string]any{"type": "oauth_client_credentials", "issuer": issuer, "users": us}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDiscovery gets tokens from a preset that names only the issuer: one
// user lets cctoken pick the auth method from the metadata, the other sets
// client_secret_post. The server rejects a client that uses another method
// than its registered one, and its counters show which one was used.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	srv := discoveryServer.get(t)
	ctx := testCtx(t)

	// What the server advertises, and so what cctoken should pick for a
	// user without auth_method: client_secret_basic when listed.
	resp, err := http.Get(srv.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Issuer        string   `json:"issuer"`
		TokenEndpoint string   `json:"token_endpoint"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	}
	err = json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if err != nil || md.Issuer != srv.Issuer || md.TokenEndpoint != srv.TokenURL {
		t.Fatalf("openid-configuration = %+v, %v", md, err)
	}
	if !slices.Contains(md.AuthMethods, oidctest.AuthBasic) {
		t.Fatalf("oidc-provider advertises %v; this test registers its unset-method client for client_secret_basic", md.AuthMethods)
	}
	chosen := oidctest.AuthBasic

	before := srv.Stats()
	c := newClient(t, discoveryPreset(t, srv.Issuer,
		presetUser{name: "unset", client: discBasicClient},
		presetUser{name: "post", client: discPostClient, extra: map[string]any{"auth_method": oidctest.AuthPost}},
	))
	for _, u := range []struct {
		name   string
		client oidctest.Client
		method string
	}{{"unset", discBasicClient, chosen}, {"post", discPostClient, oidctest.AuthPost}} {
		tok, err := c.Token(ctx, u.name)
		if err != nil {
			t.Fatalf("Token(%s): %v", u.name, err)
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" {
			t.Errorf("Token(%s) = %v", u.name, tok)
		}
		if active, clientID, _ := srv.Introspect(t, tok.AccessToken, discBasicClient); !active || clientID != u.client.ID {
			t.Errorf("%s: introspection active=%v client_id=%q", u.name, active, clientID)
		}
		if n := srv.AuthMethodRequests(u.client.ID, u.method) - before.AuthMethods[u.client.ID][u.method]; n != 1 {
			t.Errorf("%s: %d token requests with %s, want 1", u.name, n, u.method)
		}
		if n := srv.TokenRequests(u.client.ID) - before.TokenRequests[u.client.ID]; n != 1 {
			t.Errorf("%s: %d token requests in all, want 1", u.name, n)
		}
	}
}

// TestDiscoveryIssuerMismatch puts a server in front that serves metadata
// naming another issuer (the real server's): cctoken must refuse it and
// send no token request anywhere.
func TestDiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	srv := discoveryServer.get(t)
	ctx := testCtx(t)

	var mu sync.Mutex
	var seen []string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/.well-known/") {
			http.Error(w, "not a metadata request", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.Issuer, "token_endpoint": srv.TokenURL,
			"token_endpoint_auth_methods_supported": []string{oidctest.AuthBasic},
		})
	}))
	t.Cleanup(front.Close)

	before := srv.TokenRequests(discMismatchClient.ID)
	c := newClient(t, discoveryPreset(t, front.URL, presetUser{name: "svc", client: discMismatchClient}))
	_, err := c.Token(ctx, "svc")
	var he *host.Error
	if !errors.As(err, &he) || he.Code != "issuer_mismatch" {
		t.Fatalf("Token: %v, want issuer_mismatch", err)
	}
	if he.Field != "preset[0].issuer" || !strings.Contains(he.Message, front.URL) || !strings.Contains(he.Message, srv.Issuer) {
		t.Errorf("error %+v should name preset[0].issuer and both issuers", he)
	}
	if n := srv.TokenRequests(discMismatchClient.ID) - before; n != 0 {
		t.Errorf("%d token requests reached the authorization server, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "GET /.well-known/oauth-authorization-server" {
		t.Errorf("the front server saw %v, want only the RFC 8414 metadata request", seen)
	}
}
