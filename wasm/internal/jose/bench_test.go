package jose

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"
)

const accessToken = "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"

// BenchmarkJoseNative is the module's signing code built natively.
// tests/bench/jose/run.sh sets it beside the same signing inside the module
// (what running in wasm costs) and beside golang-jwt (what the code costs).
func BenchmarkJoseNative(b *testing.B) {
	key, err := GenerateES256(nil)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(accessToken))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	b.Run("dpop_proof", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var jti [16]byte
			rand.Read(jti[:])
			_, err := key.Sign(map[string]any{"typ": "dpop+jwt", "jwk": key.PublicJWK()}, map[string]any{
				"jti": base64.RawURLEncoding.EncodeToString(jti[:]), "htm": "GET", "htu": "https://api.example.com/v1/things",
				"iat": time.Now().Unix(), "ath": ath,
			}, nil)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	rk, err := ParseKey(pkcs8PEM(b, rsaKey), "")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("rs256_assertion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rk.Sign(nil, map[string]any{"iss": "svc-id", "sub": "svc-id", "aud": "https://a.example/token", "iat": 1, "exp": 61, "jti": "x"}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
