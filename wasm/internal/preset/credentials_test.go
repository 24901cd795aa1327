package preset

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func certPEM(t *testing.T, key crypto.Signer, notAfter time.Time) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "svc"},
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestCertificate: a certificate goes with private_key, names the key's
// certificate, is checked at load (PEM) or left to the token request (a
// file), and errors never quote key or certificate material.
func TestCertificate(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyPEM := testPEM(t, rk)
	good := certPEM(t, rk, time.Now().Add(24*time.Hour))

	accts, err := Load([]byte(jwtDoc("", "certificate: ${env:CERT}\nalg: PS256")), map[string]string{"KEY": keyPEM, "CERT": good})
	if err != nil {
		t.Fatal(err)
	}
	if c := accts[0].Certificate; c == nil || c.X5tS256 == "" || accts[0].CertificateFile != "" {
		t.Fatalf("certificate not kept: %+v", accts[0])
	}
	accts, err = Load([]byte(jwtDoc("certificate: /etc/cctoken/svc.crt", "")), map[string]string{"KEY": keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	if a := accts[0]; a.CertificateFile != "/etc/cctoken/svc.crt" || a.Certificate != nil || a.CertificateField != "preset[0].certificate" {
		t.Fatalf("certificate file: %+v", a)
	}

	for _, c := range []struct {
		name, cert, want string
	}{
		{"another key's", certPEM(t, ek, time.Now().Add(time.Hour)), "is not a certificate of private_key"},
		{"expired", certPEM(t, rk, time.Now().Add(-time.Hour)), "expired on"},
		{"a key, not a certificate", keyPEM, "is not a usable certificate"},
	} {
		_, err := Load([]byte(jwtDoc("", "certificate: ${env:CERT}")), map[string]string{"KEY": keyPEM, "CERT": c.cert})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "users[0].certificate") {
			t.Errorf("%s: %v, want %q at users[0].certificate", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), strings.Split(c.cert, "\n")[1]) {
			t.Errorf("%s: the error quotes the PEM: %v", c.name, err)
		}
	}
	// Without private_key it is refused.
	_, err = Load([]byte(one("", "certificate: ${env:CERT}")), map[string]string{"CERT": good})
	if err == nil || !strings.Contains(err.Error(), "certificate goes with private_key") {
		t.Errorf("certificate with a client secret: %v", err)
	}
}

// TestAssertionFile: client_assertion_file authenticates alone, means
// private_key_jwt, and refuses every other credential.
func TestAssertionFile(t *testing.T) {
	doc := func(user string) string {
		return "preset:\n  - type: oauth_client_credentials\n    url: https://login.example.com/tenant/oauth2/v2.0/token\n    users:\n      - username: wl\n        client_id: app\n" + indent(user, "        ")
	}
	accts, err := Load([]byte(doc("client_assertion_file: /var/run/secrets/azure/tokens/azure-identity-token")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := accts[0]; a.AuthMethod != PrivateKeyJWT || a.AssertionFile != "/var/run/secrets/azure/tokens/azure-identity-token" || a.Key != nil || a.AssertionAudience != AudienceTokenEndpoint {
		t.Fatalf("account = %+v", a)
	}
	// Discovery counts it as private_key_jwt support (the method is left
	// to the metadata).
	d := strings.Replace(doc("client_assertion_file: /run/jwt"), "url: https://login.example.com/tenant/oauth2/v2.0/token", "issuer: https://login.example.com/tenant/v2.0", 1)
	if accts, err := Load([]byte(d), nil); err != nil || accts[0].AuthMethod != "" || accts[0].AssertionFile != "/run/jwt" {
		t.Fatalf("discovered: %v %+v", err, accts)
	}
	for _, c := range []struct{ user, want string }{
		{"client_assertion_file: /run/jwt\nclient_secret: s3cr3t-canary", "client_secret is not used with"},
		{"client_assertion_file: /run/jwt\nprivate_key: ${env:KEY}", "private_key is not used with client_assertion_file"},
		{"client_assertion_file: /run/jwt\nauth_method: client_secret_post", "which is auth_method private_key_jwt"},
		{"client_assertion_file: /run/jwt\ntls_client_certificate: /c.pem\ntls_client_key: /k.pem", "tls_client_certificate is not used with client_assertion_file"},
		{"client_assertion_file: \"\"", "client_assertion_file is empty"},
	} {
		_, err := Load([]byte(doc(c.user)), map[string]string{"KEY": "x"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.user, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("%q: the error quotes the secret: %v", c.user, err)
		}
	}
}
