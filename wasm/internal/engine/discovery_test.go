package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// discoveryDoc is a discovered preset: user p sets client_secret_post,
// users a and b leave the method to the metadata.
func discoveryDoc(issuer, userExtra string) string {
	return `preset:
- type: oauth_client_credentials
  issuer: ` + issuer + `
  users:
  - username: a
    client_id: id-a
    client_secret: secret-a-CANARY
    headers: {X-Team: red}
    cookies: {tenant: acme}
` + userExtra + `
  - username: b
    client_id: id-b
    client_secret: secret-b-CANARY
  - username: p
    client_id: id-p
    client_secret: secret-p-CANARY
    auth_method: client_secret_post
`
}

func loadDiscovery(t *testing.T, issuer, userExtra string) (*Engine, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := New(c.now)
	s := e.Load([]byte(discoveryDoc(issuer, userExtra)))
	if s.Error != nil {
		t.Fatalf("load: %v", s.Error.Message)
	}
	u := s.Result.(UsersResult).Users[0]
	if u.URL != issuer || u.Issuer != issuer || u.AuthMethod != "" {
		t.Fatalf("user before discovery = %+v", u)
	}
	return e, c
}

func metaBody(issuer, endpoint, methods string) string {
	b := `{"issuer":"` + issuer + `"`
	if endpoint != "" {
		b += `,"token_endpoint":"` + endpoint + `"`
	}
	if methods != "" {
		b += `,"token_endpoint_auth_methods_supported":` + methods
	}
	return b + "}"
}

const tokenBody = `{"access_token":"tok-1","token_type":"Bearer","expires_in":300}`

// checkMetaGET checks a metadata request: a GET of want with Accept only.
func checkMetaGET(t *testing.T, s Step, want string) {
	t.Helper()
	if s.HTTP == nil {
		t.Fatalf("step = %+v, want a metadata GET", s)
	}
	r := s.HTTP
	if r.Method != "GET" || r.URL != want || r.Body != "" {
		t.Fatalf("metadata request %s %s (body %q), want GET %s", r.Method, r.URL, r.Body, want)
	}
	if len(r.Header) != 1 || r.Header["Accept"] != "application/json" {
		t.Fatalf("metadata request headers = %v, want only Accept: application/json", r.Header)
	}
}

func TestDiscoveryWellKnownURLs(t *testing.T) {
	for _, tc := range []struct{ issuer, rfc8414, oidc string }{
		{"https://as.example.com", "https://as.example.com/.well-known/oauth-authorization-server", "https://as.example.com/.well-known/openid-configuration"},
		{"https://as.example.com/", "https://as.example.com/.well-known/oauth-authorization-server", "https://as.example.com/.well-known/openid-configuration"},
		{"https://as.example.com/tenant/one", "https://as.example.com/.well-known/oauth-authorization-server/tenant/one", "https://as.example.com/tenant/one/.well-known/openid-configuration"},
		{"https://as.example.com:8443/tenant/", "https://as.example.com:8443/.well-known/oauth-authorization-server/tenant", "https://as.example.com:8443/tenant/.well-known/openid-configuration"},
	} {
		t.Run(tc.issuer, func(t *testing.T) {
			e, _ := loadDiscovery(t, tc.issuer, "")
			s := e.Token(TokenRequest{User: "a"})
			checkMetaGET(t, s, tc.rfc8414)
			s = e.Resume(s.Task, Input{Response: resp(404, `{}`)})
			checkMetaGET(t, s, tc.oidc)
			s = e.Resume(s.Task, Input{Response: ok(metaBody(tc.issuer, "https://as.example.com/oauth/token", ""))})
			if s.HTTP == nil || s.HTTP.Method != "POST" || s.HTTP.URL != "https://as.example.com/oauth/token" {
				t.Fatalf("after metadata: %+v, want the token request", s)
			}
			// The token request is the usual one: the user's headers and
			// cookies, Basic credentials (no list: the RFC default).
			h := s.HTTP.Header
			if !strings.HasPrefix(h["Authorization"], "Basic ") || h["X-Team"] != "red" || h["Cookie"] != "tenant=acme" {
				t.Errorf("token request headers = %v", h)
			}
			s = e.Resume(s.Task, Input{Response: ok(tokenBody)})
			if r, isTok := s.Result.(TokenResult); !isTok || r.AccessToken != "tok-1" {
				t.Fatalf("token = %+v", s)
			}
		})
	}
}

func TestDiscoveryRFC8414First(t *testing.T) {
	const iss = "https://as.example.com/t1"
	e, _ := loadDiscovery(t, iss, "")
	s := e.Token(TokenRequest{User: "a"})
	checkMetaGET(t, s, "https://as.example.com/.well-known/oauth-authorization-server/t1")
	s = e.Resume(s.Task, Input{Response: ok(metaBody(iss, "https://as.example.com/t1/token", `["private_key_jwt","client_secret_post","client_secret_basic"]`))})
	if s.HTTP == nil || s.HTTP.URL != "https://as.example.com/t1/token" {
		t.Fatalf("want the token request right after RFC 8414 metadata, got %+v", s)
	}
	// Both listed: client_secret_basic is preferred.
	if !strings.HasPrefix(s.HTTP.Header["Authorization"], "Basic ") || strings.Contains(s.HTTP.Body, "client_secret") {
		t.Errorf("want client_secret_basic, got %+v", s.HTTP)
	}
	e.Resume(s.Task, Input{Response: ok(tokenBody)})
	u := e.Users().Result.(UsersResult).Users[0]
	if u.URL != "https://as.example.com/t1/token" || u.AuthMethod != "client_secret_basic" || u.Issuer != iss {
		t.Errorf("user after discovery = %+v", u)
	}
}

func TestDiscoveryMetadataCached(t *testing.T) {
	const iss = "https://as.example.com"
	e, _ := loadDiscovery(t, iss, "")
	s := e.Token(TokenRequest{User: "a"})
	s = e.Resume(s.Task, Input{Response: ok(metaBody(iss, "https://as.example.com/token", `["client_secret_basic","client_secret_post"]`))})
	e.Resume(s.Task, Input{Response: ok(tokenBody)})
	for _, user := range []string{"b", "p"} {
		s = e.Token(TokenRequest{User: user})
		if s.HTTP == nil || s.HTTP.Method != "POST" || s.HTTP.URL != "https://as.example.com/token" {
			t.Fatalf("token for %s: %+v, want the token request with no metadata request", user, s.HTTP)
		}
		if user == "p" && (s.HTTP.Header["Authorization"] != "" || !strings.Contains(s.HTTP.Body, "client_secret=")) {
			t.Errorf("auth_method set by the user must be used: %+v", s.HTTP)
		}
		e.Resume(s.Task, Input{Response: ok(tokenBody)})
	}
	// A reload forgets the metadata (b keeps its token: nothing about it
	// changed; without it, the next token call discovers again).
	e.Load([]byte(discoveryDoc(iss, "")))
	e.Invalidate("b")
	checkMetaGET(t, e.Token(TokenRequest{User: "b"}), "https://as.example.com/.well-known/oauth-authorization-server")
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	const iss = "https://as.example.com"
	for _, body := range []string{
		metaBody("https://evil.example.com", "https://evil.example.com/token", ""),
		metaBody("https://as.example.com/", "https://as.example.com/token", ""), // not exactly equal
		`{"token_endpoint":"https://as.example.com/token"}`,
	} {
		e, _ := loadDiscovery(t, iss, "")
		s := e.Token(TokenRequest{User: "a"})
		s = e.Resume(s.Task, Input{Response: ok(body)})
		if s.Error == nil || s.Error.Code != CodeIssuerMismatch {
			t.Fatalf("metadata %s: %+v, want issuer_mismatch", body, s)
		}
		if s.Error.Field != "preset[0].issuer" || s.Error.User != "a" || !strings.Contains(s.Error.Message, `"https://as.example.com"`) {
			t.Errorf("error = %+v", s.Error)
		}
		if strings.Contains(body, "evil") && !strings.Contains(s.Error.Message, `"https://evil.example.com"`) {
			t.Errorf("message does not name the server's issuer: %s", s.Error.Message)
		}
		// Errors are not cached: the next call fetches the metadata again.
		checkMetaGET(t, e.Token(TokenRequest{User: "a"}), "https://as.example.com/.well-known/oauth-authorization-server")
	}
}

func TestDiscoveryBadMetadata(t *testing.T) {
	const iss = "https://as.example.com"
	for _, tc := range []struct{ name, body, want string }{
		{"no token_endpoint", metaBody(iss, "", ""), "no token_endpoint"},
		{"relative token_endpoint", metaBody(iss, "/token", ""), "token_endpoint"},
		{"plain http elsewhere", metaBody(iss, "http://as.example.com/token", ""), "plain http"},
		{"not JSON", `<html>`, "JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := loadDiscovery(t, iss, "")
			s := e.Token(TokenRequest{User: "a"})
			s = e.Resume(s.Task, Input{Response: ok(tc.body)})
			if s.Error == nil || s.Error.Code != CodeInvalidMetadata || !strings.Contains(s.Error.Message, tc.want) {
				t.Fatalf("got %+v, want invalid_metadata mentioning %q", s, tc.want)
			}
		})
	}
	t.Run("both URLs fail, Retry-After honoured", func(t *testing.T) {
		e, c := loadDiscovery(t, iss, "")
		s := e.Token(TokenRequest{User: "a"})
		s = e.Resume(s.Task, Input{Response: resp(404, "")})
		busy := resp(503, "")
		busy.Header["Retry-After"] = "20"
		s = e.Resume(s.Task, Input{Response: busy})
		if s.Error == nil || s.Error.Code != "http_status" || s.Error.Status != 503 || s.Error.RetryAt != c.t.Add(20*time.Second).UnixMilli() {
			t.Fatalf("got %+v, want http_status 503 with retry_at", s.Error)
		}
		s = e.Token(TokenRequest{User: "b"})
		if s.Error == nil || s.Error.Code != "http_status" || s.Error.User != "b" || s.HTTP != nil {
			t.Fatalf("while blocked: %+v, want the error without a request", s)
		}
		c.add(21 * time.Second)
		checkMetaGET(t, e.Token(TokenRequest{User: "b"}), "https://as.example.com/.well-known/oauth-authorization-server")
	})
	t.Run("network failure", func(t *testing.T) {
		e, _ := loadDiscovery(t, iss, "")
		s := e.Token(TokenRequest{User: "a"})
		s = e.Resume(s.Task, Input{Failure: &httpmsg.Failure{Kind: "network", Message: "connection refused"}})
		if s.Error == nil || s.Error.Code != "network" || s.Error.Field != "preset[0].issuer" {
			t.Fatalf("got %+v, want network error on preset[0].issuer", s.Error)
		}
		checkMetaGET(t, e.Token(TokenRequest{User: "a"}), "https://as.example.com/.well-known/oauth-authorization-server")
	})
}

func TestDiscoveryAuthMethodChoice(t *testing.T) {
	const iss = "https://as.example.com"
	for _, tc := range []struct {
		name, methods, extra string
		want                 string // "" means unsupported_auth_method
	}{
		{"absent list means basic", "", "", "client_secret_basic"},
		{"only post", `["private_key_jwt","client_secret_post"]`, "", "client_secret_post"},
		{"post listed first, basic preferred", `["client_secret_post","client_secret_basic"]`, "", "client_secret_basic"},
		{"raw Basic cannot carry a colon in the id", `["client_secret_basic","client_secret_post"]`, "    basic_encoding: raw\n    client_id: 'id:a'", "client_secret_post"},
		{"none fit", `["private_key_jwt","tls_client_auth"]`, "", ""},
		{"a secret can sign client_secret_jwt", `["private_key_jwt","client_secret_jwt"]`, "", "client_secret_jwt"},
		{"a private key means private_key_jwt", `["client_secret_basic","private_key_jwt"]`, "KEY", "private_key_jwt"},
		{"a private key fits no secret method", `["client_secret_basic","client_secret_jwt"]`, "KEY", ""},
		{"empty list", `[]`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := discoveryDoc(iss, "")
			env := map[string]string{}
			if tc.extra == "KEY" {
				// User a signs with a private key instead of a secret.
				doc = strings.Replace(doc, "    client_secret: secret-a-CANARY\n", "    private_key: ${env:KEY}\n", 1)
				env["KEY"] = testECKeyPEM(t)
			} else if tc.extra != "" {
				doc = strings.Replace(doc, "    client_id: id-a\n", strings.ReplaceAll(tc.extra, `\n`, "\n")+"\n", 1)
			}
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			e := New(c.now)
			s := e.Load([]byte(doc))
			if s.Env != nil {
				s = e.Resume(s.Task, Input{Env: env})
			}
			if s.Error != nil {
				t.Fatalf("load: %v", s.Error.Message)
			}
			s = e.Token(TokenRequest{User: "a"})
			s = e.Resume(s.Task, Input{Response: ok(metaBody(iss, "https://as.example.com/token", tc.methods))})
			if tc.want == "" {
				if s.Error == nil || s.Error.Code != CodeUnsupportedAuthMethod {
					t.Fatalf("got %+v, want unsupported_auth_method", s)
				}
				can, listed := "client_secret_basic or client_secret_post", `"private_key_jwt"`
				if tc.extra == "KEY" {
					can, listed = "only private_key_jwt", `"client_secret_jwt"`
				}
				if !strings.Contains(s.Error.Message, can) || (tc.methods != "[]" && !strings.Contains(s.Error.Message, listed)) {
					t.Errorf("message should name what the server and the user support: %s", s.Error.Message)
				}
				// A user with auth_method set is not checked.
				s = e.Token(TokenRequest{User: "p"})
				if s.HTTP == nil || !strings.Contains(s.HTTP.Body, "client_secret=") {
					t.Fatalf("user p with auth_method set: %+v", s)
				}
				return
			}
			if s.HTTP == nil {
				t.Fatalf("got %+v, want the token request", s)
			}
			if strings.HasSuffix(tc.want, "_jwt") {
				alg := map[string]string{"client_secret_jwt": "HS256", "private_key_jwt": "ES256"}[tc.want]
				if !assertionAlg(t, s.HTTP.Body, alg) || strings.Contains(s.HTTP.Body, "client_secret=") || s.HTTP.Header["Authorization"] != "" {
					t.Errorf("want %s with an %s assertion; Authorization %q, body %q", tc.want, alg, s.HTTP.Header["Authorization"], s.HTTP.Body)
				}
				return
			}
			basic := strings.HasPrefix(s.HTTP.Header["Authorization"], "Basic ")
			post := strings.Contains(s.HTTP.Body, "client_secret=")
			if basic == post || basic != (tc.want == "client_secret_basic") {
				t.Errorf("want %s; Authorization %q, body %q", tc.want, s.HTTP.Header["Authorization"], s.HTTP.Body)
			}
		})
	}
}

// testECKeyPEM is a new P-256 private key in PKCS #8 PEM.
func testECKeyPEM(t *testing.T) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// assertionAlg reports whether the form body carries a jwt-bearer client
// assertion whose header names alg.
func assertionAlg(t *testing.T, body, alg string) bool {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil || form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return false
	}
	head, _, _ := strings.Cut(form.Get("client_assertion"), ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	return err == nil && strings.Contains(string(raw), `"alg":"`+alg+`"`)
}

// TestDiscoveryOp checks that the discovery op lists the URLs the token
// call fetches, so a relay that allows exactly those allows what the
// module would fetch.
func TestDiscoveryOp(t *testing.T) {
	if s := New(nil).Discovery(); s.Error == nil || s.Error.Code != CodeNotLoaded {
		t.Fatalf("before load: %+v, want not_loaded", s)
	}
	const iss = "https://as.example.com:8443/tenant/"
	e, _ := loadDiscovery(t, iss, "")
	got := e.Discovery().Result.(DiscoveryResult).Issuers
	if len(got) != 1 || got[0].Issuer != iss || got[0].Insecure || strings.Join(got[0].Users, ",") != "a,b,p" {
		t.Fatalf("issuers = %+v", got)
	}
	s := e.Token(TokenRequest{User: "a"})
	checkMetaGET(t, s, got[0].MetadataURLs[0])
	checkMetaGET(t, e.Resume(s.Task, Input{Response: resp(404, "")}), got[0].MetadataURLs[1])
	if len(got[0].MetadataURLs) != 2 {
		t.Errorf("metadata_urls = %v, want two", got[0].MetadataURLs)
	}

	e = New(nil)
	if s := e.Load([]byte(`preset:
- {type: oauth_client_credentials, url: "https://as.example.com/token", users: [{username: direct, client_id: d, client_secret: x}]}
- {type: oauth_client_credentials, issuer: "http://as.internal", insecure: true, users: [{username: lan, client_id: l, client_secret: y}]}
`)); s.Error != nil {
		t.Fatal(s.Error.Message)
	}
	got = e.Discovery().Result.(DiscoveryResult).Issuers
	if len(got) != 1 || got[0].Issuer != "http://as.internal" || !got[0].Insecure || got[0].Users[0] != "lan" {
		t.Fatalf("issuers = %+v, want only the insecure discovered one", got)
	}
}

// TestMetadataOp checks that the metadata op accepts and refuses exactly
// what a token call's discovery does.
func TestMetadataOp(t *testing.T) {
	const iss = "https://as.example.com/t"
	for _, tc := range []struct {
		name     string
		issuer   string
		insecure bool
		status   int
		body     string
		code     string // "" for accepted
		endpoint string
	}{
		{"usable", iss, false, 200, metaBody(iss, "https://as.example.com/t/token", ""), "", "https://as.example.com/t/token"},
		{"another issuer", iss, false, 200, metaBody("https://evil.example.com", "https://evil.example.com/token", ""), CodeIssuerMismatch, ""},
		{"the issuer with a terminating slash", iss, false, 200, metaBody(iss+"/", "https://as.example.com/t/token", ""), CodeIssuerMismatch, ""},
		{"no issuer", iss, false, 200, `{"token_endpoint":"https://as.example.com/token"}`, CodeIssuerMismatch, ""},
		{"relative endpoint", iss, false, 200, metaBody(iss, "/token", ""), CodeInvalidMetadata, ""},
		{"plain http elsewhere", iss, false, 200, metaBody(iss, "http://as.example.com/token", ""), CodeInvalidMetadata, ""},
		{"plain http with insecure", iss, true, 200, metaBody(iss, "http://as.example.com/token", ""), "", "http://as.example.com/token"},
		{"not JSON", iss, false, 200, `<html>`, CodeInvalidMetadata, ""},
		{"not 200", iss, false, 404, metaBody(iss, "https://as.example.com/t/token", ""), "http_status", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(nil).Metadata(MetadataRequest{Issuer: tc.issuer, Insecure: tc.insecure, Response: resp(tc.status, tc.body)})
			if tc.code != "" {
				if s.Error == nil || s.Error.Code != tc.code {
					t.Fatalf("got %+v, want %s", s, tc.code)
				}
				return
			}
			r, isMeta := s.Result.(MetadataResult)
			if !isMeta || r.TokenEndpoint != tc.endpoint || r.Issuer != tc.issuer {
				t.Fatalf("got %+v, want token endpoint %s", s, tc.endpoint)
			}
			if tc.insecure {
				return // loadDiscovery's preset is not insecure
			}
			// The same answer makes a token call send its request there.
			e, _ := loadDiscovery(t, tc.issuer, "")
			step := e.Token(TokenRequest{User: "a"})
			step = e.Resume(step.Task, Input{Response: resp(tc.status, tc.body)})
			if step.HTTP == nil || step.HTTP.URL != tc.endpoint {
				t.Errorf("token call after the same metadata: %+v", step)
			}
		})
	}
	for _, bad := range []MetadataRequest{{Response: resp(200, "{}")}, {Issuer: iss}} {
		if s := New(nil).Metadata(bad); s.Error == nil || s.Error.Code != CodeBadRequest {
			t.Errorf("Metadata(%+v) = %+v, want bad_request", bad, s)
		}
	}
}
