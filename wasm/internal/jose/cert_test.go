package jose

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate of priv's public key with crypto/x509,
// the reference the hand reader is checked against.
func certOf(t testing.TB, priv crypto.Signer, notBefore, notAfter time.Time) (der []byte) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).Lsh(big.NewInt(1), 150), // a long serial, as CAs use
		Subject:      pkix.Name{CommonName: "cctoken test"},
		NotBefore:    notBefore, NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseCertificate(t *testing.T) {
	k := testKeys()
	before := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	after := time.Date(2051, 6, 7, 8, 9, 10, 0, time.UTC) // GeneralizedTime from 2050 on
	signers := []crypto.Signer{k.rsa, k.ec, k.ed}
	for i, c := range []struct {
		name string
		priv crypto.Signer
	}{{"RSA", k.rsa}, {"P-256", k.ec}, {"Ed25519", k.ed}} {
		t.Run(c.name, func(t *testing.T) {
			der := certOf(t, c.priv, before, after)
			// A chain: the leaf first, then another certificate.
			text := append(pemOf("CERTIFICATE", der, nil), pemOf("CERTIFICATE", certOf(t, k.ec, before, after), nil)...)
			cert, err := ParseCertificate(text)
			if err != nil {
				t.Fatal(err)
			}
			s256, s1 := sha256.Sum256(der), sha1.Sum(der)
			if cert.X5tS256 != b64u(s256[:]) || cert.X5t != b64u(s1[:]) {
				t.Errorf("thumbprints %s %s, want %s %s", cert.X5tS256, cert.X5t, b64u(s256[:]), b64u(s1[:]))
			}
			if !cert.NotBefore.Equal(before) || !cert.NotAfter.Equal(after) {
				t.Errorf("validity %v to %v, want %v to %v", cert.NotBefore, cert.NotAfter, before, after)
			}
			key, err := ParseKey(pkcs8PEM(t, c.priv), "")
			if err != nil {
				t.Fatal(err)
			}
			if !key.Certifies(cert) {
				t.Error("the certificate of the key does not certify it")
			}
			for j, other := range signers {
				if j == i {
					continue
				}
				ok, err := ParseKey(pkcs8PEM(t, other), "")
				if err != nil {
					t.Fatal(err)
				}
				if ok.Certifies(cert) {
					t.Errorf("a %T key is certified by another key's certificate", other)
				}
			}
		})
	}
	// An RSA certificate of another RSA key.
	other, err := ParseKey(pkcs1PEM(k.rsa1024), "")
	if err == nil && other.Certifies(mustCert(t, certOf(t, k.rsa, before, after))) {
		t.Error("another RSA key is certified")
	}
}

func mustCert(t *testing.T, der []byte) *Certificate {
	c, err := ParseCertificate(pemOf("CERTIFICATE", der, nil))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseCertificateRefuses(t *testing.T) {
	k := testKeys()
	der := certOf(t, k.ec, time.Now(), time.Now().Add(time.Hour))
	for name, text := range map[string]string{
		"empty":          "",
		"a key":          string(pkcs8PEM(t, k.ec)),
		"damaged DER":    string(pemOf("CERTIFICATE", der[:len(der)-10], nil)),
		"trailing bytes": string(pemOf("CERTIFICATE", append(der, 0), nil)),
		"not DER":        string(pemOf("CERTIFICATE", []byte("secret-canary-0123456789"), nil)),
	} {
		_, err := ParseCertificate([]byte(text))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: the error quotes the input: %v", name, err)
		}
	}
}

// FuzzParseCertificate: any DER is refused or read, never a panic.
func FuzzParseCertificate(f *testing.F) {
	k := testKeys()
	f.Add(certOf(f, k.ec, time.Now(), time.Now().Add(time.Hour)))
	f.Fuzz(func(t *testing.T, der []byte) {
		parseCertificateDER(der)
	})
}
