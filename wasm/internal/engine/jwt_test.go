package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

const jwtDoc = `preset:
- type: oauth_client_credentials
  url: https://auth.example.com/token
  auth_method: private_key_jwt
  users:
  - username: k
    client_id: id-k
    private_key: ${env:KEY}
`

func loadJWT(t *testing.T) (*Engine, string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	e := New(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	s := e.Load([]byte(jwtDoc))
	s = e.Resume(s.Task, Input{Env: map[string]string{"KEY": key}})
	if s.Error != nil {
		t.Fatalf("load: %v", s.Error.Message)
	}
	return e, key
}

// A server that echoes the assertion and the key leaks neither.
func TestJWTErrorsRedacted(t *testing.T) {
	e, key := loadJWT(t)
	s := e.Token(TokenRequest{User: "k"})
	if s.HTTP == nil {
		t.Fatalf("no HTTP step: %+v", s)
	}
	form, _ := url.ParseQuery(s.HTTP.Body)
	assertion := form.Get("client_assertion")
	if assertion == "" || form.Get("client_id") != "id-k" {
		t.Fatalf("body = %s", s.HTTP.Body)
	}
	sig := assertion[strings.LastIndexByte(assertion, '.')+1:]
	keyLine := strings.Split(key, "\n")[1]
	// error_description is cut to a few hundred characters, so each echo
	// is tried on its own.
	for i, echo := range []func() string{
		func() string { return assertion },
		func() string { return "sig " + sig },
		func() string { return "key " + keyLine },
		func() string { return key },
	} {
		if i > 0 {
			s = e.Token(TokenRequest{User: "k"})
			form, _ = url.ParseQuery(s.HTTP.Body)
			assertion = form.Get("client_assertion")
			sig = assertion[strings.LastIndexByte(assertion, '.')+1:]
		}
		desc, _ := json.Marshal(echo())
		s = e.Resume(s.Task, Input{Response: resp(401, `{"error":"invalid_client","error_description":`+string(desc)+`}`)})
		if s.Error == nil || s.Error.Code != "invalid_client" {
			t.Fatalf("step = %+v", s)
		}
		out, _ := json.Marshal(s.Error)
		for _, leak := range []string{assertion[:len(assertion)/2], sig, keyLine} {
			if strings.Contains(string(out), leak) {
				t.Fatalf("error leaks %q: %s", leak, out)
			}
		}
		if !strings.Contains(s.Error.Description, "[redacted]") {
			t.Errorf("description = %q", s.Error.Description)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestJWTSigningFailure(t *testing.T) {
	e, _ := loadJWT(t)
	e.random = failingReader{}
	s := e.Token(TokenRequest{User: "k"})
	if s.Error == nil || s.Error.Code != CodeSigningFailed || s.Error.Field != "preset[0].users[0].private_key" || s.Error.User != "k" {
		t.Fatalf("step = %+v", s)
	}
	if e.Pending() != 0 {
		t.Error("a failed signing left a task waiting")
	}
}
