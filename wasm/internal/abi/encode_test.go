package abi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// The hand-written answers must be byte for byte what encoding/json writes.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	odd := "a<b>&\"\\\b\f\n\r\t\x01\x7f é \u2028\u2029 \xff😀"
	cases := []struct {
		name string
		a    Answer
		fast bool
	}{
		{"http", Answer{Task: 3, HTTP: &httpmsg.Request{Method: "POST", URL: "https://as.example.com/token",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", "Authorization": "Basic eA=="},
			Body:   "grant_type=client_credentials&scope=a+b"}}, true},
		{"http get", Answer{Task: 4, HTTP: &httpmsg.Request{Method: "GET", URL: "https://as.example.com/.well-known/x"}}, true},
		{"http mtls", Answer{Task: 5, HTTP: &httpmsg.Request{Method: "POST", URL: odd, Header: map[string]string{odd: odd, "": ""},
			Body: odd, TLSClient: &httpmsg.TLSClient{CertFile: "/c.pem", KeyPEM: odd}}}, true},
		{"http tls empty", Answer{Task: 5, HTTP: &httpmsg.Request{Method: "POST", URL: "u", TLSClient: &httpmsg.TLSClient{}}}, true},
		{"token", Answer{Result: engine.TokenResult{User: "svc", AccessToken: "tok", TokenType: "Bearer", ExpiresAt: 1767225600000,
			ExpirySource: "expires_in", Scopes: []string{"read", odd}, RefreshAt: -1, UseUntil: 1767225570000,
			Headers: map[string]string{"Authorization": "Bearer tok", "X-Team": "a", "Cookie": "tenant=acme", "B": "1", "A": "2", "C": "3", "D": "4", "E": "5", "F": "6"}}}, true},
		{"token bare", Answer{Result: engine.TokenResult{Scopes: []string{}}}, true},
		{"invalidate", Answer{Result: engine.InvalidateResult{Dropped: 2}}, true},
		{"token last error", Answer{Result: engine.TokenResult{User: "u", LastError: &engine.Error{Code: "x", Message: "y"}}}, false},
		{"error", Answer{Error: &engine.Error{Code: "bad_request", Message: odd}}, false},
		{"env", Answer{Task: 1, Env: []string{"A"}}, false},
		{"users", Answer{Result: engine.UsersResult{}}, false},
		{"http without task", Answer{HTTP: &httpmsg.Request{Method: "GET"}}, false},
	}
	for _, c := range cases {
		want, err := json.Marshal(c.a)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeAnswer(&c.a); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
		if _, fast := appendAnswer(nil, &c.a); fast != c.fast {
			t.Errorf("%s: written by hand %v, want %v", c.name, fast, c.fast)
		}
	}
}

func FuzzEncodeString(f *testing.F) {
	for _, s := range []string{"", "plain", "a<b>&\"\\\b\f\n\r\t\x01\x7f", "é\u2028\u2029\xff\xed\xa0\x80😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		a := Answer{Task: 1, HTTP: &httpmsg.Request{Method: s, URL: s, Header: map[string]string{s: s, "x" + s: ""}, Body: s}}
		want, _ = json.Marshal(a)
		if got := encodeAnswer(&a); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
