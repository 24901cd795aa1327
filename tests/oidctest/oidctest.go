// Package oidctest runs a real OAuth 2.0 authorization server
// (node-oidc-provider, see tests/oidc/server.mjs) for end-to-end tests.
//
// The server is a Node.js child process listening on 127.0.0.1 on a free
// port. It needs the npm packages from tests/package.json; install them with
// tests/setup.sh. The process ends when the test's cleanup runs, and also by
// itself when its stdin closes, so it cannot outlive a test binary that dies.
package oidctest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Token endpoint client authentication methods (RFC 7591 names).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
	// AuthSecretJWT: a JWT assertion signed with HS256 under Secret.
	AuthSecretJWT = "client_secret_jwt"
	// AuthPrivateKeyJWT: a JWT assertion signed with a private key whose
	// public part is in Client.JWKS; Secret must be empty.
	AuthPrivateKeyJWT = "private_key_jwt"
	// Mutual TLS (RFC 8705); they need Options.TLS.
	AuthTLS           = "tls_client_auth"
	AuthSelfSignedTLS = "self_signed_tls_client_auth"
)

// Client is a confidential client registered at the server.
type Client struct {
	ID     string
	Secret string
	// AuthMethod is AuthBasic (the default when empty), AuthPost,
	// AuthSecretJWT or AuthPrivateKeyJWT. oidc-provider accepts basic and
	// post from any client with a secret unless Options.StrictAuthMethods
	// is set.
	AuthMethod string
	// JWKS are the client's public keys (JWK objects), required for
	// AuthPrivateKeyJWT.
	JWKS []map[string]any
	// Scopes the client may request. All of them are declared at the
	// server; requesting any other scope yields invalid_scope.
	Scopes []string
	// For AuthTLS: the DNS name the client certificate must carry as a
	// subjectAltName (tls_client_auth_san_dns), or its subject DN as Node
	// prints it joined with commas, e.g. "CN=svc,O=test"
	// (tls_client_auth_subject_dn). Set one. The certificate must be
	// issued by a CA in TLSOptions.CAPEM.
	TLSSanDNS, TLSSubjectDN string
	// For AuthSelfSignedTLS: the client's certificate (PEM), registered as
	// its JWKS with x5c.
	CertificatePEM string
}

// Options configure the server.
type Options struct {
	Clients []Client
	// AccessTokenTTL is the lifetime of client_credentials access tokens
	// in seconds; 0 means 300.
	AccessTokenTTL int
	// CORSOrigins may call the token, introspection and revocation
	// endpoints cross-origin; "*" allows any origin. Requests carrying
	// another Origin header are rejected with invalid_request.
	CORSOrigins []string
	// JWTAccessTokens makes access tokens RS256 JWTs (typ at+jwt, aud
	// Server.Resource) verifiable with the keys at JWKSURL. oidc-provider
	// does not introspect JWT access tokens.
	JWTAccessTokens bool
	// StrictAuthMethods makes the server reject (invalid_client) a client
	// that authenticates with a method other than its AuthMethod.
	StrictAuthMethods bool
	// Scopes are declared in addition to the clients' scopes.
	Scopes []string
	// Resource is the resource indicator used for JWT access tokens (their
	// audience); empty means "urn:cctoken:test-api".
	Resource string
	// DPoPRequireNonce makes the server demand its nonce in DPoP proofs
	// (use_dpop_nonce and a DPoP-Nonce header otherwise). DPoP itself is
	// always on: a token request with a proof gets a DPoP-bound token.
	DPoPRequireNonce bool
	// TLS serves https and enables oidc-provider's mTLS feature
	// (tls_client_auth, self_signed_tls_client_auth, optional
	// certificate-bound tokens).
	TLS *TLSOptions
}

// TLSOptions make the server speak https. The listener asks for a client
// certificate but does not require one; oidc-provider judges it.
type TLSOptions struct {
	CertPEM, KeyPEM string // the server's certificate (for 127.0.0.1) and key
	// CAPEM verifies client certificates (tls_client_auth) and is what the
	// Server's own helper client trusts for the server certificate.
	CAPEM string
	// MTLSAlias moves mutual TLS to a second listener, published as
	// mtls_endpoint_aliases.token_endpoint (Server.MTLSTokenURL); the main
	// one then asks for no client certificate.
	MTLSAlias bool
}

// Server is a running test authorization server.
type Server struct {
	Issuer           string
	TokenURL         string
	IntrospectionURL string
	RevocationURL    string
	JWKSURL          string
	StatsURL         string
	ResetURL         string
	Resource         string
	// MTLSTokenURL is the mtls_endpoint_aliases token endpoint, with
	// TLSOptions.MTLSAlias.
	MTLSTokenURL string

	t      testing.TB
	client *http.Client
}

// Stats are the token endpoint counters of the server.
type Stats struct {
	// TokenRequests counts token endpoint requests per client_id,
	// successful or not. Requests that name no client count under "".
	TokenRequests map[string]int `json:"token_requests"`
	Total         int            `json:"total"`
	// AuthMethods counts, per client_id, the authentication method
	// each request used: client_secret_basic (an Authorization header),
	// client_secret_post (client_secret in the body), client_secret_jwt or
	// private_key_jwt (a client_assertion, told apart by its alg) or none.
	AuthMethods map[string]map[string]int `json:"auth_methods"`
}

// startTimeout is generous: on a 2-core CI machine running other test
// packages at once, node-oidc-provider once took longer than 30 s to start.
const startTimeout = 60 * time.Second

type serverConfig struct {
	Clients           []clientConfig `json:"clients"`
	AccessTokenTTL    int            `json:"access_token_ttl"`
	CORSOrigins       []string       `json:"cors_origins"`
	JWTAccessTokens   bool           `json:"jwt_access_tokens"`
	StrictAuthMethods bool           `json:"strict_auth_methods"`
	Scopes            []string       `json:"scopes,omitempty"`
	Resource          string         `json:"resource,omitempty"`
	DPoPRequireNonce  bool           `json:"dpop_require_nonce,omitempty"`
	TLS               *tlsConfig     `json:"tls,omitempty"`
}

type tlsConfig struct {
	Cert      string `json:"cert"`
	Key       string `json:"key"`
	CA        string `json:"ca,omitempty"`
	MTLSAlias bool   `json:"mtls_alias,omitempty"`
}

type clientConfig struct {
	ClientID     string     `json:"client_id"`
	ClientSecret string     `json:"client_secret,omitempty"`
	AuthMethod   string     `json:"token_endpoint_auth_method"`
	Scope        string     `json:"scope"`
	JWKS         *jwksValue `json:"jwks,omitempty"`
	SanDNS       string     `json:"tls_client_auth_san_dns,omitempty"`
	SubjectDN    string     `json:"tls_client_auth_subject_dn,omitempty"`
	Certificate  string     `json:"certificate,omitempty"`
}

type jwksValue struct {
	Keys []map[string]any `json:"keys"`
}

type readyLine struct {
	Issuer                string `json:"issuer"`
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	Stats                 string `json:"stats"`
	Reset                 string `json:"reset"`
	Resource              string `json:"resource"`
	MTLSTokenEndpoint     string `json:"mtls_token_endpoint"`
}

// Start runs tests/oidc/server.mjs with the given options, waits until it is
// ready and registers its shutdown with t.Cleanup. It fails the test when
// Node.js or the npm packages are missing.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()

	root, err := repoRoot()
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	testsDir := filepath.Join(root, "tests")
	if _, err := os.Stat(filepath.Join(testsDir, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("oidctest: oidc-provider is not installed in %s/node_modules; run tests/setup.sh first", testsDir)
	}
	cfg, err := buildConfig(opts)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	var ready readyLine
	runScript(t, "server", filepath.Join(testsDir, "oidc", "server.mjs"), testsDir, cfg, &ready)
	if ready.TokenEndpoint == "" {
		t.Fatalf("oidctest: the server's ready line has no token_endpoint")
	}

	return &Server{
		Issuer:           ready.Issuer,
		TokenURL:         ready.TokenEndpoint,
		IntrospectionURL: ready.IntrospectionEndpoint,
		RevocationURL:    ready.RevocationEndpoint,
		JWKSURL:          ready.JWKSURI,
		StatsURL:         ready.Stats,
		ResetURL:         ready.Reset,
		Resource:         ready.Resource,
		MTLSTokenURL:     ready.MTLSTokenEndpoint,
		t:                t,
		client:           helperClient(t, opts.TLS),
	}
}

func buildConfig(opts Options) ([]byte, error) {
	if len(opts.Clients) == 0 {
		return nil, errors.New("Options.Clients is empty")
	}
	cfg := serverConfig{
		AccessTokenTTL:    opts.AccessTokenTTL,
		CORSOrigins:       opts.CORSOrigins,
		JWTAccessTokens:   opts.JWTAccessTokens,
		StrictAuthMethods: opts.StrictAuthMethods,
		Scopes:            opts.Scopes,
		Resource:          opts.Resource,
		DPoPRequireNonce:  opts.DPoPRequireNonce,
	}
	if o := opts.TLS; o != nil {
		if o.CertPEM == "" || o.KeyPEM == "" {
			return nil, errors.New("TLS needs CertPEM and KeyPEM")
		}
		cfg.TLS = &tlsConfig{Cert: o.CertPEM, Key: o.KeyPEM, CA: o.CAPEM, MTLSAlias: o.MTLSAlias}
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = 300
	}
	if cfg.AccessTokenTTL < 0 {
		return nil, fmt.Errorf("AccessTokenTTL %d is negative", cfg.AccessTokenTTL)
	}
	if cfg.CORSOrigins == nil {
		cfg.CORSOrigins = []string{}
	}
	for _, c := range opts.Clients {
		cc := clientConfig{
			ClientID:     c.ID,
			ClientSecret: c.Secret,
			AuthMethod:   c.authMethod(),
			Scope:        strings.Join(c.Scopes, " "),
			SanDNS:       c.TLSSanDNS,
			SubjectDN:    c.TLSSubjectDN,
			Certificate:  c.CertificatePEM,
		}
		if c.JWKS != nil {
			cc.JWKS = &jwksValue{Keys: c.JWKS}
		}
		cfg.Clients = append(cfg.Clients, cc)
	}
	return json.Marshal(cfg)
}

func (c Client) authMethod() string {
	if c.AuthMethod == "" {
		return AuthBasic
	}
	return c.AuthMethod
}

// helperClient is the client Stats, Reset and Introspect use: it trusts
// the server's CA when the server speaks https.
func helperClient(t testing.TB, o *TLSOptions) *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	if o == nil {
		return c
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(o.CAPEM)) {
		t.Fatalf("oidctest: TLSOptions.CAPEM holds no certificate; the helper client could not trust the server")
	}
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	return c
}

// HTTPClient is a client that trusts the server (its CA with TLS).
func (s *Server) HTTPClient() *http.Client { return s.client }

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Stats returns the server's token endpoint counters. On error it reports
// it with Errorf on the TB given to Start and returns zero Stats.
func (s *Server) Stats() Stats {
	var st Stats
	resp, err := s.client.Get(s.StatsURL)
	if err != nil {
		s.t.Errorf("oidctest: GET %s: %v", s.StatsURL, err)
		return st
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Errorf("oidctest: GET %s: %s", s.StatsURL, resp.Status)
		return st
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Errorf("oidctest: decoding stats: %v", err)
	}
	return st
}

// TokenRequests is the number of token endpoint requests made for clientID
// since the start or the last Reset, successful or not.
func (s *Server) TokenRequests(clientID string) int {
	return s.Stats().TokenRequests[clientID]
}

// TotalTokenRequests is the number of token endpoint requests since the
// start or the last Reset.
func (s *Server) TotalTokenRequests() int {
	return s.Stats().Total
}

// AuthMethodRequests is the number of token endpoint requests for clientID
// that used the given authentication method (AuthBasic, AuthPost or "none").
func (s *Server) AuthMethodRequests(clientID, method string) int {
	return s.Stats().AuthMethods[clientID][method]
}

// Reset zeroes the token endpoint counters. Issued tokens stay valid.
func (s *Server) Reset() {
	resp, err := s.client.Post(s.ResetURL, "application/json", nil)
	if err != nil {
		s.t.Errorf("oidctest: POST %s: %v", s.ResetURL, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Errorf("oidctest: POST %s: %s", s.ResetURL, resp.Status)
	}
}

// Introspect asks the introspection endpoint (RFC 7662) about token,
// authenticating as client c with c's AuthMethod. Any client registered at
// the server may introspect any token. It fails the test on transport or
// protocol errors; JWT access tokens cannot be introspected (oidc-provider
// answers unsupported_token_type), verify those with the JWKS instead.
func (s *Server) Introspect(t testing.TB, token string, c Client) (active bool, clientID string, scope string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := newClientRequest(s.IntrospectionURL, form, c)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("oidctest: introspection request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oidctest: introspection as %q: %s: %s", c.ID, resp.Status, body)
	}
	var out struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("oidctest: decoding introspection response: %v", err)
	}
	return out.Active, out.ClientID, out.Scope
}

// newClientRequest builds a form POST authenticated as c: HTTP Basic with
// form-urlencoded credentials (RFC 6749 §2.3.1) or credentials in the body.
func newClientRequest(endpoint string, form url.Values, c Client) (*http.Request, error) {
	switch c.authMethod() {
	case AuthBasic:
	case AuthPost:
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	default:
		return nil, fmt.Errorf("unsupported auth method %q", c.AuthMethod)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.authMethod() == AuthBasic {
		req.Header.Set("Authorization", BasicAuth(c.ID, c.Secret))
	}
	return req, nil
}

// BasicAuth returns an Authorization header value for client_secret_basic:
// client id and secret are form-urlencoded before base64 (RFC 6749 §2.3.1),
// which oidc-provider requires for any character outside [A-Za-z0-9-._~].
func BasicAuth(id, secret string) string {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// firstLineWriter hands the first line written to it to line and discards
// everything after it.
type firstLineWriter struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	line chan []byte
}

func (w *firstLineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.done = true
		w.line <- w.buf[:i]
		w.buf = nil
	} else if len(w.buf) > 64<<10 {
		w.done = true
		w.line <- w.buf
		w.buf = nil
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runScript runs one of the tests' Node.js server scripts with cfg (JSON)
// as its config file, waits for its ready line and decodes it into ready,
// and registers its shutdown with t.Cleanup. The script exits when its
// stdin closes: on cleanup, or when the test process dies without running
// it. name says which server in failures.
func runScript(t testing.TB, name, script, dir string, cfg []byte, ready any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("oidctest: node (Node.js >= 20) not found in PATH: %v", err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatalf("oidctest: writing config: %v", err)
	}
	cmd := exec.Command(node, script, cfgPath)
	cmd.Dir = dir
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	// A writer rather than StdoutPipe: Wait then finishes reading stdout
	// before it returns, so an early exit cannot race with the ready line.
	stdout := &firstLineWriter{line: make(chan []byte, 1)}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("oidctest: starting node: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			if tail := strings.TrimSpace(stderr.String()); tail != "" {
				t.Logf("oidctest: %s stderr:\n%s", name, tail)
			}
		}
	})
	select {
	case line := <-stdout.line:
		if err := json.Unmarshal(line, ready); err != nil {
			t.Fatalf("oidctest: unexpected ready line %q from the %s: %v", line, name, err)
		}
	case <-exited:
		t.Fatalf("oidctest: the %s exited before it was ready (%v): %s", name, waitErr, strings.TrimSpace(stderr.String()))
	case <-time.After(startTimeout):
		t.Fatalf("oidctest: the %s was not ready after %v: %s", name, startTimeout, strings.TrimSpace(stderr.String()))
	}
}
