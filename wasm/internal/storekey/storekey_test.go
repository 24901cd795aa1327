package storekey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// derive names a token the way the engine does.
func derive(t *testing.T, credential, secret, canon string, scopes []string, audience string, resource []string) Names {
	t.Helper()
	c, err := NewCredential([]byte(credential), []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Request([]byte(canon))
	if err != nil {
		t.Fatal(err)
	}
	return r.Names(scopes, audience, resource)
}

func TestNamesAndSeal(t *testing.T) {
	canon := string(Encode([]string{"https://as.example/token", "svc"}))
	n := derive(t, "s3cret-value", "", canon, []string{"b", "a"}, "api", nil)
	if !strings.HasPrefix(n.Token, "cctoken:{") || !strings.HasSuffix(n.Token, "}:token") || n.Lock != strings.TrimSuffix(n.Token, "token")+"lock" {
		t.Fatalf("names %q %q: want one hash tag for both", n.Token, n.Lock)
	}
	if strings.Contains(n.Token, "s3cret") || strings.Contains(n.Token, "svc") {
		t.Fatalf("name %q shows the credential or the client id", n.Token)
	}
	// Scopes and resources are sets.
	if n2 := derive(t, "s3cret-value", "", canon, []string{"a", "b"}, "api", nil); n2.Token != n.Token {
		t.Fatal("scope order changed the name")
	}
	// Every input changes the name: the credential, the store secret, the
	// request, and each per-token part.
	for name, o := range map[string]Names{
		"credential":   derive(t, "wrong", "", canon, []string{"b", "a"}, "api", nil),
		"store secret": derive(t, "s3cret-value", "deployment-secret-0123", canon, []string{"b", "a"}, "api", nil),
		"request":      derive(t, "s3cret-value", "", canon+"x", []string{"b", "a"}, "api", nil),
		"scopes":       derive(t, "s3cret-value", "", canon, []string{"a"}, "api", nil),
		"audience":     derive(t, "s3cret-value", "", canon, []string{"b", "a"}, "api2", nil),
		"resource":     derive(t, "s3cret-value", "", canon, []string{"b", "a"}, "api", []string{"https://r"}),
		// Field boundaries are unambiguous.
		"boundary": derive(t, "s3cret-value", "", canon, []string{"b", "a"}, "", []string{"api"}),
	} {
		if o.Token == n.Token {
			t.Errorf("another %s gives the same name", name)
		}
	}
	other := derive(t, "wrong", "", canon, []string{"b", "a"}, "api", nil)
	otherSecret := derive(t, "s3cret-value", "deployment-secret-0123", canon, []string{"b", "a"}, "api", nil)
	otherRequest := derive(t, "s3cret-value", "", canon+"x", []string{"b", "a"}, "api", nil)

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
	// The value of one name does not open under another credential, store
	// secret, request or name.
	for name, o := range map[string]Names{"credential": other, "store secret": otherSecret, "request": otherRequest} {
		o.Token = n.Token
		if _, err := o.Open(v); err != ErrUnusable {
			t.Fatalf("wrong %s: %v", name, err)
		}
	}
	m := n
	m.Token = "cctoken:{x}:token"
	if _, err := m.Open(v); err != ErrUnusable {
		t.Fatalf("moved value: %v", err)
	}
	for _, bad := range []string{"", "!!", v[:10], v[:len(v)-2] + "AA"} {
		if _, err := n.Open(bad); err != ErrUnusable {
			t.Errorf("Open(%q) = %v", bad, err)
		}
	}
	if _, err := NewCredential(nil, nil); err == nil {
		t.Fatal("empty credential accepted")
	}
}

func TestHKDF(t *testing.T) {
	for _, n := range []int{16, 32, 64, 100} {
		for _, secret := range []string{"x", "a much longer secret than one block of SHA-256, to be sure it is hashed first"} {
			for _, salt := range []string{"", "deployment-secret-0123"} {
				want, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), Scheme, n)
				if err != nil {
					t.Fatal(err)
				}
				if got := hkdfSHA256([]byte(salt), []byte(secret), Scheme, n); !bytes.Equal(got, want) {
					t.Fatalf("hkdf(%q, salt %q, %d) differs from crypto/hkdf", secret, salt, n)
				}
			}
		}
	}
}

func TestEncode(t *testing.T) {
	enc := func(parts ...string) string { return string(Encode(parts)) }
	if enc("ab", "c") == enc("a", "bc") || enc("a", "") == enc("a") {
		t.Fatal("two sequences encode the same")
	}
	if got := Fingerprint("-----BEGIN PRIVATE KEY-----"); strings.Contains(got, "PRIVATE") || len(got) != 32 || Fingerprint("") != "" {
		t.Fatalf("fingerprint %q: want 32 bytes of hash and nothing of the text", got)
	}
}
