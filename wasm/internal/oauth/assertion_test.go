package oauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/jose"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// jwtParts splits and decodes a compact JWS.
func jwtParts(t *testing.T, jws string) (header, claims map[string]any, input, sig []byte) {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("base64url: %v", err)
		}
		return b
	}
	if err := json.Unmarshal(dec(parts[0]), &header); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dec(parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	return header, claims, []byte(parts[0] + "." + parts[1]), dec(parts[2])
}

func jwtAccount(t *testing.T, key *jose.Key, method string) *preset.Account {
	t.Helper()
	return &preset.Account{
		TokenURL: "https://auth.example.com/oauth/token", ClientID: "svc-1", ClientSecret: "hmac-secret-0123456789abcdef0123456789",
		AuthMethod: method, Key: key, AssertionAudience: preset.AudienceTokenEndpoint,
		Issuer: "https://auth.example.com", Scopes: []string{"read"},
		Params: map[string]string{"client_secret": "never", "x": "y"},
	}
}

func parseTestKey(t *testing.T, priv any, alg string) *jose.Key {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jose.ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestJWTAssertion(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	digest := func(in []byte) []byte { d := sha256.Sum256(in); return d[:] }

	for _, tt := range []struct {
		name, method, alg, kid string
		key                    *jose.Key
		verify                 func(input, sig []byte) error
	}{
		{"RS256", preset.PrivateKeyJWT, "RS256", "rsa-1", parseTestKey(t, rk, ""), func(in, sig []byte) error {
			return rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, digest(in), sig)
		}},
		{"PS256", preset.PrivateKeyJWT, "PS256", "", parseTestKey(t, rk, "PS256"), func(in, sig []byte) error {
			return rsa.VerifyPSS(&rk.PublicKey, crypto.SHA256, digest(in), sig, &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256})
		}},
		{"ES256", preset.PrivateKeyJWT, "ES256", "ec-1", parseTestKey(t, ek, ""), func(in, sig []byte) error {
			if len(sig) != 64 || !ecdsa.Verify(&ek.PublicKey, digest(in), new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
				return errors.New("bad ES256 signature")
			}
			return nil
		}},
		{"HS256", preset.ClientSecretJWT, "HS256", "", jose.HS256([]byte("hmac-secret-0123456789abcdef0123456789")), func(in, sig []byte) error {
			m := hmac.New(sha256.New, []byte("hmac-secret-0123456789abcdef0123456789"))
			m.Write(in)
			if !hmac.Equal(m.Sum(nil), sig) {
				return errors.New("bad HMAC")
			}
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.kid != "" {
				tt.key.Kid = tt.kid
			}
			a := jwtAccount(t, tt.key, tt.method)
			var jtis []string
			for range 2 {
				req, err := TokenRequest(a, now, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := req.Header["Authorization"]; ok {
					t.Error("a JWT method sent an Authorization header")
				}
				form, err := url.ParseQuery(req.Body)
				if err != nil {
					t.Fatal(err)
				}
				if form.Has("client_secret") || strings.Contains(req.Body, "hmac-secret") {
					t.Errorf("the body carries the client secret: %s", req.Body)
				}
				if got := form.Get("client_assertion_type"); got != AssertionType {
					t.Errorf("client_assertion_type = %q", got)
				}
				if form.Get("client_id") != "svc-1" || form.Get("scope") != "read" || form.Get("x") != "y" || form.Get("grant_type") != "client_credentials" {
					t.Errorf("form = %v", form)
				}
				h, c, input, sig := jwtParts(t, form.Get("client_assertion"))
				wantH := map[string]any{"alg": tt.alg, "typ": "JWT"}
				if tt.kid != "" {
					wantH["kid"] = tt.kid
				}
				if !reflect.DeepEqual(h, wantH) {
					t.Errorf("header = %v, want %v", h, wantH)
				}
				if c["iss"] != "svc-1" || c["sub"] != "svc-1" || c["aud"] != a.TokenURL {
					t.Errorf("claims = %v", c)
				}
				if c["iat"] != float64(now.Unix()) || c["exp"].(float64)-c["iat"].(float64) != 60 {
					t.Errorf("iat/exp = %v/%v", c["iat"], c["exp"])
				}
				if _, has := c["nbf"]; has || len(c) != 6 {
					t.Errorf("claims = %v, want exactly iss sub aud iat exp jti", c)
				}
				jti, _ := c["jti"].(string)
				if b, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(b) != 16 {
					t.Errorf("jti = %q, want 16 bytes base64url", jti)
				}
				jtis = append(jtis, jti)
				if err := tt.verify(input, sig); err != nil {
					t.Errorf("signature: %v", err)
				}
			}
			if jtis[0] == jtis[1] {
				t.Error("jti repeated across requests")
			}
		})
	}
}

func TestAssertionAudience(t *testing.T) {
	a := jwtAccount(t, jose.HS256([]byte("k")), preset.ClientSecretJWT)
	for aud, want := range map[string]any{
		preset.AudienceTokenEndpoint: a.TokenURL,
		preset.AudienceIssuer:        a.Issuer,
		preset.AudienceBoth:          []any{a.Issuer, a.TokenURL},
	} {
		a.AssertionAudience = aud
		jws, err := Assertion(a, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, c, _, _ := jwtParts(t, jws); !reflect.DeepEqual(c["aud"], want) {
			t.Errorf("%s: aud = %v, want %v", aud, c["aud"], want)
		}
	}
}

func TestAssertionErrors(t *testing.T) {
	a := jwtAccount(t, nil, preset.PrivateKeyJWT)
	if _, err := TokenRequest(a, time.Now(), nil); err == nil {
		t.Error("no key: no error")
	}
	a.Key = jose.HS256([]byte("k"))
	_, err := TokenRequest(a, time.Now(), bytes.NewReader(make([]byte, 4)))
	if err == nil || !strings.Contains(err.Error(), "jti") {
		t.Errorf("short randomness: %v", err)
	}
}
