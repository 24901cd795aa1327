package host

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// proofClaims decodes a DPoP proof's claims (the signature is checked end
// to end by tests/dpop/server.mjs).
func proofClaims(t *testing.T, proof string) map[string]any {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q", proof)
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTransportDPoPNonceRetry: the transport signs each DPoP request anew,
// retries once on a use_dpop_nonce challenge with the server's nonce, and
// does not loop when the server keeps refusing.
func TestTransportDPoPNonceRetry(t *testing.T) {
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") == "" {
			http.Error(w, "no proof", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"tok-d","token_type":"DPoP","expires_in":3600}`)
	})
	var mu sync.Mutex
	var jtis, nonces []string
	refuseAll := false
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c := proofClaims(t, r.Header.Get("DPoP"))
		mu.Lock()
		defer mu.Unlock()
		jtis = append(jtis, fmt.Sprint(c["jti"]))
		nonces = append(nonces, fmt.Sprint(c["nonce"]))
		if r.Header.Get("Authorization") != "DPoP tok-d" || c["htm"] != r.Method {
			w.WriteHeader(400)
			return
		}
		if refuseAll || c["nonce"] != "rs-nonce" {
			w.Header().Set("DPoP-Nonce", "rs-nonce")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer api.Close()
	c := newClient(t, presetFor(srv.URL, "    dpop: true\n"))
	tok, err := c.Token(t.Context(), "svc")
	if err != nil || tok.TokenType != "DPoP" {
		t.Fatalf("Token: %v %v", tok, err)
	}
	hc := &http.Client{Transport: c.Transport("svc", nil)}
	req, _ := http.NewRequest("PUT", api.URL+"/x?q=1", strings.NewReader("payload"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if len(jtis) != 2 || jtis[0] == jtis[1] || nonces[0] != "<nil>" || nonces[1] != "rs-nonce" {
		t.Fatalf("proofs: jti %v nonce %v", jtis, nonces)
	}
	// The nonce is remembered: the next request carries it at once.
	resp, err = hc.Get(api.URL + "/y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(nonces) != 3 || nonces[2] != "rs-nonce" {
		t.Fatalf("status %d, nonces %v", resp.StatusCode, nonces)
	}
	// A server that keeps refusing gets one retry, then its 401.
	mu.Lock()
	refuseAll = true
	mu.Unlock()
	resp, err = hc.Get(api.URL + "/z")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(nonces) != 5 {
		t.Fatalf("status %d after %d requests, want 401 after 5", resp.StatusCode, len(nonces))
	}
	// Client.Sign: the same headers the transport sends, a new proof each time.
	h1, err := c.Sign(t.Context(), "svc", "GET", api.URL+"/a")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := c.Sign(t.Context(), "svc", "GET", api.URL+"/a")
	if h1.Get("Authorization") != "DPoP tok-d" || h1.Get("X-Team") != "a" || h1.Get("Cookie") != "tenant=acme" || h1.Get("DPoP") == h2.Get("DPoP") {
		t.Fatalf("Sign: %v / %v", h1, h2)
	}
	if _, err := c.Sign(t.Context(), "svc", "", api.URL); err == nil || !strings.Contains(err.Error(), "method") {
		t.Fatalf("Sign without a method: %v", err)
	}
}
