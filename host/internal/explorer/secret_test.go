package explorer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Every route, static files included, answers only requests that carry the
// per-launch secret: other processes of the machine reach the port and
// pass the Host and Origin checks.
func TestEveryRouteNeedsTheSecret(t *testing.T) {
	up := newUpstream(t)
	s := mustNew(t, presetFor(up.URL+"/token"), nil)
	secret := s.Secret()
	wrong := []byte(secret)
	wrong[len(wrong)-1] ^= 1 // one bit off, same length

	routes := []struct {
		method, path string
		body         any
		want         int // with the secret
	}{
		{"GET", "/", nil, http.StatusOK},
		{"GET", "/index.html", nil, http.StatusOK},
		{"GET", "/js/dist/cctoken.bundle.js", nil, http.StatusOK},
		{"GET", "/host/embed/cctoken.wasm", nil, http.StatusOK},
		{"HEAD", "/index.html", nil, http.StatusOK},
		{"GET", "/preset", nil, http.StatusOK},
		{"GET", "/relay", nil, http.StatusOK},
		{"POST", "/relay", map[string]any{"method": "POST", "url": up.URL + "/token", "body": "grant_type=client_credentials"}, http.StatusOK},
		{"POST", "/relay/preset", map[string]string{"text": string(presetFor(up.URL + "/other"))}, http.StatusOK},
		{"GET", "/no-such-page", nil, http.StatusNotFound},
	}
	credentials := []struct {
		name   string
		header string
		query  string
		ok     bool
	}{
		{name: "no secret"},
		{name: "an empty header", header: ""},
		{name: "a wrong secret in the header", header: string(wrong)},
		{name: "a wrong secret in the query", query: string(wrong)},
		{name: "a prefix of the secret", header: secret[:len(secret)-1]},
		{name: "the secret and more", header: secret + "x"},
		{name: "the secret in the header", header: secret, ok: true},
		{name: "the secret in the query", query: secret, ok: true},
	}
	for _, rt := range routes {
		for _, c := range credentials {
			var body []byte
			if rt.body != nil {
				body, _ = json.Marshal(rt.body)
			}
			target := rt.path
			if c.query != "" {
				target += "?" + SecretParam + "=" + url.QueryEscape(c.query)
			}
			r := httptest.NewRequest(rt.method, target, bytes.NewReader(body))
			r.Host = self
			r.Header.Set("Origin", "http://"+self)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			r.Header.Set("Content-Type", "application/json")
			if c.header != "" {
				r.Header.Set(SecretHeader, c.header)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if c.ok {
				if w.Code != rt.want {
					t.Errorf("%s %s with %s: status %d, want %d: %s", rt.method, rt.path, c.name, w.Code, rt.want, w.Body)
				}
				continue
			}
			if w.Code != http.StatusForbidden {
				t.Errorf("%s %s with %s: status %d, want 403", rt.method, rt.path, c.name, w.Code)
				continue
			}
			if rt.method == "HEAD" {
				continue
			}
			e := decode(t, w)
			if e.Error != "secret_required" || !strings.Contains(e.Message, "open the URL cctoken explore printed") {
				t.Errorf("%s %s with %s: %+v", rt.method, rt.path, c.name, e)
			}
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("%s %s with %s: the answer holds the secret", rt.method, rt.path, c.name)
			}
		}
	}
	// Only the two POST /relay that carried the secret reached the target.
	if n := up.requests(); n != 2 {
		t.Fatalf("the upstream got %d requests, want 2", n)
	}
}

// The secret is drawn anew for every server, from 256 random bits, and the
// printed URL carries it.
func TestTheSecretIsPerLaunchAndInTheURL(t *testing.T) {
	a, b := mustNew(t, nil, nil), mustNew(t, nil, nil)
	if a.Secret() == b.Secret() {
		t.Fatal("two servers drew the same secret")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a.Secret())
	if err != nil || len(raw) < 16 {
		t.Fatalf("secret %d bytes (%v); want at least 128 bits", len(raw), err)
	}
	if got, want := a.URL("127.0.0.1:4000"), "http://127.0.0.1:4000/?token="+a.Secret(); got != want {
		t.Fatalf("URL %q, want %q", got, want)
	}
	u, err := url.Parse(a.URL("127.0.0.1:4000"))
	if err != nil || u.Query().Get(SecretParam) != a.Secret() {
		t.Fatalf("the URL does not carry the secret intact: %v", err)
	}
}

// The relay learns no http:// token endpoint off loopback from metadata, as
// the module takes none: it would send the client secret in the clear.
func TestRelayLearnsNoPlainHTTPTokenEndpointOffLoopback(t *testing.T) {
	for _, c := range []struct {
		name, tokenURL string
		learned        bool
	}{
		{"http to another host", "http://192.0.2.1/token", false},
		{"http to a name", "http://auth.example.com/token", false},
		{"http to a private address", "http://10.0.0.1:8080/token", false},
		{"https anywhere", "https://auth.example.com/token", true},
		{"http to localhost", "http://localhost:9/token", true},
		{"http to 127.0.0.2", "http://127.0.0.2:9/token", true},
		{"http to ::1", "http://[::1]:9/token", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			auth := newAuthServer(t, "", func(base string) map[string]any {
				return map[string]any{"issuer": base, "token_endpoint": c.tokenURL}
			})
			s := mustNew(t, issuerPreset(auth.URL), nil)
			if code, status := relayed(t, s, "GET", auth.URL+"/.well-known/oauth-authorization-server"); code != http.StatusOK || status != http.StatusOK {
				t.Fatalf("metadata: status %d, target %d", code, status)
			}
			var info struct {
				TokenURLs []string `json:"token_urls"`
			}
			if err := json.Unmarshal(get(s, "/relay").Body.Bytes(), &info); err != nil {
				t.Fatal(err)
			}
			if learned := len(info.TokenURLs) == 1; learned != c.learned {
				t.Fatalf("learned %v (%q), want %v", learned, info.TokenURLs, c.learned)
			}
			if !c.learned {
				if code, _ := relayed(t, s, "POST", c.tokenURL); code != http.StatusForbidden {
					t.Fatalf("POST %s: status %d, want 403", c.tokenURL, code)
				}
			}
		})
	}
}

// An issuer that is itself http:// off loopback comes only from a preset
// with insecure: true; its metadata may name an http:// token endpoint, as
// the module then allows.
func TestInsecureIssuerMayNamePlainHTTPTokenEndpoint(t *testing.T) {
	if !insecureIssuer("http://auth.example.com") || insecureIssuer("http://127.0.0.1:8080") || insecureIssuer("https://auth.example.com") {
		t.Fatal("insecureIssuer")
	}
	s := mustNew(t, nil, nil)
	doc := []byte(`{"issuer":"http://auth.example.com","token_endpoint":"http://auth.example.com/token"}`)
	if got := s.learn([]string{"http://auth.example.com"}, doc); got != "http://auth.example.com/token" {
		t.Fatalf("learned %q", got)
	}
}
