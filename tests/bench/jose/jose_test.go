// Package jose measures what signing costs inside the module: ES256 DPoP
// proofs (Client.Sign of a DPoP user with a cached token) and a whole
// private_key_jwt token fetch (Invalidate then Token: an assertion signed
// in the module, one HTTP exchange), each next to golang-jwt/jwt/v5 doing
// the same natively in the same run. run.sh prints the figures and ratios.
//
// The token endpoint is a local httptest server that checks nothing and
// answers every POST with a token.
package jose

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cctoken/cctoken/host"
)

const accessToken = "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"

// tokenServer answers every POST to /token with a token of tokenType.
func tokenServer(tb testing.TB, tokenType string) *httptest.Server {
	body := `{"access_token":"` + accessToken + `","token_type":"` + tokenType + `","expires_in":3600}`
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			http.Error(w, "not a token request", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	tb.Cleanup(s.Close)
	return s
}

func cacheDir() string {
	if d := os.Getenv("CCTOKEN_BENCH_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "cctoken-bench-cache")
}

func newClient(tb testing.TB, preset string, env map[string]string) *host.Client {
	tb.Helper()
	c, err := host.New(context.Background(), []byte(preset), host.WithCacheDir(cacheDir()),
		host.WithEnv(func(name string) (string, bool) { v, ok := env[name]; return v, ok }))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func pemOf(tb testing.TB, key any) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// BenchmarkDPoPProof: one ES256 DPoP proof for a request. cctoken is
// Client.Sign (one module call: the cached token, a fresh P-256 signature);
// golang_jwt signs the same header (typ, public jwk) and claims natively.
func BenchmarkDPoPProof(b *testing.B) {
	b.Run("cctoken", func(b *testing.B) {
		srv := tokenServer(b, "DPoP")
		c := newClient(b, fmt.Sprintf("preset:\n- type: oauth_client_credentials\n  url: %s/token\n  users:\n  - {username: svc, client_id: svc-id, client_secret: svc-secret, dpop: true}\n", srv.URL), nil)
		ctx := context.Background()
		if _, err := c.Token(ctx, "svc"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			h, err := c.Sign(ctx, "svc", "GET", "https://api.example.com/v1/things?page=2")
			if err != nil || h.Get("DPoP") == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang_jwt", func(b *testing.B) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		pub, _ := key.PublicKey.Bytes()
		b64 := base64.RawURLEncoding.EncodeToString
		jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])}
		sum := sha256.Sum256([]byte(accessToken))
		ath := b64(sum[:])
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			u, _ := url.Parse("https://api.example.com/v1/things?page=2")
			u.RawQuery = ""
			var jti [16]byte
			rand.Read(jti[:])
			t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
				"jti": b64(jti[:]), "htm": "GET", "htu": u.String(), "iat": time.Now().Unix(), "ath": ath,
			})
			t.Header["typ"] = "dpop+jwt"
			t.Header["jwk"] = jwk
			s, err := t.SignedString(key)
			if err != nil || s == "" {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPrivateKeyJWTFetch: one private_key_jwt token fetch. cctoken is
// Invalidate then Token (the assertion is signed in the module); golang_jwt
// signs the same assertion, POSTs the same form with net/http and decodes
// the JSON answer.
func BenchmarkPrivateKeyJWTFetch(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, alg := range []struct {
		name   string
		key    any
		method jwt.SigningMethod
	}{
		{"RS256", rsaKey, jwt.SigningMethodRS256},
		{"ES256", ecKey, jwt.SigningMethodES256},
	} {
		b.Run("cctoken_"+alg.name, func(b *testing.B) {
			srv := tokenServer(b, "Bearer")
			c := newClient(b, fmt.Sprintf("preset:\n- type: oauth_client_credentials\n  url: %s/token\n  users:\n  - {username: svc, client_id: svc-id, auth_method: private_key_jwt, private_key: '${env:KEY}'}\n", srv.URL),
				map[string]string{"KEY": pemOf(b, alg.key)})
			ctx := context.Background()
			if _, err := c.Token(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := c.Invalidate(ctx, "svc"); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Token(ctx, "svc"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("golang_jwt_"+alg.name, func(b *testing.B) {
			srv := tokenServer(b, "Bearer")
			tokenURL := srv.URL + "/token"
			hc := &http.Client{Timeout: 10 * time.Second}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var jti [16]byte
				rand.Read(jti[:])
				now := time.Now().Unix()
				assertion, err := jwt.NewWithClaims(alg.method, jwt.MapClaims{
					"iss": "svc-id", "sub": "svc-id", "aud": tokenURL, "iat": now, "exp": now + 60,
					"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
				}).SignedString(alg.key)
				if err != nil {
					b.Fatal(err)
				}
				form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc-id"},
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
				resp, err := hc.Post(tokenURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
				if err != nil {
					b.Fatal(err)
				}
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				err = json.NewDecoder(resp.Body).Decode(&tok)
				resp.Body.Close()
				if err != nil || tok.AccessToken == "" {
					b.Fatal(err)
				}
			}
		})
	}
}
