package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/tests/oidctest"
)

// Mutual TLS (RFC 8705) end to end: oidc-provider behind https listeners
// that ask for client certificates, with certificates this test makes.

// pki is the test's certificates: a CA, the server's certificate for
// 127.0.0.1, two client certificates from the CA (the registered one and
// an intruder with another name) and a self-signed one. Each key pair is
// written to dir as NAME.crt and NAME.key.
type pki struct {
	dir       string
	caPEM     string
	serverPEM struct{ cert, key string }
	pems      map[string][2]string // name -> certificate, key PEM
}

const (
	tlsClientName  = "e2e-tls.client.test"
	intruderName   = "intruder.client.test"
	selfSignedName = "e2e-self-signed.client.test"
)

func newPKI(dir string) (*pki, error) {
	p := &pki{dir: dir, pems: map[string][2]string{}}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cctoken e2e test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p.caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))

	issue := func(name string, serial int64, selfSigned bool, tmpl *x509.Certificate) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		parent, signer := caCert, caKey
		if selfSigned {
			parent, signer = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			return err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
		p.pems[name] = [2]string{certPEM, keyPEM}
		if err := os.WriteFile(filepath.Join(dir, name+".crt"), []byte(certPEM), 0o600); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".key"), []byte(keyPEM), 0o600)
	}
	client := func(dns string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: dns}, DNSNames: []string{dns}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	}
	for _, c := range []struct {
		name       string
		selfSigned bool
		tmpl       *x509.Certificate
	}{
		{"server", false, &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}},
		{"tls", false, client(tlsClientName)},
		{"intruder", false, client(intruderName)},
		{"self", true, client(selfSignedName)},
	} {
		if err := issue(c.name, int64(len(p.pems)+2), c.selfSigned, c.tmpl); err != nil {
			return nil, err
		}
	}
	p.serverPEM.cert, p.serverPEM.key = p.pems["server"][0], p.pems["server"][1]
	return p, nil
}

func (p *pki) file(name, ext string) string { return filepath.Join(p.dir, name+"."+ext) }

// trustingClient is what a user of the Go host gives WithHTTPClient to
// trust a private CA: a transport with RootCAs. cctoken adds the client
// certificate to a copy of it.
func (p *pki) trustingClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(p.caPEM))
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

var (
	mtlsIntrospector = oidctest.Client{ID: "e2e-mtls-introspector", Secret: "mtls-introspector-secret", AuthMethod: oidctest.AuthBasic}

	mtls struct {
		once        sync.Once
		pki         *pki
		err         error
		main, alias *lazyServer
	}
)

// mtlsSetup makes the certificates once per test binary and returns them
// with the server (alias false: one listener asking for certificates) or
// the alias server (its token_endpoint asks for none; the
// mtls_endpoint_aliases one does).
func mtlsSetup(t *testing.T, alias bool) (*pki, *oidctest.Server) {
	t.Helper()
	mtls.once.Do(func() {
		mtls.pki, mtls.err = newPKI(suite.TempDir())
		if mtls.err != nil {
			return
		}
		p := mtls.pki
		clients := []oidctest.Client{
			mtlsIntrospector,
			{ID: "e2e-tls", AuthMethod: oidctest.AuthTLS, TLSSanDNS: tlsClientName, Scopes: []string{"read"}},
			{ID: "e2e-self-signed", AuthMethod: oidctest.AuthSelfSignedTLS, CertificatePEM: p.pems["self"][0], Scopes: []string{"read"}},
		}
		opts := func(alias bool) oidctest.Options {
			return oidctest.Options{Clients: clients, AccessTokenTTL: 300, StrictAuthMethods: true,
				TLS: &oidctest.TLSOptions{CertPEM: p.serverPEM.cert, KeyPEM: p.serverPEM.key, CAPEM: p.caPEM, MTLSAlias: alias}}
		}
		mtls.main = &lazyServer{opts: opts(false)}
		mtls.alias = &lazyServer{opts: opts(true)}
	})
	if mtls.err != nil {
		t.Fatalf("making test certificates: %v", mtls.err)
	}
	if alias {
		return mtls.pki, mtls.alias.get(t)
	}
	return mtls.pki, mtls.main.get(t)
}

// mtlsPreset is a preset for tokenURL (or, with issuer true, the issuer)
// with the given users, written as maps.
func mtlsPreset(t *testing.T, where string, issuer bool, users ...map[string]any) []byte {
	t.Helper()
	key := "url"
	if issuer {
		key = "issuer"
	}
	b, err := json.Marshal(map[string]any{"preset": []any{map[string]any{"type": "oauth_client_credentials", key: where, "users": users}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mtlsUser(name, clientID, method, cert, key string) map[string]any {
	return map[string]any{"username": name, "client_id": clientID, "auth_method": method,
		"tls_client_certificate": cert, "tls_client_key": key, "scopes": []string{"read"}}
}

// TestMTLS gets tokens with both methods, the certificate given as files
// and as PEM from the environment, and checks with the server who it
// thinks asked.
// Not parallel: it counts token requests of clients that the parallel
// mTLS tests use on the same server.
func TestMTLS(t *testing.T) {
	p, srv := mtlsSetup(t, false)
	ctx := testCtx(t)
	env := map[string]string{"SELF_CERT": p.pems["self"][0], "SELF_KEY": p.pems["self"][1], "TLS_KEY": p.pems["tls"][1]}
	preset := mtlsPreset(t, srv.TokenURL, false,
		mtlsUser("files", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), p.file("tls", "key")),
		mtlsUser("env", "e2e-self-signed", oidctest.AuthSelfSignedTLS, "${env:SELF_CERT}", "${env:SELF_KEY}"),
		mtlsUser("mixed", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), "${env:TLS_KEY}"),
	)
	c := newClient(t, preset, host.WithHTTPClient(p.trustingClient()), host.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	for _, tc := range []struct{ user, clientID, method string }{
		{"files", "e2e-tls", oidctest.AuthTLS},
		{"env", "e2e-self-signed", oidctest.AuthSelfSignedTLS},
		{"mixed", "e2e-tls", oidctest.AuthTLS},
	} {
		before := srv.AuthMethodRequests(tc.clientID, tc.method)
		tok, err := c.Token(ctx, tc.user)
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		if got := srv.AuthMethodRequests(tc.clientID, tc.method) - before; got != 1 {
			t.Errorf("%s: the server counted %d %s requests, want 1", tc.user, got, tc.method)
		}
		active, clientID, scope := srv.Introspect(t, tok.AccessToken, mtlsIntrospector)
		if !active || clientID != tc.clientID || scope != "read" {
			t.Errorf("%s: introspection: active %v, client %q, scope %q", tc.user, active, clientID, scope)
		}
	}
}

// TestMTLSWrongCertificate: a certificate the server does not accept for
// the client is the server's invalid_client, as for a wrong secret.
func TestMTLSWrongCertificate(t *testing.T) {
	t.Parallel()
	p, srv := mtlsSetup(t, false)
	ctx := testCtx(t)
	preset := mtlsPreset(t, srv.TokenURL, false,
		// From the right CA, with the wrong name.
		mtlsUser("intruder", "e2e-tls", oidctest.AuthTLS, p.file("intruder", "crt"), p.file("intruder", "key")),
		// Self-signed, but not the registered one.
		mtlsUser("unregistered", "e2e-self-signed", oidctest.AuthSelfSignedTLS, p.file("tls", "crt"), p.file("tls", "key")),
		// A self-signed certificate is not from the CA tls_client_auth trusts.
		mtlsUser("unverified", "e2e-tls", oidctest.AuthTLS, p.file("self", "crt"), p.file("self", "key")),
	)
	c := newClient(t, preset, host.WithHTTPClient(p.trustingClient()))
	for _, user := range []string{"intruder", "unregistered", "unverified"} {
		_, err := c.Token(ctx, user)
		var e *host.Error
		if !errors.As(err, &e) || e.Code != "invalid_client" || e.Status != 401 || e.User != user {
			t.Errorf("%s: got %v, want invalid_client (401)", user, err)
		} else if !strings.Contains(e.Message, "accepts this client certificate") {
			t.Errorf("%s: the message does not point at the certificate: %s", user, e.Message)
		}
	}
	// Without a client certificate at all, the server refuses too: the
	// certificate really is what authenticates.
	plain := mtlsPreset(t, srv.TokenURL, false, map[string]any{"username": "nocert", "client_id": "e2e-tls", "client_secret": "guess", "auth_method": "client_secret_post"})
	if _, err := newClient(t, plain, host.WithHTTPClient(p.trustingClient())).Token(ctx, "nocert"); err == nil || !strings.Contains(err.Error(), "invalid_client") && !isCode(err, "invalid_client") {
		t.Errorf("no certificate: %v, want invalid_client", err)
	}
}

func isCode(err error, code string) bool {
	var e *host.Error
	return errors.As(err, &e) && e.Code == code
}

// TestMTLSLoadErrors: a certificate the host cannot use is a
// client_certificate error naming the preset field and the file, and no
// request is sent.
func TestMTLSLoadErrors(t *testing.T) {
	t.Parallel()
	p, srv := mtlsSetup(t, false)
	ctx := testCtx(t)
	missing := filepath.Join(p.dir, "missing.crt")
	preset := mtlsPreset(t, srv.TokenURL, false,
		mtlsUser("missing", "e2e-tls", oidctest.AuthTLS, missing, p.file("tls", "key")),
		mtlsUser("mismatch", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), p.file("intruder", "key")),
		mtlsUser("swapped", "e2e-tls", oidctest.AuthTLS, p.file("tls", "key"), p.file("tls", "crt")),
	)
	c := newClient(t, preset, host.WithHTTPClient(p.trustingClient()))
	before := srv.TotalTokenRequests()
	for _, tc := range []struct{ user, field, want string }{
		{"missing", "preset[0].users[0].tls_client_certificate", "the client certificate file " + missing + " does not exist"},
		{"mismatch", "preset[0].users[1].tls_client_key", "does not belong to the client certificate"},
		{"swapped", "preset[0].users[2].tls_client_certificate", "holds no PEM CERTIFICATE block"},
	} {
		_, err := c.Token(ctx, tc.user)
		var e *host.Error
		if !errors.As(err, &e) || e.Code != "client_certificate" || e.Field != tc.field || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: got %#v, want client_certificate on %s saying %q", tc.user, err, tc.field, tc.want)
		}
	}
	if n := srv.TotalTokenRequests() - before; n != 0 {
		t.Errorf("%d token requests were sent with unusable certificates", n)
	}

	// A transport cctoken cannot add a certificate to is said so.
	odd := &http.Client{Transport: roundTripperFunc(http.DefaultTransport.RoundTrip)}
	good := mtlsPreset(t, srv.TokenURL, false, mtlsUser("good", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), p.file("tls", "key")))
	_, err := newClient(t, good, host.WithHTTPClient(odd)).Token(ctx, "good")
	if !isCode(err, "client_certificate") || !strings.Contains(err.Error(), "*http.Transport") {
		t.Errorf("custom transport: %v", err)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestMTLSEndpointAlias: with discovery, a user with a client certificate
// sends its token request to mtls_endpoint_aliases.token_endpoint. On this
// server the plain token_endpoint asks for no certificate, so using it
// would end in invalid_client.
func TestMTLSEndpointAlias(t *testing.T) {
	t.Parallel()
	p, srv := mtlsSetup(t, true)
	ctx := testCtx(t)
	if srv.MTLSTokenURL == "" || srv.MTLSTokenURL == srv.TokenURL {
		t.Fatalf("the server publishes no separate alias: %q", srv.MTLSTokenURL)
	}
	c := newClient(t, mtlsPreset(t, srv.Issuer, true,
		mtlsUser("tls", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), p.file("tls", "key")),
		mtlsUser("self", "e2e-self-signed", oidctest.AuthSelfSignedTLS, p.file("self", "crt"), p.file("self", "key")),
	), host.WithHTTPClient(p.trustingClient()))
	for _, user := range []string{"tls", "self"} {
		if _, err := c.Token(ctx, user); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
	}
	// The same user with url: token_endpoint proves the alias mattered.
	direct := newClient(t, mtlsPreset(t, srv.TokenURL, false,
		mtlsUser("tls", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), p.file("tls", "key"))), host.WithHTTPClient(p.trustingClient()))
	if _, err := direct.Token(ctx, "tls"); !isCode(err, "invalid_client") {
		t.Errorf("token_endpoint without a certificate request: %v, want invalid_client", err)
	}
}

// TestMTLSKeyCanary: a private key's content never shows in an error or a
// log line, whether the key works, does not match, or does not parse.
func TestMTLSKeyCanary(t *testing.T) {
	t.Parallel()
	p, srv := mtlsSetup(t, false)
	ctx := testCtx(t)
	const canary = "KEYCANARY7d1e"
	bogus := "-----BEGIN PRIVATE KEY-----\n" + canary + "AAAA\n-----END PRIVATE KEY-----\n"
	realKey := p.pems["tls"][1]
	intruderKey := p.pems["intruder"][1]
	// The base64 body of the real keys, which is what would leak.
	body := func(k string) string {
		blk, _ := pem.Decode([]byte(k))
		return strings.Split(string(pem.EncodeToMemory(blk)), "\n")[1]
	}
	env := map[string]string{"GOOD": realKey, "WRONG": intruderKey, "BOGUS": bogus}
	var logs bytes.Buffer
	c := newClient(t, mtlsPreset(t, srv.TokenURL, false,
		mtlsUser("good", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), "${env:GOOD}"),
		mtlsUser("wrong", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), "${env:WRONG}"),
		mtlsUser("bogus", "e2e-tls", oidctest.AuthTLS, p.file("tls", "crt"), "${env:BOGUS}"),
		mtlsUser("intruder", "e2e-tls", oidctest.AuthTLS, p.file("intruder", "crt"), "${env:WRONG}"),
	), host.WithHTTPClient(p.trustingClient()), host.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		host.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var seen []string
	for _, user := range []string{"good", "wrong", "bogus", "intruder"} {
		_, err := c.Token(ctx, user)
		if user == "good" {
			if err != nil {
				t.Fatalf("good: %v", err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s: no error", user)
		}
		b, _ := json.Marshal(err)
		seen = append(seen, err.Error(), string(b))
	}
	c.Close()
	seen = append(seen, logs.String())
	all := strings.Join(seen, "\n")
	for _, leak := range []string{canary, body(realKey), body(intruderKey), "PRIVATE KEY"} {
		if strings.Contains(all, leak) {
			t.Errorf("key content %q appears in errors or logs:\n%s", leak, all)
		}
	}
	if !strings.Contains(logs.String(), "client_certificate") {
		t.Errorf("the logs do not show the failures at all, so the canary proves nothing:\n%s", logs.String())
	}
}
