package oidctest

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// ResourceServer is a running tests/dpop/server.mjs: an API that accepts a
// request only with a valid DPoP proof for a DPoP-bound JWT access token of
// the authorization server it was started for. See the script's header for
// what it checks.
type ResourceServer struct {
	// URL is the API's origin; any path under it is the API.
	URL      string
	StatsURL string
	NonceURL string
	client   *http.Client
}

// ResourceStats are the resource server's counters: accepted requests, and
// refused ones by reason.
type ResourceStats struct {
	Accepted int            `json:"accepted"`
	Rejected map[string]int `json:"rejected"`
}

// StartResourceServer runs the DPoP resource server for tokens of as, which
// must have been started with JWTAccessTokens. requireNonce makes it demand
// its own nonce in proofs.
func StartResourceServer(t testing.TB, as *Server, requireNonce bool) *ResourceServer {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	cfg, _ := json.Marshal(map[string]any{
		"issuer": as.Issuer, "jwks_uri": as.JWKSURL, "audience": as.Resource, "require_nonce": requireNonce,
	})
	var ready struct{ URL, Stats, Nonce string }
	runScript(t, "resource server", filepath.Join(root, "tests", "dpop", "server.mjs"), root, cfg, &ready)
	if ready.URL == "" {
		t.Fatalf("oidctest: the resource server's ready line has no url")
	}
	return &ResourceServer{URL: ready.URL, StatsURL: ready.Stats, NonceURL: ready.Nonce, client: &http.Client{Timeout: 10 * time.Second}}
}

// Stats returns the resource server's counters.
func (r *ResourceServer) Stats(t testing.TB) ResourceStats {
	t.Helper()
	var s ResourceStats
	resp, err := r.client.Get(r.StatsURL)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("oidctest: stats: %v", err)
	}
	return s
}

// RotateNonce makes the resource server start a new nonce.
func (r *ResourceServer) RotateNonce(t testing.TB) {
	t.Helper()
	resp, err := r.client.Post(r.NonceURL, "application/json", nil)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	resp.Body.Close()
}
