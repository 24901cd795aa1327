package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

// TestStoreCredentials: private_key_jwt shares through the store under
// names derived from the key (another key finds nothing); DPoP users never
// use the store, and a reload does not keep their tokens (their DPoP key
// is made anew).
func TestStoreCredentials(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	body := func() string { return `{"access_token":"tok-CANARY-jwt","token_type":"Bearer","expires_in":60}` }
	newKey := func() string {
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	withKey := func(key string) *Engine {
		e := New(c.now)
		e.SetStore(&StoreConfig{})
		s := e.Load([]byte(jwtDoc))
		if s = e.Resume(s.Task, Input{Env: map[string]string{"KEY": key}}); s.Error != nil {
			t.Fatal(s.Error)
		}
		return e
	}
	key := newKey()
	a, b := withKey(key), withKey(key)
	st.drive(t, a, a.Token(TokenRequest{User: "k"}), body)
	st.ops = nil
	if s := st.drive(t, b, b.Token(TokenRequest{User: "k"}), body); s.Result == nil || st.hits != 1 || strings.Join(st.ops, ",") != "get" {
		t.Fatalf("same key: %d hits, ops %v", st.hits, st.ops)
	}
	for k, v := range st.vals {
		if strings.Contains(k+v, "PRIVATE") || strings.Contains(k+v, "CANARY") {
			t.Fatalf("store shows the key or the token: %q", k)
		}
	}
	other := withKey(newKey())
	st.drive(t, other, other.Token(TokenRequest{User: "k"}), body)
	if st.hits != 2 {
		t.Fatalf("another key: %d hits, want its own request", st.hits)
	}

	d := New(c.now)
	d.SetStore(&StoreConfig{})
	d.Load([]byte(dpopDoc))
	st.ops = nil
	s := st.drive(t, d, d.Token(TokenRequest{User: "d"}), func() string {
		return `{"access_token":"tok-d","token_type":"DPoP","expires_in":60}`
	})
	if s.Error != nil || strings.Join(st.ops, ",") != "http" {
		t.Fatalf("DPoP user: %+v, ops %v; want no store effects", s.Error, st.ops)
	}
	d.SetStore(&StoreConfig{})
	if got := d.Load([]byte(dpopDoc)).Result.(UsersResult).Kept; len(got) != 1 || got[0] != "b" {
		t.Fatalf("reload kept %v, want only the bearer user b: a DPoP user's token needs its old key", got)
	}
}
