package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

const mtlsKeyPEM = "-----BEGIN PRIVATE KEY-----\nKEY-CANARY-41d2\n-----END PRIVATE KEY-----\n"

// mtlsDoc has a tls_client_auth user (files), a self-signed one (PEM from
// the environment) and a
// client_secret_basic user without a certificate.
func mtlsDoc(where string) string {
	return `preset:
- type: oauth_client_credentials
  ` + where + `
  users:
  - username: tls
    client_id: id-tls
    auth_method: tls_client_auth
    tls_client_certificate: /etc/tls.crt
    tls_client_key: /etc/tls.key
  - username: self
    client_id: id-self
    auth_method: self_signed_tls_client_auth
    tls_client_certificate: ${env:CERT}
    tls_client_key: ${env:KEY}
  - username: plain
    client_id: id-plain
    client_secret: plain-secret
`
}

var mtlsEnv = map[string]string{"CERT": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "KEY": mtlsKeyPEM}

func loadMTLS(t *testing.T, where string) *Engine {
	t.Helper()
	e := New((&clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).now)
	s := e.Load([]byte(mtlsDoc(where)))
	if s.Env == nil {
		t.Fatalf("load did not ask for the environment: %+v", s)
	}
	if s = e.Resume(s.Task, Input{Env: mtlsEnv}); s.Error != nil {
		t.Fatalf("load: %v", s.Error.Message)
	}
	return e
}

func TestMTLSTokenRequest(t *testing.T) {
	e := loadMTLS(t, "url: https://as.example.com/token")
	for _, tc := range []struct {
		user string
		want *httpmsg.TLSClient
		body string
	}{
		{"tls", &httpmsg.TLSClient{CertFile: "/etc/tls.crt", KeyFile: "/etc/tls.key"}, "grant_type=client_credentials&client_id=id-tls"},
		{"self", &httpmsg.TLSClient{CertPEM: mtlsEnv["CERT"], KeyPEM: mtlsKeyPEM}, "grant_type=client_credentials&client_id=id-self"},
		{"plain", nil, "grant_type=client_credentials"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			s := e.Token(TokenRequest{User: tc.user})
			r := s.HTTP
			if r == nil {
				t.Fatalf("step = %+v, want the token request", s)
			}
			if r.Body != tc.body {
				t.Errorf("body = %q, want %q", r.Body, tc.body)
			}
			_, basic := r.Header["Authorization"]
			if basic != (tc.want == nil) {
				t.Errorf("Authorization header present = %v", basic)
			}
			if (r.TLSClient == nil) != (tc.want == nil) || (tc.want != nil && *r.TLSClient != *tc.want) {
				t.Errorf("tls_client = %+v, want %+v", r.TLSClient, tc.want)
			}
			s = e.Resume(s.Task, Input{Response: ok(tokenBody)})
			if _, isTok := s.Result.(TokenResult); !isTok {
				t.Fatalf("answer = %+v", s)
			}
		})
	}
}

// TestMTLSFailures: a host that cannot use the certificate, or cannot
// present one at all, gets an error naming the field it is about and the
// user, never the key.
func TestMTLSFailures(t *testing.T) {
	for _, tc := range []struct {
		user  string
		fail  httpmsg.Failure
		code  string
		field string
	}{
		{"tls", httpmsg.Failure{Kind: "client_certificate", Message: "the file /etc/tls.crt does not exist", Field: "tls_client_certificate"},
			"client_certificate", "preset[0].users[0].tls_client_certificate"},
		{"tls", httpmsg.Failure{Kind: "client_certificate", Message: "the key does not match", Field: "tls_client_key"},
			"client_certificate", "preset[0].users[0].tls_client_key"},
		{"self", httpmsg.Failure{Kind: "client_certificate", Message: "no PEM"},
			"client_certificate", "preset[0].users[1].tls_client_certificate"},
		{"self", httpmsg.Failure{Kind: "unsupported", Message: "mTLS needs the Go host", Field: "tls_client_certificate"},
			"unsupported", "preset[0].users[1].tls_client_certificate"},
	} {
		t.Run(tc.code+"/"+tc.field, func(t *testing.T) {
			e := loadMTLS(t, "url: https://as.example.com/token")
			s := e.Token(TokenRequest{User: tc.user})
			s = e.Resume(s.Task, Input{Failure: &tc.fail})
			err := s.Error
			if err == nil || err.Code != tc.code || err.Field != tc.field || err.User != tc.user {
				t.Fatalf("error = %+v, want %s on %s for %s", err, tc.code, tc.field, tc.user)
			}
			if !strings.Contains(err.Message, tc.fail.Message) || strings.Contains(err.Message, "KEY-CANARY") {
				t.Errorf("message = %q", err.Message)
			}
		})
	}
}

// TestMTLSEndpointAlias: with discovery, users presenting a certificate use
// mtls_endpoint_aliases.token_endpoint (RFC 8705 §5), the others the plain
// token_endpoint.
func TestMTLSEndpointAlias(t *testing.T) {
	const iss = "https://as.example.com"
	meta := `{"issuer":"` + iss + `","token_endpoint":"https://as.example.com/token",` +
		`"mtls_endpoint_aliases":{"token_endpoint":"https://mtls.as.example.com/token"}}`
	e := loadMTLS(t, "issuer: "+iss)
	s := e.Token(TokenRequest{User: "tls"})
	checkMetaGET(t, s, iss+"/.well-known/oauth-authorization-server")
	if s.HTTP.TLSClient != nil {
		t.Errorf("the metadata GET presents a certificate: %+v", s.HTTP.TLSClient)
	}
	s = e.Resume(s.Task, Input{Response: ok(meta)})
	if s.HTTP == nil || s.HTTP.URL != "https://mtls.as.example.com/token" || s.HTTP.TLSClient == nil {
		t.Fatalf("tls user's request = %+v, want the alias with a certificate", s.HTTP)
	}
	e.Resume(s.Task, Input{Response: ok(tokenBody)})
	for user, want := range map[string]string{"self": "https://mtls.as.example.com/token", "plain": "https://as.example.com/token"} {
		s = e.Token(TokenRequest{User: user})
		if s.HTTP == nil || s.HTTP.URL != want {
			t.Errorf("%s: request = %+v, want %s", user, s.HTTP, want)
		}
	}
	users := e.Users().Result.(UsersResult).Users
	if users[0].URL != "https://mtls.as.example.com/token" || users[2].URL != "https://as.example.com/token" {
		t.Errorf("users = %+v", users)
	}

	// Without an alias the token_endpoint serves everyone; an unusable
	// alias is refused for certificate users only.
	for _, tc := range []struct{ meta, tlsWant, code string }{
		{`{"issuer":"` + iss + `","token_endpoint":"https://as.example.com/token"}`, "https://as.example.com/token", ""},
		{`{"issuer":"` + iss + `","token_endpoint":"https://as.example.com/token","mtls_endpoint_aliases":{"token_endpoint":"http://mtls.as.example.com/token"}}`, "", CodeInvalidMetadata},
	} {
		e := loadMTLS(t, "issuer: "+iss)
		s := e.Token(TokenRequest{User: "tls"})
		s = e.Resume(s.Task, Input{Response: ok(tc.meta)})
		if tc.code != "" {
			if s.Error == nil || s.Error.Code != tc.code || !strings.Contains(s.Error.Message, "mtls_endpoint_aliases") {
				t.Errorf("bad alias: %+v", s)
			}
			if p := e.Token(TokenRequest{User: "plain"}); p.HTTP == nil || p.HTTP.URL != "https://as.example.com/token" {
				t.Errorf("plain user with a bad alias: %+v", p)
			}
			continue
		}
		if s.HTTP == nil || s.HTTP.URL != tc.tlsWant {
			t.Errorf("no alias: %+v", s.HTTP)
		}
	}
}
