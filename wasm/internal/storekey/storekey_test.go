package storekey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

func TestDeriveAndSeal(t *testing.T) {
	w := What{Endpoint: "https://as.example/token", ClientID: "svc", Scopes: []string{"b", "a"}, Audience: "api"}
	n, err := Derive([]byte("s3cret-value"), w)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n.Token, "cctoken:{") || !strings.HasSuffix(n.Token, "}:token") || n.Lock != strings.TrimSuffix(n.Token, "token")+"lock" {
		t.Fatalf("names %q %q: want one hash tag for both", n.Token, n.Lock)
	}
	if strings.Contains(n.Token, "s3cret") || strings.Contains(n.Token, "svc") {
		t.Fatalf("name %q shows the credential or the client id", n.Token)
	}
	// Scopes are a set.
	w2 := w
	w2.Scopes = []string{"a", "b"}
	if n2, _ := Derive([]byte("s3cret-value"), w2); n2.Token != n.Token {
		t.Fatal("scope order changed the name")
	}
	// Every field and the credential change the name.
	for i, o := range []What{
		{Endpoint: "https://as.example/token2", ClientID: "svc", Scopes: w.Scopes, Audience: "api"},
		{Endpoint: w.Endpoint, ClientID: "svc2", Scopes: w.Scopes, Audience: "api"},
		{Endpoint: w.Endpoint, ClientID: "svc", Scopes: []string{"a"}, Audience: "api"},
		{Endpoint: w.Endpoint, ClientID: "svc", Scopes: w.Scopes, Audience: "api2"},
		{Endpoint: w.Endpoint, ClientID: "svc", Scopes: w.Scopes, Audience: "api", Resource: []string{"https://r"}},
		// Field boundaries are unambiguous.
		{Endpoint: w.Endpoint + "s", ClientID: "vc", Scopes: w.Scopes, Audience: "api"},
	} {
		if m, _ := Derive([]byte("s3cret-value"), o); m.Token == n.Token {
			t.Errorf("case %d: same name for another token", i)
		}
	}
	other, _ := Derive([]byte("wrong"), w)
	if other.Token == n.Token {
		t.Fatal("another credential gives the same name")
	}

	rec := Record{AccessToken: "at-canary-123", TokenType: "Bearer", ExpirySource: "expires_in", Scopes: []string{"a", "b"},
		Expiry: time.UnixMilli(1767225600000), Obtained: time.UnixMilli(1767225000000)}
	v, err := n.Seal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "canary") || strings.Contains(v, "Bearer") {
		t.Fatalf("sealed value shows the token: %q", v)
	}
	got, err := n.Open(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != rec.AccessToken || got.TokenType != "Bearer" || !got.Expiry.Equal(rec.Expiry) ||
		!got.Obtained.Equal(rec.Obtained) || strings.Join(got.Scopes, " ") != "a b" || got.ExpirySource != "expires_in" {
		t.Fatalf("round trip: %+v", got)
	}
	// The value of one name does not open under another credential or name.
	other.Token = n.Token
	if _, err := other.Open(v); err != ErrUnusable {
		t.Fatalf("wrong credential: %v", err)
	}
	m, _ := Derive([]byte("s3cret-value"), w2)
	m.Token = "cctoken:{x}:token"
	if _, err := m.Open(v); err != ErrUnusable {
		t.Fatalf("moved value: %v", err)
	}
	for _, bad := range []string{"", "!!", v[:10], v[:len(v)-2] + "AA"} {
		if _, err := n.Open(bad); err != ErrUnusable {
			t.Errorf("Open(%q) = %v", bad, err)
		}
	}
	if _, err := Derive(nil, w); err == nil {
		t.Fatal("empty credential accepted")
	}
}

func TestHKDF(t *testing.T) {
	for _, n := range []int{16, 32, 64, 100} {
		for _, secret := range []string{"x", "a much longer secret than one block of SHA-256, to be sure it is hashed first"} {
			want, err := hkdf.Key(sha256.New, []byte(secret), nil, "cctoken store keys v1", n)
			if err != nil {
				t.Fatal(err)
			}
			if got := hkdfKey(secret, n); !bytes.Equal(got, want) {
				t.Fatalf("hkdf(%q, %d) differs from crypto/hkdf", secret, n)
			}
		}
	}
}

func hkdfKey(secret string, n int) []byte {
	return hkdfSHA256([]byte(secret), "cctoken store keys v1", n)
}
