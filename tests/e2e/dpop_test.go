package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/tests/oidctest"
)

// DPoP (RFC 9449) end to end: oidc-provider issues DPoP-bound JWT access
// tokens (cnf.jkt), and tests/dpop/server.mjs checks every request's proof
// against them.
var (
	dpopClient      = oidctest.Client{ID: "e2e-dpop", Secret: "dpop-secret-CANARY-0123456789", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	dpopOtherClient = oidctest.Client{ID: "e2e-dpop-other", Secret: "dpop-other-secret-0123456789", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	dpopJWTClient   = oidctest.Client{ID: "e2e-dpop-pkjwt", AuthMethod: oidctest.AuthPrivateKeyJWT, Scopes: []string{"read"}, JWKS: []map[string]any{keys.ecPub}}

	dpopServer = &lazyServer{opts: oidctest.Options{
		Clients:           []oidctest.Client{dpopClient, dpopOtherClient, dpopJWTClient},
		AccessTokenTTL:    300,
		JWTAccessTokens:   true,
		StrictAuthMethods: true,
	}}
	dpopNonceServer = &lazyServer{opts: oidctest.Options{
		Clients:           []oidctest.Client{dpopClient, dpopJWTClient},
		AccessTokenTTL:    300,
		JWTAccessTokens:   true,
		StrictAuthMethods: true,
		DPoPRequireNonce:  true,
	}}
)

// dpopPreset has the users svc (client_secret_basic), other and signer
// (private_key_jwt), all with dpop: true, and bearer without.
func dpopPreset(srv *oidctest.Server, withOther bool) []byte {
	users := []map[string]any{
		{"username": "svc", "client_id": dpopClient.ID, "client_secret": dpopClient.Secret, "scopes": []string{"read"}, "dpop": true,
			"headers": map[string]string{"X-Team": "blue"}},
		jwtUser("signer", dpopJWTClient, "E2E_EC_KEY", map[string]any{"dpop": true}),
	}
	if withOther {
		users = append(users, map[string]any{"username": "other", "client_id": dpopOtherClient.ID, "client_secret": dpopOtherClient.Secret, "scopes": []string{"read"}, "dpop": true})
	}
	return jwtPreset(srv.TokenURL, map[string]any{"resource": []string{srv.Resource}}, users...)
}

// getJSON sends a request through the transport and decodes the answer.
func getJSON(t *testing.T, c *http.Client, method, url string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Not parallel: it counts token requests of clients that the parallel
// DPoP tests use on the same servers.
func TestDPoPTransport(t *testing.T) {
	for _, tc := range []struct {
		name  string
		as    *lazyServer
		nonce bool // the resource server demands its nonce too
	}{
		{"no nonces", dpopServer, false},
		{"nonces at both servers", dpopNonceServer, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.as.get(t)
			rs := oidctest.StartResourceServer(t, srv, tc.nonce)
			ctx := testCtx(t)
			c := newClient(t, dpopPreset(srv, false), host.WithEnv(jwtEnv))
			for _, user := range []string{"svc", "signer"} {
				before := srv.TokenRequests(map[string]string{"svc": dpopClient.ID, "signer": dpopJWTClient.ID}[user])
				tok, err := c.Token(ctx, user)
				if err != nil {
					t.Fatalf("Token(%s): %v", user, err)
				}
				if tok.TokenType != "DPoP" {
					t.Fatalf("%s: token type %q, want DPoP", user, tok.TokenType)
				}
				// With nonces svc's first token request is refused with
				// use_dpop_nonce and retried once; nonces are kept per
				// origin, so signer's already carries one.
				want := 1
				if tc.nonce && user == "svc" {
					want = 2
				}
				if n := srv.TokenRequests(map[string]string{"svc": dpopClient.ID, "signer": dpopJWTClient.ID}[user]) - before; n != want {
					t.Errorf("%s: %d token requests, want %d", user, n, want)
				}
				api := &http.Client{Transport: c.Transport(user, nil)}
				for i, path := range []string{"/v1/things?page=2", "/v1/things/7"} {
					status, body := getJSON(t, api, "GET", rs.URL+path)
					if status != 200 || body["ok"] != true || body["client_id"] == "" {
						t.Fatalf("%s request %d: %d %v", user, i, status, body)
					}
				}
				if status, body := getJSON(t, api, "POST", rs.URL+"/v1/things"); status != 200 {
					t.Fatalf("%s POST: %d %v", user, status, body)
				}
			}
			st := rs.Stats(t)
			if st.Accepted != 6 {
				t.Errorf("resource server accepted %d requests, want 6 (rejected %v)", st.Accepted, st.Rejected)
			}
			// With nonces, one use_dpop_nonce for the first request (the
			// origin's nonce then serves both users), none without.
			wantNonce := 0
			if tc.nonce {
				wantNonce = 1
			}
			if n := st.Rejected["the proof must carry the current nonce"]; n != wantNonce || len(st.Rejected) > min(wantNonce, 1) {
				t.Errorf("rejected %v, want %d nonce refusals and nothing else", st.Rejected, wantNonce)
			}
			if tc.nonce {
				// A new nonce at the server: one more refusal and retry.
				rs.RotateNonce(t)
				api := &http.Client{Transport: c.Transport("svc", nil)}
				if status, body := getJSON(t, api, "GET", rs.URL+"/v1/after-rotation"); status != 200 {
					t.Fatalf("after a new nonce: %d %v", status, body)
				}
				if st := rs.Stats(t); st.Rejected["the proof must carry the current nonce"] != 2 || st.Accepted != 7 {
					t.Errorf("after a new nonce: %+v", st)
				}
			}
		})
	}
}

// TestDPoPProofsRefused: the resource server refuses a replayed proof, a
// proof for another method or URL, a proof of another key, and a DPoP
// token without a proof, so TestDPoPTransport's passes mean something.
func TestDPoPProofsRefused(t *testing.T) {
	t.Parallel()
	srv := dpopServer.get(t)
	rs := oidctest.StartResourceServer(t, srv, false)
	ctx := testCtx(t)
	c := newClient(t, dpopPreset(srv, true), host.WithEnv(jwtEnv))
	url := rs.URL + "/v1/things"

	send := func(method, url string, h http.Header) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		req.Header = h.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + " " + string(b)
	}
	sign := func(user, method, url string) http.Header {
		t.Helper()
		h, err := c.Sign(ctx, user, method, url)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if !strings.HasPrefix(h.Get("Authorization"), "DPoP ") || h.Get("DPoP") == "" || h.Get("X-Team") != map[string]string{"svc": "blue", "other": ""}[user] {
			t.Fatalf("Sign(%s) headers: Authorization %.10q…, DPoP set %v, X-Team %q", user, h.Get("Authorization"), h.Get("DPoP") != "", h.Get("X-Team"))
		}
		return h
	}

	h := sign("svc", "GET", url)
	if status, _ := send("GET", url, h); status != 200 {
		t.Fatalf("a fresh proof was refused: %d", status)
	}
	if status, why := send("GET", url, h); status != 401 || !strings.Contains(why, "replayed") {
		t.Errorf("replayed proof: %d %s", status, why)
	}
	if status, why := send("POST", url, sign("svc", "GET", url)); status != 401 || !strings.Contains(why, "htm mismatch") {
		t.Errorf("proof for another method: %d %s", status, why)
	}
	if status, why := send("GET", rs.URL+"/v1/other", sign("svc", "GET", url)); status != 401 || !strings.Contains(why, "htu mismatch") {
		t.Errorf("proof for another URL: %d %s", status, why)
	}
	// svc's token with other's proof: bound to another key, and ath is
	// of another token.
	mixed := sign("svc", "GET", url)
	mixed.Set("DPoP", sign("other", "GET", url).Get("DPoP"))
	if status, why := send("GET", url, mixed); status != 401 || !strings.Contains(why, `error="invalid_dpop_proof"`) {
		t.Errorf("proof of another key: %d %s", status, why)
	}
	noProof := sign("svc", "GET", url)
	noProof.Del("DPoP")
	if status, why := send("GET", url, noProof); status != 401 || !strings.Contains(why, "DPoP header") {
		t.Errorf("no proof: %d %s", status, why)
	}
	asBearer := sign("svc", "GET", url)
	asBearer.Set("Authorization", "Bearer "+strings.TrimPrefix(asBearer.Get("Authorization"), "DPoP "))
	if status, why := send("GET", url, asBearer); status != 401 || !strings.Contains(why, "invalid_token") {
		t.Errorf("DPoP token as Bearer: %d %s", status, why)
	}
	// The key binding itself: other's token and proof are accepted.
	if status, why := send("GET", url, sign("other", "GET", url)); status != 200 {
		t.Errorf("other's own proof was refused: %d %s", status, why)
	}
}

// TestDPoPCanary: no access token, client secret or private key member
// appears in a debug log or an error, with DPoP requests that pass and
// fail, and no proof carries a private key member.
func TestDPoPCanary(t *testing.T) {
	t.Parallel()
	srv := dpopNonceServer.get(t)
	rs := oidctest.StartResourceServer(t, srv, true)
	ctx := testCtx(t)
	var logs lockedBuffer
	c := newClient(t, dpopPreset(srv, false), host.WithEnv(jwtEnv),
		host.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	var leaks, outs []string
	for _, user := range []string{"svc", "signer"} {
		tok, err := c.Token(ctx, user)
		if err != nil {
			t.Fatalf("Token(%s): %v", user, err)
		}
		leaks = append(leaks, tok.AccessToken)
		h, err := c.Sign(ctx, user, "GET", rs.URL+"/x")
		if err != nil {
			t.Fatal(err)
		}
		proof := h.Get("DPoP")
		header, _ := jwtPart(proof, 0)
		if jwk, _ := header["jwk"].(map[string]any); jwk == nil || jwk["d"] != nil || jwk["kty"] != "EC" {
			t.Fatalf("%s: the proof's jwk is %v", user, header["jwk"])
		}
		api := &http.Client{Transport: c.Transport(user, nil)}
		if status, _ := getJSON(t, api, "GET", rs.URL+"/ok"); status != 200 {
			t.Fatalf("%s: status %d", user, status)
		}
	}
	// Failures: a user unknown to the server, a bad sign call.
	bad := newClient(t, jwtPreset(srv.TokenURL, nil, map[string]any{"username": "nobody", "client_id": dpopClient.ID, "client_secret": "wrong-CANARY-secret", "dpop": true}),
		host.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if _, err := bad.Token(ctx, "nobody"); err == nil {
		t.Fatal("a wrong secret got a token")
	} else {
		b, _ := json.Marshal(err)
		outs = append(outs, err.Error(), string(b))
	}
	if _, err := c.Sign(ctx, "svc", "GET", "not a url"); err == nil {
		t.Fatal("Sign accepted a relative URL")
	} else {
		outs = append(outs, err.Error())
	}
	var ecPriv map[string]string
	json.Unmarshal([]byte(keys.ecJWK), &ecPriv)
	leaks = append(leaks, dpopClient.Secret, "wrong-CANARY-secret", ecPriv["d"])
	outs = append(outs, logs.String())
	for _, out := range outs {
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Fatalf("leak of %.12q… in:\n%s", leak, out)
			}
		}
		if strings.Contains(out, `"d":`) {
			t.Fatalf("a private key member in:\n%s", out)
		}
	}
}

// jwtPart decodes part i of a compact JWS.
func jwtPart(jws string, i int) (map[string]any, bool) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		return nil, false
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m) == nil
}

// The case against oidc-provider: an API that answers
// use_dpop_nonce, then invalid_token to every request. The transport makes
// 3 API requests with 2 tokens; a token endpoint that demands its own nonce
// costs one more token request for the first token only, since its nonce
// is kept (per origin, apart from the API's) across token fetches.
// Not parallel: it counts the token requests of a shared client.
func TestDPoPNonceThenInvalidToken(t *testing.T) {
	for _, tc := range []struct {
		name          string
		as            *lazyServer
		tokenRequests int
	}{
		{"token endpoint without nonces", dpopServer, 2},
		{"token endpoint with nonces", dpopNonceServer, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.as.get(t)
			var mu sync.Mutex
			var seen []http.Header
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n := len(seen)
				seen = append(seen, r.Header.Clone())
				mu.Unlock()
				if n == 0 {
					w.Header().Set("DPoP-Nonce", "api-nonce")
					w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
				} else {
					w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
				}
				w.WriteHeader(401)
			}))
			defer api.Close()
			c := newClient(t, dpopPreset(srv, false), host.WithEnv(jwtEnv))
			before := srv.TokenRequests(dpopClient.ID)
			status, _ := getJSON(t, &http.Client{Transport: c.Transport("svc", nil)}, "GET", api.URL+"/v1/x")
			if status != 401 || len(seen) != 3 {
				t.Fatalf("status %d after %d API requests, want 401 after 3", status, len(seen))
			}
			if n := srv.TokenRequests(dpopClient.ID) - before; n != tc.tokenRequests {
				t.Errorf("%d token requests, want %d", n, tc.tokenRequests)
			}
			if seen[0].Get("Authorization") != seen[1].Get("Authorization") || seen[1].Get("Authorization") == seen[2].Get("Authorization") {
				t.Error("the nonce retry must keep the token and the token retry must have a new one")
			}
		})
	}
}
