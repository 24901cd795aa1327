// Package wasi_test runs the standalone WASI command (wasm/command, built as
// build.sh builds build/cctoken-wasi.wasm) under a real runtime with socket
// extensions, stealthrocket/wasi-go's wasirun, against node-oidc-provider
// on 127.0.0.1 over http and, through a TLS-terminating proxy with a test
// CA, over https. Every output is compared with the native cctoken
// command's for the same preset. It also shows what a runtime without the
// socket extensions says (plain wazero), and what the command says when the
// runtime links the socket functions but they do not work.
package wasi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/cctoken/cctoken/internal/version"
	"github.com/cctoken/cctoken/tests/oidctest"
)

var (
	// fedKey signs the "platform's" workload JWT of fedClient, which the
	// server knows by its public JWK: a federated client assertion read
	// from a file.
	fedKey      = mustECKey()
	fedClient   = oidctest.Client{ID: "wasi-federated", AuthMethod: oidctest.AuthPrivateKeyJWT, Scopes: []string{"read"}, JWKS: []map[string]any{publicJWK(fedKey)}}
	svcClient   = oidctest.Client{ID: "wasi-svc", Secret: "wasi-secret-1 +&%", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
	postClient  = oidctest.Client{ID: "wasi-post", Secret: "wasi-secret-2", AuthMethod: oidctest.AuthPost, Scopes: []string{"read", "write"}}
	wrongClient = oidctest.Client{ID: "wasi-wrong", Secret: "the-right-one", AuthMethod: oidctest.AuthBasic, Scopes: []string{"read"}}
)

// fixture is what every subtest shares: the server, the preopened
// directory with the presets and the CA file, and how to run both commands.
type fixture struct {
	srv      *oidctest.Server
	dir      string // preopened in the guest at the same path
	httpsURL string
	protos   *protoLog
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// secrets are passed to both commands through the environment; the guest
// gets them with wasirun --env.
var secrets = []string{"SVC_SECRET=" + svcClient.Secret, "POST_SECRET=" + postClient.Secret}

// wasm runs the command under wasirun with the fixture directory preopened.
func (f *fixture) wasm(t *testing.T, env []string, args ...string) result {
	t.Helper()
	a := []string{"--dir", f.dir}
	for _, kv := range env {
		a = append(a, "--env", kv)
	}
	a = append(append(a, commandWasm(t), "--"), args...)
	return runCmd(t, nil, wasirun(t), a...)
}

// native runs the native cctoken command; its module cache stays out of
// the user's cache directory.
func (f *fixture) native(t *testing.T, env []string, args ...string) result {
	t.Helper()
	env = append([]string{"XDG_CACHE_HOME=" + filepath.Join(toolsDir, "xdg-cache")}, env...)
	return runCmd(t, env, nativeCLI(t), args...)
}

func TestCommand(t *testing.T) {
	// Build the four programs at once while the server starts.
	var wg sync.WaitGroup
	for _, build := range []func() (string, error){buildWasm, buildNative, buildWasirun} {
		wg.Add(1)
		go func() { defer wg.Done(); build() }() // a failure is reported below
	}
	srv := oidctest.Start(t, oidctest.Options{
		Clients:           []oidctest.Client{svcClient, postClient, wrongClient, fedClient},
		AccessTokenTTL:    300,
		StrictAuthMethods: true,
	})
	f := &fixture{srv: srv, dir: t.TempDir(), protos: &protoLog{}}
	ca := newTestCA(t)
	// One proxy for the WASI command, whose protocols are checked, and one
	// for the native command, which speaks HTTP/2 when offered.
	f.httpsURL = httpsProxy(t, ca, srv.TokenURL, f.protos)
	nativeHTTPS := httpsProxy(t, ca, srv.TokenURL, &protoLog{})
	wg.Wait()
	commandWasm(t)
	nativeCLI(t)
	wasirun(t)

	write := func(name, text string) {
		if err := os.WriteFile(f.path(name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", string(ca.pem))
	write("http.yaml", `preset:
- type: oauth_client_credentials
  url: `+srv.TokenURL+`
  users:
  - username: svc
    client_id: `+svcClient.ID+`
    client_secret: ${env:SVC_SECRET}
    scopes: [read]
`)
	write("multi.yaml", `preset:
- type: oauth_client_credentials
  url: `+srv.TokenURL+`
  users:
  - username: svc
    client_id: `+svcClient.ID+`
    client_secret: ${env:SVC_SECRET}
    scopes: [read]
  - username: poster
    client_id: `+postClient.ID+`
    client_secret: ${env:POST_SECRET}
    auth_method: client_secret_post
    scopes: [read, write]
  - username: wrong
    client_id: `+wrongClient.ID+`
    client_secret: not-the-secret
`)
	write("https.yaml", `preset:
- type: oauth_client_credentials
  url: `+f.httpsURL+`
  users:
  - username: svc
    client_id: `+svcClient.ID+`
    client_secret: ${env:SVC_SECRET}
    scopes: [read]
`)
	write("https-native.yaml", `preset:
- type: oauth_client_credentials
  url: `+nativeHTTPS+`
  users:
  - username: svc
    client_id: `+svcClient.ID+`
    client_secret: ${env:SVC_SECRET}
    scopes: [read]
`)
	write("down.yaml", `preset:
- type: oauth_client_credentials
  url: http://`+closedAddr(t)+`/token
  users:
  - username: svc
    client_id: `+svcClient.ID+`
    client_secret: ${env:SVC_SECRET}
`)
	write("remote.yaml", `preset:
- type: oauth_client_credentials
  url: http://oauth.example.com/token
  users:
  - username: svc
    client_id: `+svcClient.ID+`
    client_secret: ${env:SVC_SECRET}
`)
	write("broken.yaml", `preset:
- type: oauth_client_credentials
  url: ftp://oauth.example.com/token
  refresh_ahead: 2
  users:
  - username: a
    client_id: x
  - username: a
    client_id: y
    client_secret: z
    scopes: read
    colour: blue
`)

	t.Run("lint", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"http.yaml", "broken.yaml"} {
			w := f.wasm(t, nil, "lint", f.path(name))
			n := f.native(t, nil, "lint", f.path(name))
			if w != n {
				t.Errorf("lint %s: the WASI command and the native one differ:\n--- wasi\n%v\n--- native\n%v", name, w, n)
			}
		}
	})

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{{"--version"}, {"version"}} {
			w, n := f.wasm(t, nil, args...), f.native(t, nil, args...)
			if w != n || w.code != 0 || w.stdout != "cctoken "+version.Version+"\n" {
				t.Errorf("%s: want both to print cctoken %s, got\n--- wasi\n%v\n--- native\n%v", args[0], version.Version, w, n)
			}
		}
	})

	t.Run("token over http", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, secrets, "token", f.path("http.yaml"))
		n := f.native(t, secrets, "token", f.path("http.yaml"))
		for _, r := range []result{w, n} {
			if r.code != 0 || r.stderr != "" || !regexp.MustCompile(`^[A-Za-z0-9_.-]+\n$`).MatchString(r.stdout) {
				t.Fatalf("token: want one token on stdout and nothing on stderr, got\n%v", r)
			}
		}
		if active, id, scope := f.srv.Introspect(t, strings.TrimSpace(w.stdout), svcClient); !active || id != svcClient.ID || scope != "read" {
			t.Errorf("the WASI command's token: active %v, client %q, scope %q", active, id, scope)
		}
	})

	t.Run("client_assertion_file", func(t *testing.T) {
		t.Parallel()
		write("workload.jwt", signES256(t, fedKey, map[string]any{"iss": fedClient.ID, "sub": fedClient.ID, "aud": srv.TokenURL,
			"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(), "jti": "wasi-fed-1"})+"\n")
		write("federated.yaml", `preset:
- type: oauth_client_credentials
  url: `+srv.TokenURL+`
  users:
  - username: wl
    client_id: `+fedClient.ID+`
    client_assertion_file: `+f.path("workload.jwt")+`
    scopes: [read]
`)
		w := f.wasm(t, nil, "token", f.path("federated.yaml"))
		if w.code != 0 || w.stderr != "" {
			t.Fatalf("token with client_assertion_file:\n%v", w)
		}
		if active, id, _ := f.srv.Introspect(t, strings.TrimSpace(w.stdout), svcClient); !active || id != fedClient.ID {
			t.Errorf("the WASI command's federated token: active %v, client %q", active, id)
		}
		// A file outside the preopened directory cannot be read: a clear
		// error naming the field, and nothing sent.
		write("elsewhere.yaml", strings.Replace(`preset:
- type: oauth_client_credentials
  url: `+srv.TokenURL+`
  users:
  - username: wl
    client_id: `+fedClient.ID+`
    client_assertion_file: /nonexistent/workload.jwt
`, "\r", "", -1))
		w = f.wasm(t, nil, "token", f.path("elsewhere.yaml"))
		if w.code == 0 || !strings.Contains(w.stderr, "client_assertion_file") || !strings.Contains(w.stderr, "nothing was sent") {
			t.Errorf("unreadable file:\n%v", w)
		}
	})

	t.Run("token --json", func(t *testing.T) {
		t.Parallel()
		args := []string{"token", f.path("multi.yaml"), "--user", "poster", "--json"}
		w, n := f.wasm(t, secrets, args...), f.native(t, secrets, args...)
		wj, nj := tokenJSON(t, w), tokenJSON(t, n)
		if !reflect.DeepEqual(wj, nj) {
			t.Errorf("token --json differs (tokens and times left out):\nwasi   %v\nnative %v", wj, nj)
		}
	})

	t.Run("validate", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, secrets, "validate", f.path("multi.yaml"))
		n := f.native(t, secrets, "validate", f.path("multi.yaml"))
		if w.code != 1 || n.code != 1 {
			t.Errorf("validate with one failing user: want exit 1 from both, got\n--- wasi\n%v\n--- native\n%v", w, n)
		}
		if normTable(w.stdout) != normTable(n.stdout) || w.stderr != n.stderr {
			t.Errorf("validate differs:\n--- wasi\n%v\n--- native\n%v", w, n)
		}
		for _, want := range []string{"svc ok Bearer in T read", "poster ok Bearer in T read write", "wrong FAILED", "2 of 3 users authenticated"} {
			if !strings.Contains(normTable(w.stdout), want) {
				t.Errorf("validate: no %q in\n%s", want, w.stdout)
			}
		}
	})

	t.Run("validate --json", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, secrets, "validate", f.path("multi.yaml"), "--json")
		n := f.native(t, secrets, "validate", f.path("multi.yaml"), "--json")
		wj, nj := validateJSON(t, w), validateJSON(t, n)
		if w.code != n.code || !reflect.DeepEqual(wj, nj) {
			t.Errorf("validate --json differs (times left out):\nwasi   %d %v\nnative %d %v", w.code, wj, n.code, nj)
		}
	})

	t.Run("errors as the native command", func(t *testing.T) {
		for _, c := range []struct {
			name string
			env  []string
			args []string
		}{
			{"several users and no --user", secrets, []string{"token", f.path("multi.yaml")}}, // usage, exit 2
			{"unknown user", secrets, []string{"token", f.path("multi.yaml"), "--user", "nope"}},
			{"wrong secret", secrets, []string{"token", f.path("multi.yaml"), "--user", "wrong"}},
			{"plain http to another host", secrets, []string{"token", f.path("remote.yaml")}}, // the preset is refused
			{"secret variable unset", nil, []string{"token", f.path("http.yaml")}},
			{"connection refused", secrets, []string{"token", f.path("down.yaml")}},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				w, n := f.wasm(t, c.env, c.args...), f.native(t, c.env, c.args...)
				if w != n || w.code == 0 {
					t.Errorf("%v: want the same failure from both, got\n--- wasi\n%v\n--- native\n%v", c.args, w, n)
				}
			})
		}
	})

	t.Run("token over https with --ca-file", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, secrets, "token", f.path("https.yaml"), "--ca-file", f.path("ca.pem"))
		if w.code != 0 || w.stderr != "" {
			t.Fatalf("token over https:\n%v", w)
		}
		if active, id, _ := f.srv.Introspect(t, strings.TrimSpace(w.stdout), svcClient); !active || id != svcClient.ID {
			t.Errorf("the WASI command's token over https: active %v, client %q", active, id)
		}
		// The native command trusts the CA through the system pool.
		n := f.native(t, append(secrets, "SSL_CERT_FILE="+f.path("ca.pem")), "token", f.path("https-native.yaml"))
		if n.code != 0 {
			t.Errorf("native token over https:\n%v", n)
		}
	})

	t.Run("token over https with CCTOKEN_CA_FILE", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, append(secrets, "CCTOKEN_CA_FILE="+f.path("ca.pem")), "token", f.path("https.yaml"), "--json")
		if j := tokenJSON(t, w); j["user"] != "svc" {
			t.Errorf("token over https: %v", j)
		}
	})

	t.Run("https without the CA", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, secrets, "token", f.path("https.yaml"))
		want := "user svc: could not reach the token endpoint; check the token URL, DNS, proxy and TLS settings " +
			"(x509: certificate signed by unknown authority; trust its CA with --ca-file FILE)\n"
		if w.code != 1 || w.stderr != want {
			t.Errorf("token over https without the test CA: want exit 1 and\n%s\ngot\n%v", want, w)
		}
	})

	t.Run("mTLS is refused before anything is sent", func(t *testing.T) {
		t.Parallel()
		write("mtls.yaml", `preset:
- type: oauth_client_credentials
  url: `+srv.TokenURL+`
  users:
  - username: mtls
    client_id: e2e-wasi-mtls
    auth_method: tls_client_auth
    tls_client_certificate: `+f.path("ca.pem")+`
    tls_client_key: ${env:MTLS_KEY}
`)
		env := []string{"MTLS_KEY=-----BEGIN PRIVATE KEY-----\nKEYCANARY0000000\n-----END PRIVATE KEY-----\n"}
		w := f.wasm(t, env, "token", f.path("mtls.yaml"))
		if w.code != 1 || !strings.Contains(w.stderr, "user mtls: ") || !strings.Contains(w.stderr, "cannot present a client certificate") ||
			strings.Contains(w.stderr+w.stdout, "KEYCANARY") {
			t.Errorf("want exit 1 and an mTLS error naming the user, got\n%v", w)
		}
		if n := f.srv.TokenRequests("e2e-wasi-mtls"); n != 0 {
			t.Errorf("%d token requests were sent", n)
		}
	})

	t.Run("a CA file outside the preopened directories", func(t *testing.T) {
		t.Parallel()
		w := f.wasm(t, secrets, "token", f.path("https.yaml"), "--ca-file", "/elsewhere/ca.pem")
		if w.code != 1 || !strings.Contains(w.stderr, "cannot read the CA file") || !strings.Contains(w.stderr, "preopens") {
			t.Errorf("want a clear error about the CA file, got\n%v", w)
		}
	})

	t.Cleanup(func() {
		// Every https request went through the proxy as HTTP/1.1 (the
		// command turns HTTP/2 off, see wasm/command/network.go).
		if len(f.protos.all()) == 0 {
			t.Error("no request went through the TLS proxy")
		}
		for _, p := range f.protos.all() {
			if p != "HTTP/1.1" {
				t.Errorf("a request through the TLS proxy used %s", p)
			}
		}
	})
}

// TestPlainWazero shows what a runtime without the socket extensions says:
// it cannot link the module, so none of the command's code runs.
func TestPlainWazero(t *testing.T) {
	dir := t.TempDir()
	r := runCmd(t, nil, wazeroCLI(t), "run", "-cachedir", filepath.Join(toolsDir, "wazero-cli-cache"), "-mount", dir, commandWasm(t), "token", filepath.Join(dir, "p.yaml"))
	want := `error instantiating wasm binary: "sock_open" is not exported in module "wasi_snapshot_preview1"` + "\n"
	if r.code != 1 || r.stdout != "" || r.stderr != want {
		t.Errorf("under plain wazero: want exit 1 and\n%s\ngot\n%v", want, r)
	}
}

// closedAddr is a 127.0.0.1 address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// tokenJSON decodes token --json and leaves out what differs between two
// runs: the token itself and the times (checked for sense).
func tokenJSON(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &m) != nil {
		t.Fatalf("token --json:\n%v", r)
	}
	if s, _ := m["access_token"].(string); s == "" {
		t.Errorf("token --json: no access_token in %s", r.stdout)
	}
	if in, _ := m["expires_in"].(float64); in < 250 || in > 300 {
		t.Errorf("token --json: expires_in %v, want about 300", m["expires_in"])
	}
	if _, err := time.Parse(time.RFC3339, m["expires_at"].(string)); err != nil {
		t.Errorf("token --json: expires_at: %v", err)
	}
	delete(m, "access_token")
	delete(m, "expires_in")
	delete(m, "expires_at")
	return m
}

func validateJSON(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	if json.Unmarshal([]byte(r.stdout), &m) != nil {
		t.Fatalf("validate --json:\n%v", r)
	}
	users, _ := m["users"].([]any)
	for _, u := range users {
		u := u.(map[string]any)
		if u["ok"] == true && u["expires_at"] == nil {
			t.Errorf("validate --json: no expires_at in %v", u)
		}
		delete(u, "expires_at")
	}
	return m
}

// normTable makes two validate tables comparable: the remaining lifetimes
// may differ by a second, and with them the column widths.
func normTable(s string) string {
	s = regexp.MustCompile(`in (\d+m)?\d+s`).ReplaceAllString(s, "in T")
	return regexp.MustCompile(` +`).ReplaceAllString(s, " ")
}

// protoLog records the protocol of every request through the TLS proxy.
type protoLog struct {
	mu     sync.Mutex
	protos []string
}

func (p *protoLog) add(s string) { p.mu.Lock(); p.protos = append(p.protos, s); p.mu.Unlock() }
func (p *protoLog) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.protos...)
}

// testCA is a certificate authority made for the test, and a certificate
// it issued for 127.0.0.1.
type testCA struct {
	pem  []byte
	leaf tls.Certificate
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cctoken wasi test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{
		pem:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		leaf: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey},
	}
}

// httpsProxy puts a TLS-terminating reverse proxy with the CA's
// certificate in front of the token endpoint and returns the https token
// URL. It offers HTTP/2 and logs the protocol of every request.
func httpsProxy(t *testing.T, ca *testCA, tokenURL string, protos *protoLog) string {
	t.Helper()
	target, err := url.Parse(tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
		protos.add(r.In.Proto)
	}}
	srv := httptest.NewUnstartedServer(proxy)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf}}
	// The handshake the command refuses without the CA is expected.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + target.Path
}

// TestStubbedSockets runs the command under a runtime that links the socket
// functions but does not implement them (each answers ENOSYS): wazero's
// WASI with stubs added. Then the command itself explains.
func TestStubbedSockets(t *testing.T) {
	bin, err := os.ReadFile(commandWasm(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfig()
	if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(toolsDir, "wazero-cache")); err == nil {
		cfg = cfg.WithCompilationCache(cache)
	}
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer r.Close(ctx)
	mod, err := r.CompileModule(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	wasi := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(wasi)
	stubbed := 0
	for _, f := range mod.ImportedFunctions() {
		m, name, _ := f.Import()
		switch {
		case m != wasi_snapshot_preview1.ModuleName || !strings.HasPrefix(name, "sock_"):
		case name == "sock_accept" || name == "sock_recv" || name == "sock_send" || name == "sock_shutdown": // in WASI preview 1
		default:
			const enosys = 52
			wasi.NewFunctionBuilder().WithGoFunction(api.GoFunc(func(_ context.Context, stack []uint64) { stack[0] = enosys }),
				f.ParamTypes(), f.ResultTypes()).Export(name)
			stubbed++
		}
	}
	if stubbed == 0 {
		t.Fatal("the command imports no socket extension function")
	}
	if _, err := wasi.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	preset := filepath.Join(dir, "p.yaml")
	os.WriteFile(preset, []byte("preset:\n- type: oauth_client_credentials\n  url: http://127.0.0.1:9/token\n  users:\n  - {username: svc, client_id: a, client_secret: b}\n"), 0o600)
	var stdout, stderr strings.Builder
	_, err = r.InstantiateModule(ctx, mod, wazero.NewModuleConfig().
		WithArgs("cctoken-wasi.wasm", "token", preset).
		WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, dir)).
		WithStdout(&stdout).WithStderr(&stderr).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader))
	var exit *sys.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v; stderr:\n%s", err, stderr.String())
	}
	want := "this WASI runtime has no socket extensions, so the command cannot reach the token endpoint; " +
		"run it under a runtime with WasmEdge's socket extensions: WasmEdge, or wasirun (github.com/stealthrocket/wasi-go)\n"
	if stdout.String() != "" || stderr.String() != want {
		t.Errorf("with stubbed sockets: want\n%s\ngot stdout %q, stderr\n%s", want, stdout.String(), stderr.String())
	}
}

func mustECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func publicJWK(k *ecdsa.PrivateKey) map[string]any {
	pub, _ := k.PublicKey.Bytes()
	return map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "wasi-fed",
		"x": base64.RawURLEncoding.EncodeToString(pub[1:33]), "y": base64.RawURLEncoding.EncodeToString(pub[33:])}
}

// signES256 makes a compact JWS of claims, as a platform signs a
// workload's token.
func signES256(t *testing.T, k *ecdsa.PrivateKey, claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "ES256", "typ": "JWT", "kid": "wasi-fed"})
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	d := sha256.Sum256([]byte(in))
	r, sv, err := ecdsa.Sign(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
