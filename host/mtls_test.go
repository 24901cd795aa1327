package host

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate and key PEM valid from notBefore to notAfter.
func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}

// presented is the certificate c's transport would present.
func presented(t *testing.T, c *http.Client) string {
	t.Helper()
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil || tr.TLSClientConfig.GetClientCertificate == nil {
		t.Fatalf("transport %T presents no certificate", c.Transport)
	}
	cert, err := tr.TLSClientConfig.GetClientCertificate(&tls.CertificateRequestInfo{})
	if err != nil || cert.Leaf == nil {
		t.Fatalf("GetClientCertificate: %v", err)
	}
	return cert.Leaf.Subject.CommonName
}

// TestCertClients: one client per certificate, built on the base client's
// transport, read again when the files change.
func TestCertClients(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	certA, keyA := selfSigned(t, "a", now.Add(-time.Hour), now.Add(time.Hour))
	certB, keyB := selfSigned(t, "b", now.Add(-time.Hour), now.Add(time.Hour))
	crt, key := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	write := func(name, text string, mtime time.Time) {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(crt, certA, now.Add(-time.Minute))
	write(key, keyA, now.Add(-time.Minute))

	pool := x509.NewCertPool()
	base := &http.Client{Timeout: 7 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "as.test"}}}
	var cc certClients
	files := &tlsClient{CertFile: crt, KeyFile: key}
	c1, f := cc.client(base, files)
	if f != nil {
		t.Fatalf("failure: %+v", f)
	}
	tr := c1.Transport.(*http.Transport)
	if tr.TLSClientConfig.RootCAs != pool || tr.TLSClientConfig.ServerName != "as.test" || c1.Timeout != 7*time.Second {
		t.Errorf("the base client's settings were not kept: %+v", tr.TLSClientConfig)
	}
	if base.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate != nil {
		t.Error("the base transport was changed")
	}
	if presented(t, c1) != "a" {
		t.Error("wrong certificate")
	}
	if c2, _ := cc.client(base, files); c2 != c1 {
		t.Error("the same certificate got a second client")
	}
	pemClient, f := cc.client(base, &tlsClient{CertPEM: certB, KeyPEM: keyB})
	if f != nil || pemClient == c1 || presented(t, pemClient) != "b" {
		t.Errorf("PEM certificate: %v, %+v", pemClient == c1, f)
	}
	// A renewed certificate on disk is picked up.
	write(crt, certB, now)
	write(key, keyB, now)
	c3, f := cc.client(base, files)
	if f != nil || c3 == c1 || presented(t, c3) != "b" {
		t.Errorf("after renewal: same client %v, failure %+v", c3 == c1, f)
	}
}

func TestCertClientFailures(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	cert, key := selfSigned(t, "a", now.Add(-time.Hour), now.Add(time.Hour))
	_, otherKey := selfSigned(t, "b", now.Add(-time.Hour), now.Add(time.Hour))
	oldCert, oldKey := selfSigned(t, "old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	const canary = "KEYCANARY42"
	bogusKey := "-----BEGIN PRIVATE KEY-----\n" + canary + "AAAAA\n-----END PRIVATE KEY-----\n"
	locked := filepath.Join(dir, "locked.key")
	os.WriteFile(locked, []byte(key), 0o000)
	for _, tc := range []struct {
		name  string
		in    tlsClient
		field string
		want  string
	}{
		{"missing certificate", tlsClient{CertFile: filepath.Join(dir, "nope.crt"), KeyPEM: key}, certField, "nope.crt does not exist; fix tls_client_certificate"},
		{"relative path", tlsClient{CertFile: "nope.crt", KeyPEM: key}, certField, "relative paths are read from the working directory"},
		{"mismatch", tlsClient{CertPEM: cert, KeyPEM: otherKey}, keyField, "does not belong to the client certificate"},
		{"key where the certificate goes", tlsClient{CertPEM: key, KeyPEM: key}, certField, "holds no PEM CERTIFICATE block"},
		{"certificate where the key goes", tlsClient{CertPEM: cert, KeyPEM: cert}, keyField, "holds no PEM private key block"},
		{"key that does not parse", tlsClient{CertPEM: cert, KeyPEM: bogusKey}, keyField, "could not be parsed"},
		{"expired", tlsClient{CertPEM: oldCert, KeyPEM: oldKey}, certField, "expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cc certClients
			_, f := cc.client(&http.Client{}, &tc.in)
			if f == nil || f.Kind != "client_certificate" || f.Field != tc.field || !strings.Contains(f.Message, tc.want) {
				t.Fatalf("failure = %+v, want %s on %s saying %q", f, "client_certificate", tc.field, tc.want)
			}
			if strings.Contains(f.Message, canary) || strings.Contains(f.Message, "BEGIN") {
				t.Errorf("the message shows PEM content: %s", f.Message)
			}
		})
	}
	if os.Getuid() != 0 { // root reads anything
		var cc certClients
		if _, f := cc.client(&http.Client{}, &tlsClient{CertPEM: cert, KeyFile: locked}); f == nil || !strings.Contains(f.Message, "permission denied") {
			t.Errorf("unreadable key: %+v", f)
		}
	}
}
