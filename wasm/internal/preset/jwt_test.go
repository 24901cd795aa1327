package preset

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
)

func testPEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// jwtDoc is a private_key_jwt preset whose key comes from ${env:KEY}.
func jwtDoc(presetExtra, userExtra string) string {
	return "preset:\n" +
		"  - type: oauth_client_credentials\n" +
		"    url: https://auth.example.com/token\n" +
		"    auth_method: private_key_jwt\n" +
		indent(presetExtra, "    ") +
		"    users:\n" +
		"      - username: alice\n" +
		"        client_id: app\n" +
		"        private_key: ${env:KEY}\n" +
		indent(userExtra, "        ")
}

func TestPrivateKeyJWTLoads(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaPEM, ecPEM := testPEM(t, rk), testPEM(t, ek)

	accts, err := Load([]byte(jwtDoc("", "kid: k1")), map[string]string{"KEY": rsaPEM})
	if err != nil {
		t.Fatal(err)
	}
	a := accts[0]
	if a.AuthMethod != PrivateKeyJWT || a.Key == nil || a.Key.Alg != "RS256" || a.Key.Kid != "k1" {
		t.Fatalf("account = %+v", a)
	}
	if a.AssertionAudience != AudienceTokenEndpoint || a.ClientSecret != "" || a.PrivateKeyText() != rsaPEM {
		t.Fatalf("account = %+v", a)
	}

	// The issuer of assertion_audience is the preset's (discovery's) one.
	doc := strings.Replace(jwtDoc("assertion_audience: both", "alg: ES256"), "url: https://auth.example.com/token", "issuer: https://auth.example.com", 1)
	accts, err = Load([]byte(doc), map[string]string{"KEY": ecPEM})
	if err != nil {
		t.Fatal(err)
	}
	if a := accts[0]; a.Key.Alg != "ES256" || a.AssertionAudience != AudienceBoth || a.Issuer != "https://auth.example.com" {
		t.Fatalf("account = %+v", a)
	}

	// client_secret_jwt signs with the secret.
	accts, err = Load([]byte(one("auth_method: client_secret_jwt", "")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := accts[0]; a.Key == nil || a.Key.Alg != "HS256" || a.AssertionAudience != AudienceTokenEndpoint {
		t.Fatalf("account = %+v", a)
	}

	// Linting treats the reference as present; EnvNames lists it.
	if errs := Lint([]byte(jwtDoc("", ""))); errs != nil {
		t.Fatal(errs)
	}
	if names := EnvNames([]byte(jwtDoc("", ""))); !slices.Equal(names, []string{"KEY"}) {
		t.Fatalf("EnvNames = %v", names)
	}
}

func TestJWTIssues(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPEM := testPEM(t, rk)
	lines := strings.Split(rsaPEM, "\n")
	first, body := lines[1], lines[3] // lines of key material
	env := map[string]string{"KEY": rsaPEM}
	for _, tt := range []struct {
		name, doc   string
		env         map[string]string
		field, says string
	}{
		{"key missing", strings.Replace(jwtDoc("", ""), "        private_key: ${env:KEY}\n", "", 1), nil, "preset[0].users[0].private_key", "private_key is missing"},
		{"secret with private_key_jwt", jwtDoc("", "client_secret: s3cr3t"), env, "preset[0].users[0].client_secret", "not used with auth_method: private_key_jwt"},
		{"key with basic", one("", "private_key: x"), nil, "preset[0].users[0].private_key", "only with auth_method: private_key_jwt"},
		{"key not a key", jwtDoc("", ""), map[string]string{"KEY": "not a key at all"}, "preset[0].users[0].private_key", "environment variable KEY"},
		{"alg does not fit", jwtDoc("", "alg: ES256"), env, "preset[0].users[0].private_key", "not a usable private key"},
		{"alg unknown", jwtDoc("", "alg: HS256"), env, "preset[0].users[0].alg", "RS256, PS256, ES256 or EdDSA"},
		{"kid empty", jwtDoc("", "kid: ''"), env, "preset[0].users[0].kid", "kid is empty"},
		{"issuer needed", jwtDoc("assertion_audience: issuer", ""), env, "preset[0].assertion_audience", "the preset has no issuer"},
		{"issuer needed on user", jwtDoc("", "assertion_audience: both"), env, "preset[0].users[0].assertion_audience", "the preset has no issuer"},
		{"issuer bad", strings.Replace(jwtDoc("assertion_audience: issuer", ""), "url: https://auth.example.com/token", "issuer: auth.example.com", 1), env, "preset[0].issuer", "https://"},
		{"issuer on a user", jwtDoc("", "issuer: https://auth.example.com"), env, "preset[0].users[0].issuer", "issuer"},
		{"assertion_audience unknown", jwtDoc("assertion_audience: api", ""), env, "preset[0].assertion_audience", "token_endpoint"},
		{"secret missing for client_secret_jwt", strings.Replace(one("auth_method: client_secret_jwt", ""), "        client_secret: s3cr3t\n", "", 1), nil, "preset[0].users[0].client_secret", "client_secret is missing"},
		{"params client_assertion", one("params: {client_assertion: x}", ""), nil, "preset[0].params.client_assertion", "private_key_jwt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.doc), tt.env)
			if err == nil {
				t.Fatalf("Load succeeded:\n%s", tt.doc)
			}
			if strings.Contains(err.Error(), body) || strings.Contains(err.Error(), first) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			for _, is := range issues(t, err) {
				if is.Field == tt.field && strings.Contains(is.Message, tt.says) {
					return
				}
			}
			t.Fatalf("no issue at %q saying %q; got:\n%v", tt.field, tt.says, err)
		})
	}
}
