package e2e

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
)

// entraEndpoint is a token endpoint that behaves as Microsoft Entra ID
// documents its v2 endpoint for client credentials: the client assertion
// (RFC 7523) must name the registered certificate by thumbprint, x5t (SHA-1)
// with RS256 or x5t#S256 (SHA-256) with PS256, its aud must be the token
// endpoint itself, and scopes must end in /.default. Federated credentials:
// an assertion signed by a trusted workload issuer (not by the client) is
// accepted when its iss and sub are the registered ones. It answers
// token_type Bearer with expires_in and ext_expires_in.
type entraEndpoint struct {
	srv      *httptest.Server
	cert     *x509.Certificate // the application's registered certificate
	issuer   *rsa.PublicKey    // the trusted workload issuer's key
	clientID string

	mu         sync.Mutex
	assertions []string // every client_assertion accepted, in order
	refusals   []string
}

const (
	entraTenant      = "contoso-tenant"
	workloadIssuer   = "https://oidc.cluster.example/issuer"
	workloadSubject  = "system:serviceaccount:apps:api"
	entraExchangeAud = "api://AzureADTokenExchange"
)

func newEntraEndpoint(t *testing.T, cert *x509.Certificate, issuer *rsa.PublicKey) *entraEndpoint {
	e := &entraEndpoint{cert: cert, issuer: issuer, clientID: "00000000-1111-2222-3333-444444444444"}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *entraEndpoint) tokenURL() string {
	return e.srv.URL + "/" + entraTenant + "/oauth2/v2.0/token"
}

func (e *entraEndpoint) refuse(w http.ResponseWriter, code, why string) {
	e.mu.Lock()
	e.refusals = append(e.refusals, why)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": why})
}

func (e *entraEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/"+entraTenant+"/oauth2/v2.0/token" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		e.refuse(w, "invalid_request", "not a form")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") != "client_credentials":
		e.refuse(w, "unsupported_grant_type", "grant_type")
		return
	case f.Get("client_id") != e.clientID:
		e.refuse(w, "unauthorized_client", "client_id")
		return
	case !strings.HasSuffix(f.Get("scope"), "/.default"):
		e.refuse(w, "invalid_scope", "AADSTS1002012: the scope must end in /.default for client credentials")
		return
	case f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		e.refuse(w, "invalid_client", "client_assertion_type")
		return
	case r.Header.Get("Authorization") != "" || f.Has("client_secret"):
		e.refuse(w, "invalid_request", "two client authentication methods")
		return
	}
	jwt := f.Get("client_assertion")
	if why := e.check(jwt); why != "" {
		e.refuse(w, "invalid_client", why)
		return
	}
	e.mu.Lock()
	e.assertions = append(e.assertions, jwt)
	n := len(e.assertions)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"entra-token-%d"}`, n)
}

// check verifies a client assertion as Entra does: signed by the registered
// certificate (named by thumbprint) or by the trusted workload issuer.
func (e *entraEndpoint) check(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "not a JWT"
	}
	var hdr map[string]any
	var claims struct {
		Iss, Sub string
		Aud      any
		Exp, Nbf int64
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return "undecodable JWT"
	}
	if claims.Exp < time.Now().Unix() {
		return "AADSTS700024: the assertion has expired"
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if claims.Iss == workloadIssuer {
		// A federated credential: the platform's token for the workload.
		if claims.Sub != workloadSubject || claims.Aud != entraExchangeAud {
			return "AADSTS70021: no federated credential matches the assertion's iss, sub and aud"
		}
		if hdr["alg"] != "RS256" || rsa.VerifyPKCS1v15(e.issuer, crypto.SHA256, digest[:], sig) != nil {
			return "the workload token's signature does not verify against the issuer's key"
		}
		return ""
	}
	if claims.Iss != e.clientID || claims.Sub != e.clientID {
		return "iss and sub must be the client id"
	}
	if claims.Aud != e.tokenURL() {
		return "AADSTS700016-like: aud must be the token endpoint"
	}
	s256 := sha256.Sum256(e.cert.Raw)
	s1 := sha1.Sum(e.cert.Raw)
	pub := e.cert.PublicKey.(*rsa.PublicKey)
	switch hdr["alg"] {
	case "PS256":
		if hdr["x5t#S256"] != base64.RawURLEncoding.EncodeToString(s256[:]) {
			return "AADSTS700027: PS256 needs x5t#S256 of the registered certificate"
		}
		if rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
			return "AADSTS700027: the signature does not verify"
		}
	case "RS256":
		if hdr["x5t"] != base64.RawURLEncoding.EncodeToString(s1[:]) {
			return "AADSTS700027: RS256 needs x5t of the registered certificate"
		}
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			return "AADSTS700027: the signature does not verify"
		}
	default:
		return "unsupported alg"
	}
	return ""
}

func (e *entraEndpoint) accepted() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.assertions...)
}

// entraCert is an application key and its self-signed certificate, as one
// uploads to an app registration.
func entraCert(t *testing.T) (keyPEM, certPEM string, cert *x509.Certificate) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "cctoken-app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert
}

func entraPreset(tokenURL, user string) []byte {
	return []byte(fmt.Sprintf(`preset:
- type: oauth_client_credentials
  url: %s
  users:
  - username: app
    client_id: 00000000-1111-2222-3333-444444444444
    scopes: [https://graph.microsoft.com/.default]
%s`, tokenURL, user))
}

// TestEntraCertificate: private_key_jwt with the certificate named by
// thumbprint, PS256 (x5t#S256) and RS256 (x5t), the certificate as PEM
// from the environment and as a file; without certificate the endpoint
// refuses, as Entra does.
func TestEntraCertificate(t *testing.T) {
	t.Parallel()
	keyPEM, certPEM, cert := entraCert(t)
	ep := newEntraEndpoint(t, cert, nil)
	certFile := filepath.Join(t.TempDir(), "app.crt")
	if err := os.WriteFile(certFile, []byte(certPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	env := host.WithEnv(func(name string) (string, bool) {
		return map[string]string{"APP_KEY": keyPEM, "APP_CERT": certPEM}[name], true
	})
	for _, c := range []struct{ name, user string }{
		{"PS256, certificate from the environment", "    auth_method: private_key_jwt\n    private_key: ${env:APP_KEY}\n    certificate: ${env:APP_CERT}\n    alg: PS256\n"},
		{"RS256, certificate file", "    auth_method: private_key_jwt\n    private_key: ${env:APP_KEY}\n    certificate: " + certFile + "\n    alg: RS256\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := newClient(t, entraPreset(ep.tokenURL(), c.user), env).Token(testCtx(t), "app")
			if err != nil {
				t.Fatalf("Token: %v (the endpoint said: %v)", err, ep.refusals)
			}
			if tok.TokenType != "Bearer" || !strings.HasPrefix(tok.AccessToken, "entra-token-") || time.Until(tok.Expiry) < 50*time.Minute {
				t.Fatalf("token %+v", tok)
			}
		})
	}
	// Without the thumbprint Entra refuses the assertion.
	_, err := newClient(t, entraPreset(ep.tokenURL(), "    auth_method: private_key_jwt\n    private_key: ${env:APP_KEY}\n    alg: PS256\n"), env).Token(testCtx(t), "app")
	var he *host.Error
	if !errors.As(err, &he) || he.Code != "invalid_client" {
		t.Fatalf("without certificate: %v, want invalid_client", err)
	}
}

// TestFederatedAssertionFile: a workload JWT signed by the platform's
// issuer is read from a file for every token request; a replaced file is
// picked up by the running client, and the CLI (a real process) does the
// same. Content of the file never appears in errors.
func TestFederatedAssertionFile(t *testing.T) {
	t.Parallel()
	issuerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ep := newEntraEndpoint(t, nil, &issuerKey.PublicKey)
	workload := func(exp time.Time) string {
		h, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "cluster-1"})
		c, _ := json.Marshal(map[string]any{"iss": workloadIssuer, "sub": workloadSubject, "aud": entraExchangeAud,
			"iat": time.Now().Unix(), "exp": exp.Unix(), "jti": fmt.Sprint(time.Now().UnixNano())})
		in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
		d := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(rand.Reader, issuerKey, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "azure-identity-token")
	// The platform replaces the file by rename, as Kubernetes projects it.
	replace := func(jwt string) {
		tmp := filepath.Join(dir, "next")
		if err := os.WriteFile(tmp, []byte(jwt+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	first := workload(time.Now().Add(time.Hour))
	replace(first)
	preset := entraPreset(ep.tokenURL(), "    client_assertion_file: "+file+"\n")
	c := newClient(t, preset)
	ctx := testCtx(t)
	if _, err := c.Token(ctx, "app"); err != nil {
		t.Fatalf("first token: %v (the endpoint said: %v)", err, ep.refusals)
	}
	second := workload(time.Now().Add(2 * time.Hour))
	replace(second)
	c.Invalidate(ctx, "app")
	if _, err := c.Token(ctx, "app"); err != nil {
		t.Fatalf("second token: %v", err)
	}
	got := ep.accepted()
	if len(got) != 2 || got[0] != first || got[1] != second {
		t.Fatalf("the endpoint accepted %d assertions; want the first file's, then the replaced file's", len(got))
	}

	// An expired workload token, and a missing file: clear errors naming
	// the field and the path, nothing sent, no content in the error.
	before := len(ep.accepted()) + len(ep.refusals)
	expired := workload(time.Now().Add(-time.Minute))
	replace(expired)
	c.Invalidate(ctx, "app")
	_, err = c.Token(ctx, "app")
	var he *host.Error
	if !errors.As(err, &he) || he.Code != "credential_file" || !strings.Contains(he.Message, "expired") || !strings.HasSuffix(he.Field, "client_assertion_file") {
		t.Fatalf("expired file: %v", err)
	}
	if strings.Contains(err.Error(), strings.Split(expired, ".")[1]) {
		t.Fatal("the error quotes the assertion")
	}
	missing := newClient(t, entraPreset(ep.tokenURL(), "    client_assertion_file: "+filepath.Join(dir, "absent")+"\n"))
	if _, err := missing.Token(ctx, "app"); !errors.As(err, &he) || he.Code != "credential_file" || !strings.Contains(he.Message, "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
	if after := len(ep.accepted()) + len(ep.refusals); after != before {
		t.Fatalf("%d requests reached the endpoint for unusable files", after-before)
	}

	// The command line, as a real process.
	replace(workload(time.Now().Add(time.Hour)))
	presetFile := filepath.Join(dir, "preset.yaml")
	if err := os.WriteFile(presetFile, preset, 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, "", "token", presetFile, "--user", "app")
	if res.code != 0 || !strings.HasPrefix(strings.TrimSpace(res.stdout), "entra-token-") {
		t.Fatalf("cctoken token: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	replace(expired)
	res = runCLI(t, nil, "", "token", presetFile, "--user", "app")
	if res.code == 0 || !strings.Contains(res.stderr, "client_assertion_file") || strings.Contains(res.stderr, strings.Split(expired, ".")[1]) {
		t.Fatalf("cctoken token with an expired file: exit %d, stderr %q", res.code, res.stderr)
	}
}
