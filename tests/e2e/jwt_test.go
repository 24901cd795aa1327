package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/tests/oidctest"
)

// jwtKeys are the private keys of the JWT clients, made once per test
// binary; the server is registered with their public halves.
type jwtKeys struct {
	rsaPEM, wrongPEM string // PKCS#8 PEM
	ecJWK            string // a private JWK
	rsaPub, ecPub    map[string]any
}

func makeJWTKeys() jwtKeys {
	var k jwtKeys
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	wrong, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	pkcs8 := func(priv any) string {
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			panic(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	k.rsaPEM, k.wrongPEM = pkcs8(rk), pkcs8(wrong)
	d, err := ek.Bytes()
	if err != nil {
		panic(err)
	}
	pub, err := ek.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		panic(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwk, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "kid": "e2e-ec-1",
		"x": b64(pub[1:33]), "y": b64(pub[33:]), "d": b64(d)})
	k.ecJWK = string(jwk)

	// The public JWKs, as the server's client registrations hold them.
	k.rsaPub = map[string]any{"kty": "RSA", "kid": "e2e-rsa-1",
		"n": b64(rk.PublicKey.N.Bytes()), "e": b64(big.NewInt(int64(rk.PublicKey.E)).Bytes())}
	k.ecPub = map[string]any{"kty": "EC", "crv": "P-256", "kid": "e2e-ec-1", "alg": "ES256",
		"x": b64(pub[1:33]), "y": b64(pub[33:])}
	return k
}

var (
	keys = makeJWTKeys()

	rsaJWTClient = oidctest.Client{ID: "e2e-pkjwt-rsa", AuthMethod: oidctest.AuthPrivateKeyJWT, Scopes: []string{"read"}, JWKS: []map[string]any{keys.rsaPub}}
	ecJWTClient  = oidctest.Client{ID: "e2e-pkjwt-ec", AuthMethod: oidctest.AuthPrivateKeyJWT, Scopes: []string{"read"}, JWKS: []map[string]any{keys.ecPub}}
	// secretJWTClient's secret is 32 bytes or more, as RFC 7518 §3.2 asks.
	secretJWTClient = oidctest.Client{ID: "e2e-csjwt", Secret: "client-secret-jwt-0123456789-abcdefghij", AuthMethod: oidctest.AuthSecretJWT, Scopes: []string{"read"}}
	canaryJWTClient = oidctest.Client{ID: "e2e-pkjwt-canary", AuthMethod: oidctest.AuthPrivateKeyJWT, Scopes: []string{"read"}, JWKS: []map[string]any{keys.rsaPub}}
	canaryECClient  = oidctest.Client{ID: "e2e-pkjwt-canary-ec", AuthMethod: oidctest.AuthPrivateKeyJWT, Scopes: []string{"read"}, JWKS: []map[string]any{keys.ecPub}}

	jwtServer = &lazyServer{opts: oidctest.Options{
		Clients:           []oidctest.Client{introspector, rsaJWTClient, ecJWTClient, secretJWTClient, canaryJWTClient, canaryECClient},
		AccessTokenTTL:    300,
		StrictAuthMethods: true,
	}}
)

// jwtEnv serves the private keys as environment variables.
func jwtEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"E2E_RSA_KEY":   keys.rsaPEM,
		"E2E_WRONG_KEY": keys.wrongPEM,
		"E2E_EC_KEY":    keys.ecJWK,
	}[name]
	return v, ok
}

// jwtUser is a preset user of a JWT client; the private key comes from
// ${env:keyVar} (client_secret_jwt users have no key).
func jwtUser(name string, c oidctest.Client, keyVar string, extra map[string]any) map[string]any {
	u := map[string]any{"username": name, "client_id": c.ID, "auth_method": c.AuthMethod, "scopes": c.Scopes}
	if keyVar != "" {
		u["private_key"] = "${env:" + keyVar + "}"
	} else {
		u["client_secret"] = c.Secret
	}
	for k, v := range extra {
		if v == nil {
			delete(u, k) // a nil removes a setting
			continue
		}
		u[k] = v
	}
	return u
}

// jwtPreset is a preset document of the users at tokenURL; settings with
// an issuer replace url with it (discovery).
func jwtPreset(tokenURL string, settings map[string]any, users ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"preset": []any{jwtPresetMap(tokenURL, settings, users...)}})
	if err != nil {
		panic(err)
	}
	return b
}

func jwtPresetMap(tokenURL string, settings map[string]any, users ...map[string]any) map[string]any {
	p := map[string]any{"type": "oauth_client_credentials", "url": tokenURL, "users": users}
	for k, v := range settings {
		p[k] = v
	}
	if _, ok := settings["issuer"]; ok {
		delete(p, "url")
	}
	return p
}

// TestJWTClientAuth gets tokens with private_key_jwt (RS256 from PEM,
// ES256 from a JWK) and client_secret_jwt, with every assertion_audience,
// and checks at the server that they are active and that the server saw
// the JWT method (it is strict: another method would be refused).
func TestJWTClientAuth(t *testing.T) {
	t.Parallel()
	srv := jwtServer.get(t)
	cases := []struct {
		name     string
		client   oidctest.Client
		keyVar   string
		settings map[string]any
		extra    map[string]any
	}{
		{"private_key_jwt RS256 PEM", rsaJWTClient, "E2E_RSA_KEY", nil, map[string]any{"kid": "e2e-rsa-1"}},
		{"private_key_jwt ES256 JWK", ecJWTClient, "E2E_EC_KEY", nil, nil},
		{"private_key_jwt PS256", rsaJWTClient, "E2E_RSA_KEY", nil, map[string]any{"alg": "PS256"}},
		{"client_secret_jwt", secretJWTClient, "", nil, nil},
		// With an issuer the preset discovers the token endpoint, and the
		// issuer in aud is the one discovery checked.
		{"aud issuer", rsaJWTClient, "E2E_RSA_KEY", map[string]any{"assertion_audience": "issuer", "issuer": srv.Issuer}, nil},
		{"aud both", ecJWTClient, "E2E_EC_KEY", map[string]any{"assertion_audience": "both", "issuer": srv.Issuer}, nil},
		{"client_secret_jwt aud both", secretJWTClient, "", map[string]any{"assertion_audience": "both", "issuer": srv.Issuer}, nil},
		// With no auth_method, discovery picks private_key_jwt for a user
		// with a private key from the server's list.
		{"discovery picks private_key_jwt", ecJWTClient, "E2E_EC_KEY", map[string]any{"issuer": srv.Issuer}, map[string]any{"auth_method": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			method := tc.client.AuthMethod
			before := srv.AuthMethodRequests(tc.client.ID, method)
			c := newClient(t, jwtPreset(srv.TokenURL, tc.settings, jwtUser("svc", tc.client, tc.keyVar, tc.extra)), host.WithEnv(jwtEnv))
			for range 2 { // the second comes from the cache
				tok, err := c.Token(ctx, "svc")
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				active, clientID, scope := srv.Introspect(t, tok.AccessToken, introspector)
				if !active || clientID != tc.client.ID || scope != "read" {
					t.Errorf("introspection: active %v, client %q, scope %q", active, clientID, scope)
				}
			}
			if n := srv.AuthMethodRequests(tc.client.ID, method) - before; n != 1 {
				t.Errorf("%d %s requests, want 1", n, method)
			}
		})
	}
}

// TestJWTWrongKey: a key the server does not know is refused with
// invalid_client, and a fresh assertion (new jti) is made for the retry.
func TestJWTWrongKey(t *testing.T) {
	t.Parallel()
	srv := jwtServer.get(t)
	ctx := testCtx(t)
	c := newClient(t, jwtPreset(srv.TokenURL, nil, jwtUser("svc", canaryJWTClient, "E2E_WRONG_KEY", nil)), host.WithEnv(jwtEnv))
	_, err := c.Token(ctx, "svc")
	var he *host.Error
	if !errors.As(err, &he) || he.Code != "invalid_client" || he.Status != 401 {
		t.Fatalf("Token with the wrong key: %v", err)
	}
}

// TestJWTLoadErrors: a private key that is not one, or whose alg does not
// fit, fails host.New with the field named and no key material.
func TestJWTLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		extra map[string]any
		says  string
	}{
		{"alg does not fit", map[string]any{"alg": "ES256"}, "not a usable private key"},
		{"issuer missing", map[string]any{"assertion_audience": "both"}, "the preset has no issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := host.New(testCtx(t), jwtPreset("https://auth.example.com/token", nil, jwtUser("svc", rsaJWTClient, "E2E_RSA_KEY", tc.extra)),
				host.WithEnv(jwtEnv), host.WithCacheDir(cacheDir))
			var he *host.Error
			if !errors.As(err, &he) || he.Code != "invalid_preset" || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("host.New: %v", err)
			}
			for _, line := range keyLines(keys.rsaPEM) {
				if strings.Contains(err.Error(), line) {
					t.Fatalf("the error quotes the key: %v", err)
				}
			}
		})
	}
}

// rerouteTransport sends requests for the URL from to the URL to instead.
type rerouteTransport struct{ from, to string }

func (rt rerouteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.String() == rt.from {
		r = r.Clone(r.Context())
		u, err := url.Parse(rt.to)
		if err != nil {
			return nil, err
		}
		r.URL, r.Host = u, u.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

// keyLines are the base64 runs of a PEM or the values of a JWK: what a
// leak of the key would contain.
func keyLines(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune("\n\r\",:{}", r) }) {
		if len(f) >= 16 && !strings.HasPrefix(f, "-----") {
			out = append(out, f)
		}
	}
	return out
}

// TestJWTCanary: neither the private keys (PEM and JWK) nor any assertion
// sent appear in a debug log or an error, on success and on failure.
func TestJWTCanary(t *testing.T) {
	t.Parallel()
	srv := jwtServer.get(t)
	// The good users' token requests go through the proxy, which records
	// them, by way of the HTTP client, so their aud is still the server's
	// token endpoint. wrong-aud names the proxy itself as its token URL,
	// so its aud is one the server refuses.
	proxy := newTokenProxy(t, srv.TokenURL)
	ctx := testCtx(t)
	var logs lockedBuffer
	via := &http.Client{Transport: rerouteTransport{from: srv.TokenURL, to: proxy.URL + "/token"}}
	doc, err := json.Marshal(map[string]any{"preset": []any{
		jwtPresetMap(srv.TokenURL, nil,
			jwtUser("good-rsa", canaryJWTClient, "E2E_RSA_KEY", nil),
			jwtUser("good-ec", canaryECClient, "E2E_EC_KEY", nil),
			jwtUser("wrong-key", canaryJWTClient, "E2E_WRONG_KEY", nil)),
		jwtPresetMap(proxy.URL+"/token", nil, jwtUser("wrong-aud", canaryJWTClient, "E2E_RSA_KEY", nil)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, doc, host.WithEnv(jwtEnv), host.WithHTTPClient(via),
		host.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	var errs []string
	for _, user := range []string{"good-rsa", "good-ec"} {
		tok, err := c.Token(ctx, user)
		if err != nil {
			t.Fatalf("Token(%s): %v", user, err)
		}
		if active, _, _ := srv.Introspect(t, tok.AccessToken, introspector); !active {
			t.Errorf("%s: token not active", user)
		}
	}
	for _, user := range []string{"wrong-key", "wrong-aud"} {
		_, err := c.Token(ctx, user)
		var he *host.Error
		if !errors.As(err, &he) || he.Code != "invalid_client" {
			t.Fatalf("Token(%s): %v", user, err)
		}
		b, _ := json.Marshal(he)
		errs = append(errs, err.Error(), string(b))
	}

	var leaks []string
	leaks = append(leaks, keyLines(keys.rsaPEM)...)
	leaks = append(leaks, keyLines(keys.wrongPEM)...)
	var ecPriv map[string]string
	json.Unmarshal([]byte(keys.ecJWK), &ecPriv)
	leaks = append(leaks, keys.ecJWK, ecPriv["d"])
	proxy.mu.Lock()
	assertions := 0
	for _, b := range proxy.bodies {
		f, _ := url.ParseQuery(b)
		if a := f.Get("client_assertion"); a != "" {
			assertions++
			leaks = append(leaks, a, a[strings.LastIndexByte(a, '.')+1:])
		}
		if f.Has("client_secret") {
			t.Errorf("a private_key_jwt request carried client_secret")
		}
	}
	proxy.mu.Unlock()
	if len(proxy.authHeaders) != 0 {
		t.Errorf("private_key_jwt sent an Authorization header")
	}
	if assertions != 4 {
		t.Errorf("%d assertions went through the proxy, want 4", assertions)
	}
	if logs.String() == "" {
		t.Error("no debug log written")
	}
	outs := append([]string{logs.String()}, errs...)
	for _, out := range outs {
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Fatalf("leak of %.12q… in:\n%s", leak, out)
			}
		}
	}
}
