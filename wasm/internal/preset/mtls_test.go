package preset

import (
	"strings"
	"testing"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// PEM-shaped text: the loader only recognises the armour, it never parses
// what is inside, so the bodies need not be real.
const (
	testCertPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	testKeyPEM  = "-----BEGIN PRIVATE KEY-----\nKEY-CANARY-0b7c\n-----END PRIVATE KEY-----\n"
)

func TestTLSClientLoads(t *testing.T) {
	env := map[string]string{"CERT": testCertPEM, "KEY": testKeyPEM, "CERT_PATH": "/run/certs/a.crt"}
	for _, tc := range []struct {
		name, presetExtra, userExtra string
		want                         httpmsg.TLSClient
		certField, keyField          string
		method                       string
	}{
		{
			name:      "files on the user",
			userExtra: "auth_method: tls_client_auth\ntls_client_certificate: certs/a.crt\ntls_client_key: /etc/a.key",
			want:      httpmsg.TLSClient{CertFile: "certs/a.crt", KeyFile: "/etc/a.key"},
			certField: "preset[0].users[0].tls_client_certificate", keyField: "preset[0].users[0].tls_client_key",
			method: TLSClientAuth,
		},
		{
			name:        "PEM from the environment, inherited from the preset",
			presetExtra: "auth_method: self_signed_tls_client_auth\ntls_client_certificate: ${env:CERT}\ntls_client_key: ${env:KEY}",
			want:        httpmsg.TLSClient{CertPEM: testCertPEM, KeyPEM: testKeyPEM},
			certField:   "preset[0].tls_client_certificate", keyField: "preset[0].tls_client_key",
			method: SelfSignedTLSClientAuth,
		},
		{
			name:        "a path from the environment, the user's key over none",
			presetExtra: "auth_method: tls_client_auth\ntls_client_certificate: ${env:CERT_PATH}",
			userExtra:   "tls_client_key: ${env:KEY}",
			want:        httpmsg.TLSClient{CertFile: "/run/certs/a.crt", KeyPEM: testKeyPEM},
			certField:   "preset[0].tls_client_certificate", keyField: "preset[0].users[0].tls_client_key",
			method: TLSClientAuth,
		},
		{
			// RFC 8705 §3: any client may present a certificate to get
			// certificate-bound tokens; the secret still authenticates.
			name:      "with client_secret_basic",
			userExtra: "tls_client_certificate: a.crt\ntls_client_key: a.key",
			want:      httpmsg.TLSClient{CertFile: "a.crt", KeyFile: "a.key"},
			certField: "preset[0].users[0].tls_client_certificate", keyField: "preset[0].users[0].tls_client_key",
			method: ClientSecretBasic,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := one(tc.presetExtra, tc.userExtra)
			if IsTLSMethod(tc.method) {
				doc = strings.Replace(doc, "        client_secret: s3cr3t\n", "", 1)
			}
			got, err := Load([]byte(doc), env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			a := got[0]
			if a.TLSClient == nil || *a.TLSClient != tc.want {
				t.Errorf("TLSClient = %+v, want %+v", a.TLSClient, tc.want)
			}
			if a.TLSCertField != tc.certField || a.TLSKeyField != tc.keyField {
				t.Errorf("fields = %s, %s; want %s, %s", a.TLSCertField, a.TLSKeyField, tc.certField, tc.keyField)
			}
			if a.AuthMethod != tc.method {
				t.Errorf("auth_method = %s, want %s", a.AuthMethod, tc.method)
			}
			if IsTLSMethod(tc.method) && a.ClientSecret != "" {
				t.Errorf("client secret %q with %s", a.ClientSecret, tc.method)
			}
			if errs := Lint([]byte(doc)); errs != nil {
				t.Errorf("Lint: %v", errs)
			}
		})
	}
	// Without a certificate there is no TLSClient.
	got, err := Load([]byte(one("", "")), nil)
	if err != nil || got[0].TLSClient != nil {
		t.Errorf("plain user: %+v, %v", got, err)
	}
}

func TestTLSClientIssues(t *testing.T) {
	noSecret := func(doc string) string { return strings.Replace(doc, "        client_secret: s3cr3t\n", "", 1) }
	env := map[string]string{"CERT": testCertPEM, "KEY": testKeyPEM, "EMPTY": "", "ENC": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nKEY-CANARY-0b7c\n-----END ENCRYPTED PRIVATE KEY-----"}
	for _, tc := range []struct {
		name, doc, field, want string
	}{
		{"tls method without a certificate", noSecret(one("", "auth_method: tls_client_auth")),
			"preset[0].users[0].tls_client_certificate", "needs a client certificate; add tls_client_certificate and tls_client_key"},
		{"certificate without key", one("", "tls_client_certificate: a.crt"),
			"preset[0].users[0].tls_client_certificate", "tls_client_key is not; add tls_client_key"},
		{"key without certificate", noSecret(one("", "auth_method: tls_client_auth\ntls_client_key: ${env:KEY}")),
			"preset[0].users[0].tls_client_key", "tls_client_certificate is not"},
		{"client_secret with a tls method", one("auth_method: self_signed_tls_client_auth\ntls_client_certificate: a.crt\ntls_client_key: a.key", ""),
			"preset[0].users[0].client_secret", "client_secret is not sent with auth_method self_signed_tls_client_auth"},
		{"no secret and no tls method", noSecret(one("", "tls_client_certificate: a.crt\ntls_client_key: a.key")),
			"preset[0].users[0].client_secret", "set auth_method: tls_client_auth or self_signed_tls_client_auth"},
		{"empty variable", noSecret(one("", "auth_method: tls_client_auth\ntls_client_certificate: a.crt\ntls_client_key: ${env:EMPTY}")),
			"preset[0].users[0].tls_client_key", "tls_client_key is empty (the value comes from environment variable EMPTY)"},
		{"key where the certificate goes", noSecret(one("", "auth_method: tls_client_auth\ntls_client_certificate: ${env:KEY}\ntls_client_key: ${env:KEY}")),
			"preset[0].users[0].tls_client_certificate", "holds a private key, not a certificate"},
		{"certificate where the key goes", noSecret(one("", "auth_method: tls_client_auth\ntls_client_certificate: ${env:CERT}\ntls_client_key: ${env:CERT}")),
			"preset[0].users[0].tls_client_key", "holds a certificate, not a private key"},
		{"encrypted key", noSecret(one("", "auth_method: tls_client_auth\ntls_client_certificate: a.crt\ntls_client_key: ${env:ENC}")),
			"preset[0].users[0].tls_client_key", "encrypted private key"},
		{"neither PEM nor a path", noSecret(one("", "auth_method: tls_client_auth\ntls_client_certificate: \"a.crt\\nKEY-CANARY-0b7c\"\ntls_client_key: a.key")),
			"preset[0].users[0].tls_client_certificate", "neither PEM text"},
		{"unknown method", one("", "auth_method: tls_client"),
			"preset[0].users[0].auth_method", "tls_client_auth or self_signed_tls_client_auth"},
		{"misspelt key", one("", "tls_client_cert: a.crt\ntls_client_key: a.key"),
			"preset[0].users[0].tls_client_cert", "did you mean `tls_client_certificate`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.doc), env)
			errs := issues(t, err)
			if len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, tc.want) {
				t.Fatalf("issues = %v\nwant one on %s containing %q", errs, tc.field, tc.want)
			}
			if strings.Contains(errs.Error(), "KEY-CANARY") || strings.Contains(errs.Error(), "MIIB") {
				t.Errorf("an issue shows PEM content: %v", errs)
			}
		})
	}
}

// TestTLSClientInheritedIssueOnce: a half-configured certificate on the
// preset is one issue, not one per user.
func TestTLSClientInheritedIssueOnce(t *testing.T) {
	doc := one("tls_client_certificate: a.crt", "") +
		"      - username: bob\n        client_id: b\n        client_secret: x\n"
	errs := Lint([]byte(doc))
	if len(errs) != 1 || errs[0].Field != "preset[0].tls_client_certificate" {
		t.Fatalf("issues = %v", errs)
	}
}

func TestTLSClientEnvNames(t *testing.T) {
	doc := one("tls_client_certificate: ${env:C}", "tls_client_key: ${env:K}")
	if got := EnvNames([]byte(doc)); strings.Join(got, ",") != "C,K" {
		t.Errorf("EnvNames = %v", got)
	}
}
