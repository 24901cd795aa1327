package host

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Mutual TLS (RFC 8705). A token request whose effect names a tls_client
// goes through an http.Client that presents that certificate. There is one
// such client per certificate, built from the client WithHTTPClient gave
// (its RootCAs, proxy and timeouts are kept), so connections made with one
// certificate are never reused for another. Certificates from files are
// read again when a file changes, so a renewed certificate is picked up
// without a restart.

// certClients holds the http.Client of each client certificate.
type certClients struct {
	mu sync.Mutex
	m  map[string]*certClient
}

type certClient struct {
	stamp  string // the files' size and modification time when read
	client *http.Client
}

// certFailure is a client certificate problem; field says which preset key
// it is about. The message names files but never holds PEM content.
func certFailure(field, format string, args ...any) *httpFailure {
	return &httpFailure{Kind: "client_certificate", Field: field, Message: fmt.Sprintf(format, args...)}
}

const (
	certField = "tls_client_certificate"
	keyField  = "tls_client_key"
)

// client returns the http.Client presenting t's certificate, building it
// from base on first use and again when t's files have changed.
func (cc *certClients) client(base *http.Client, t *tlsClient) (*http.Client, *httpFailure) {
	key, stamp, failure := identify(t)
	if failure != nil {
		return nil, failure
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	old := cc.m[key]
	if old != nil && old.stamp == stamp {
		return old.client, nil
	}
	cert, failure := loadKeyPair(t)
	if failure != nil {
		return nil, failure
	}
	var tr *http.Transport
	switch b := base.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = b.Clone()
	default:
		return nil, certFailure(certField, "the http.Client given to WithHTTPClient has a Transport of type %T, to which cctoken cannot add a client certificate; give it an *http.Transport (its TLSClientConfig.RootCAs and proxy are kept)", b)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	// Always present the certificate: crypto/tls would otherwise hold back
	// one that no CA in the server's request issued, which is exactly the
	// self-signed certificate of self_signed_tls_client_auth.
	tr.TLSClientConfig.Certificates = nil
	tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	hc := *base
	hc.Transport = tr
	if old != nil {
		old.client.CloseIdleConnections()
	}
	if cc.m == nil {
		cc.m = map[string]*certClient{}
	}
	cc.m[key] = &certClient{stamp: stamp, client: &hc}
	return &hc, nil
}

// closeIdle closes the idle connections of every certificate's client.
func (cc *certClients) closeIdle() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, c := range cc.m {
		c.client.CloseIdleConnections()
	}
}

// identify names t's certificate for the cache: its file names, or a hash
// of its PEM text (the key itself is not kept as a map key), and the
// files' size and modification time.
func identify(t *tlsClient) (key, stamp string, failure *httpFailure) {
	var k, s strings.Builder
	for _, half := range []struct{ file, pemText, field, what string }{
		{t.CertFile, t.CertPEM, certField, "client certificate"},
		{t.KeyFile, t.KeyPEM, keyField, "client key"},
	} {
		switch {
		case half.file != "":
			fi, err := os.Stat(half.file)
			if err != nil {
				return "", "", fileFailure(half.field, half.what, half.file, err)
			}
			fmt.Fprintf(&k, "file:%s\x00", half.file)
			fmt.Fprintf(&s, "%d:%d\x00", fi.Size(), fi.ModTime().UnixNano())
		case half.pemText != "":
			fmt.Fprintf(&k, "pem:%x\x00", sha256.Sum256([]byte(half.pemText)))
		default:
			return "", "", certFailure(half.field, "the module asked for a %s but gave neither a file nor PEM; this is a bug, please report it", half.what)
		}
	}
	return k.String(), s.String(), nil
}

func fileFailure(field, what, name string, err error) *httpFailure {
	where := ""
	if !strings.HasPrefix(name, "/") {
		if wd, e := os.Getwd(); e == nil {
			where = " (relative paths are read from the working directory, " + wd + ")"
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return certFailure(field, "the %s file %s does not exist%s; fix %s", what, name, where, field)
	case errors.Is(err, fs.ErrPermission):
		return certFailure(field, "the %s file %s cannot be read: permission denied; let this process read it", what, name)
	}
	return certFailure(field, "the %s file %s cannot be read%s; fix %s", what, name, where, field)
}

// loadKeyPair reads and parses t. Its messages say which half is wrong
// and how to fix it, and never quote the PEM.
func loadKeyPair(t *tlsClient) (tls.Certificate, *httpFailure) {
	read := func(file, text, field, what string) ([]byte, *httpFailure) {
		if file == "" {
			return []byte(text), nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fileFailure(field, what, file, err)
		}
		return b, nil
	}
	certPEM, f := read(t.CertFile, t.CertPEM, certField, "client certificate")
	if f != nil {
		return tls.Certificate{}, f
	}
	keyPEM, f := read(t.KeyFile, t.KeyPEM, keyField, "client key")
	if f != nil {
		return tls.Certificate{}, f
	}
	certFrom, keyFrom := source(t.CertFile), source(t.KeyFile)
	if !hasBlock(certPEM, func(typ string) bool { return typ == "CERTIFICATE" }) {
		return tls.Certificate{}, certFailure(certField, "the client certificate %s holds no PEM CERTIFICATE block; fix %s", certFrom, certField)
	}
	if !hasBlock(keyPEM, func(typ string) bool { return strings.HasSuffix(typ, "PRIVATE KEY") }) {
		return tls.Certificate{}, certFailure(keyField, "the client key %s holds no PEM private key block; fix %s", keyFrom, keyField)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages name the problem, never the bytes.
		msg := err.Error()
		switch {
		case strings.Contains(msg, "does not match"):
			return tls.Certificate{}, certFailure(keyField, "the client key %s does not belong to the client certificate %s; give the key of that certificate", keyFrom, certFrom)
		case strings.Contains(msg, "private key"):
			return tls.Certificate{}, certFailure(keyField, "the client key %s could not be parsed; use an unencrypted PKCS #8, PKCS #1 (RSA) or SEC 1 (EC) PEM key", keyFrom)
		}
		return tls.Certificate{}, certFailure(certField, "the client certificate %s could not be parsed as X.509; fix %s", certFrom, certField)
	}
	if leaf := cert.Leaf; leaf != nil {
		now := time.Now()
		if now.After(leaf.NotAfter) {
			return tls.Certificate{}, certFailure(certField, "the client certificate %s expired at %s; renew it", certFrom, leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		if now.Before(leaf.NotBefore) {
			return tls.Certificate{}, certFailure(certField, "the client certificate %s is not valid before %s; check the clock or the certificate", certFrom, leaf.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	return cert, nil
}

// source says where a half came from, for messages.
func source(file string) string {
	if file != "" {
		return "file " + file
	}
	return "(PEM text)"
}

func hasBlock(b []byte, want func(string) bool) bool {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return false
		}
		if want(blk.Type) {
			return true
		}
	}
}
