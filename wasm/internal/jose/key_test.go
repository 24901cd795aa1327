package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseKey reads every key type in every format, signs with it and
// checks the signature, the public JWK and the thumbprint with the
// standard library.
func TestParseKey(t *testing.T) {
	keys := testKeys()
	ecParams := pemOf("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, nil)
	tests := []struct {
		name    string
		data    []byte
		alg     string
		wantAlg string
		wantKid string
		pub     crypto.PublicKey
	}{
		{"RSA PKCS#8", pkcs8PEM(t, keys.rsa), "", "RS256", "", &keys.rsa.PublicKey},
		{"RSA PKCS#8 PS256", pkcs8PEM(t, keys.rsa), "PS256", "PS256", "", &keys.rsa.PublicKey},
		{"RSA PKCS#1", pkcs1PEM(keys.rsa), "", "RS256", "", &keys.rsa.PublicKey},
		{"RSA PKCS#1 PS256", pkcs1PEM(keys.rsa), "PS256", "PS256", "", &keys.rsa.PublicKey},
		{"RSA JWK", jwkJSON(t, keys.rsa, nil), "", "RS256", "", &keys.rsa.PublicKey},
		{"RSA JWK kid alg PS256", jwkJSON(t, keys.rsa, map[string]any{"kid": "k1", "alg": "PS256", "use": "sig", "key_ops": []string{"sign"}}), "", "PS256", "k1", &keys.rsa.PublicKey},
		{"RSA JWK without CRT members", jwkJSON(t, keys.rsa, map[string]any{"dp": nil, "dq": nil, "qi": nil}), "RS256", "RS256", "", &keys.rsa.PublicKey},
		{"RSA PKCS#1 labelled PKCS#8", pemOf("PRIVATE KEY", x509.MarshalPKCS1PrivateKey(keys.rsa), nil), "", "RS256", "", &keys.rsa.PublicKey},
		{"EC PKCS#8", pkcs8PEM(t, keys.ec), "", "ES256", "", &keys.ec.PublicKey},
		{"EC SEC1", sec1PEM(t, keys.ec), "ES256", "ES256", "", &keys.ec.PublicKey},
		{"EC SEC1 after EC PARAMETERS", append(ecParams, sec1PEM(t, keys.ec)...), "", "ES256", "", &keys.ec.PublicKey},
		{"EC JWK", jwkJSON(t, keys.ec, map[string]any{"kid": "ec-1"}), "", "ES256", "ec-1", &keys.ec.PublicKey},
		{"Ed25519 PKCS#8", pkcs8PEM(t, keys.ed), "", "EdDSA", "", keys.ed.Public()},
		{"Ed25519 JWK", jwkJSON(t, keys.ed, nil), "EdDSA", "EdDSA", "", keys.ed.Public()},
		{"PEM with text, BOM and CRLF", append([]byte("\ufeffBag Attributes\r\n    localKeyID: 01\r\n"), bytes.ReplaceAll(pkcs8PEM(t, keys.ed), []byte("\n"), []byte("\r\n"))...), "", "EdDSA", "", keys.ed.Public()},
		{"PEM after a certificate", append(selfSigned(t, keys.ec), pkcs8PEM(t, keys.ec)...), "", "ES256", "", &keys.ec.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.data, tt.alg)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if k.Alg != tt.wantAlg || k.Kid != tt.wantKid {
				t.Fatalf("Alg, Kid = %q, %q; want %q, %q", k.Alg, k.Kid, tt.wantAlg, tt.wantKid)
			}
			jwk := k.PublicJWK()
			pub, err := publicFromJWK(jwk)
			if err != nil {
				t.Fatalf("PublicJWK %v: %v", jwk, err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.pub) {
				t.Fatalf("PublicJWK is not the key's public key: %v", jwk)
			}
			if jwk["alg"] != tt.wantAlg || jwk["use"] != "sig" {
				t.Fatalf("PublicJWK alg, use = %v, %v", jwk["alg"], jwk["use"])
			}
			if kid, ok := jwk["kid"]; ok != (tt.wantKid != "") || (ok && kid != tt.wantKid) {
				t.Fatalf("PublicJWK kid = %v", kid)
			}
			if got, want := k.Thumbprint(), thumbprintOf(t, jwk); got != want || len(got) != 43 {
				t.Fatalf("Thumbprint = %q, want %q", got, want)
			}
			claims := map[string]any{"iss": "svc", "sub": "svc", "aud": "https://as.example/token", "iat": 1700000000, "exp": 1700000060, "jti": "j1"}
			tok, err := k.Sign(nil, claims, rand.Reader)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			header, payload, err := verifyJWS(tok, tt.wantAlg, tt.pub)
			if err != nil {
				t.Fatalf("signature does not verify: %v", err)
			}
			if header["typ"] != "JWT" || len(header) != 2+boolInt(tt.wantKid != "") || (tt.wantKid != "" && header["kid"] != tt.wantKid) {
				t.Fatalf("header = %v", header)
			}
			if payload["iss"] != "svc" || payload["exp"] != float64(1700000060) {
				t.Fatalf("payload = %v", payload)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// thumbprintOf computes RFC 7638 by hand from a public JWK, for comparison.
func thumbprintOf(t *testing.T, jwk map[string]any) string {
	t.Helper()
	var s string
	switch jwk["kty"] {
	case "RSA":
		s = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, jwk["e"], jwk["n"])
	case "EC":
		s = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, jwk["crv"], jwk["x"], jwk["y"])
	case "OKP":
		s = fmt.Sprintf(`{"crv":"%s","kty":"OKP","x":"%s"}`, jwk["crv"], jwk["x"])
	}
	sum := sha256.Sum256([]byte(s))
	return b64u(sum[:])
}

func selfSigned(t *testing.T, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "svc"},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1800000000, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("CERTIFICATE", der, nil)
}

// TestThumbprintRFC7638 checks the example of RFC 7638 §3.1 (an RSA
// public key) and of RFC 8037 §A.3 (an Ed25519 key, given with its
// private part in §A.1, so it goes through ParseKey).
func TestThumbprintRFC7638(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	if got := thumbprint(map[string]string{"kty": "RSA", "n": n, "e": "AQAB"}); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("RFC 7638 §3.1 thumbprint = %q", got)
	}
	// The same key as a *rsa.PrivateKey's public part: publicMembers must
	// encode n and e exactly as the RFC does.
	nb, _ := base64.RawURLEncoding.DecodeString(n)
	k := &Key{priv: &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}}}
	if got := k.Thumbprint(); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("Key.Thumbprint of the RFC 7638 key = %q", got)
	}
	ed, err := ParseKey([]byte(`{"kty":"OKP","crv":"Ed25519",
		"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ed.Thumbprint(); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Errorf("RFC 8037 §A.3 thumbprint = %q", got)
	}
	if HS256([]byte("s")).Thumbprint() != "" || (&Key{}).Thumbprint() != "" || (*Key)(nil).Thumbprint() != "" {
		t.Error("a key without a public part has a thumbprint")
	}
}

// TestPublicJWKHasNoPrivateMembers covers every key source, including the
// ones ParseKey does not make.
func TestPublicJWKHasNoPrivateMembers(t *testing.T) {
	keys := testKeys()
	gen, err := GenerateES256(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, priv := range []any{keys.rsa, keys.ec, keys.ed} {
		k, err := ParseKey(jwkJSON(t, priv, nil), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []*Key{k, gen} {
			jwk := k.PublicJWK()
			for _, name := range privateMembers {
				if _, ok := jwk[name]; ok {
					t.Fatalf("%s PublicJWK has %q: %v", k.Alg, name, jwk)
				}
			}
		}
	}
	if HS256([]byte("secret")).PublicJWK() != nil || (&Key{}).PublicJWK() != nil || (*Key)(nil).PublicJWK() != nil {
		t.Error("a key without a public part has a PublicJWK")
	}
	// Each call returns its own map.
	a := gen.PublicJWK()
	a["x"] = "changed"
	if gen.PublicJWK()["x"] == "changed" {
		t.Error("PublicJWK returned shared state")
	}
}

// TestParseKeyErrors checks that every bad input is refused with a
// sentence that says what is wrong, and that no message repeats the key.
func TestParseKeyErrors(t *testing.T) {
	keys := testKeys()
	rsaJWK := func(changes map[string]any) []byte { return jwkJSON(t, keys.rsa, changes) }
	ecJWK := func(changes map[string]any) []byte { return jwkJSON(t, keys.ec, changes) }
	edJWK := func(changes map[string]any) []byte { return jwkJSON(t, keys.ed, changes) }
	m := jwkMembers(t, keys.ec)
	ecD, _ := base64.RawURLEncoding.DecodeString(m["d"].(string))
	ecX, _ := base64.RawURLEncoding.DecodeString(m["x"].(string))
	offCurve := append([]byte(nil), ecX...)
	offCurve[31] ^= 1
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherM := jwkMembers(t, other)
	edM := jwkMembers(t, keys.ed)
	rsaM := jwkMembers(t, keys.rsa)
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pkixPub, _ := x509.MarshalPKIXPublicKey(&keys.ec.PublicKey)
	pkcs8RSA := pkcs8PEM(t, keys.rsa)
	// The RSA JWK's d with one bit flipped.
	d := new(big.Int).Xor(keys.rsa.D, big.NewInt(2))
	dp := new(big.Int).Xor(keys.rsa.Precomputed.Dp, big.NewInt(2))

	tests := []struct {
		name string
		data []byte
		alg  string
		want string
	}{
		{"empty", nil, "", "empty"},
		{"spaces", []byte(" \n\t "), "", "empty"},
		{"plain text", []byte("hunter2hunter2hunter2hunter2"), "", "neither PEM"},
		{"DER", x509.MarshalPKCS1PrivateKey(keys.rsa), "", "DER"},
		{"Ed25519 DER", mustPKCS8(t, keys.ed), "", "DER"},
		{"text starting with 0", []byte("0123456789"), "", "neither PEM"},
		{"nested value", []byte(`{"kty":"EC","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), "", "public key only"},
		{"too deeply nested value", []byte(`{"kty":"EC","x":` + strings.Repeat("[", 30000) + strings.Repeat("]", 30000) + `}`), "", "not a valid JSON object"},
		{"deeply nested JSON error", []byte(`{"kty":` + strings.Repeat("[", 60000)), "", "not a valid JSON object"},
		{"JSON array", []byte(`[` + string(edJWK(nil)) + `]`), "", "array"},
		{"too large", bytes.Repeat([]byte("A"), 70<<10), "", "limit 64 KiB"},
		{"unknown alg", pkcs8RSA, "RS512", `"RS512" is not supported`},
		{"lower-case alg", pkcs8RSA, "rs256", "case-sensitive"},
		{"alg none", pkcs8RSA, "none", "not supported"},
		{"HS256 for a private key", pkcs8RSA, "HS256", "HS256(secret)"},
		{"long alg not quoted", pkcs8RSA, strings.Repeat("X", 40), "(an unexpected value)"},

		// PEM
		{"encrypted PKCS#8", pemOf("ENCRYPTED PRIVATE KEY", bytes.Repeat([]byte{0x30}, 40), nil), "", "encrypted"},
		{"legacy encrypted PEM", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(keys.rsa), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}), "", "openssl pkey"},
		{"public key PEM", pemOf("PUBLIC KEY", pkixPub, nil), "", "only a public key"},
		{"RSA public key PEM", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&keys.rsa.PublicKey), nil), "", "only a public key"},
		{"public key in a private block", pemOf("PRIVATE KEY", pkixPub, nil), "", "holds a public key"},
		{"certificate only", selfSigned(t, keys.ec), "", "no private key"},
		{"unknown block", pemOf("SECRET STUFF", []byte("x"), nil), "", "no private key block of a known type"},
		{"OpenSSH", pemOf("OPENSSH PRIVATE KEY", []byte("openssh-key-v1\x00"), nil), "", "ssh-keygen"},
		{"two keys", append(pkcs8PEM(t, keys.ec), pkcs8PEM(t, keys.ed)...), "", "2 private keys"},
		{"damaged PEM", bytes.Replace(pkcs8RSA, []byte("-----END"), []byte("-----FIN"), 1), "", "damaged"},
		{"garbage in PKCS#8", pemOf("PRIVATE KEY", bytes.Repeat([]byte{0x42}, 64), nil), "", "could not be read"},
		{"truncated PKCS#8", pemOf("PRIVATE KEY", mustPKCS8(t, keys.rsa)[:600], nil), "", "could not be read"},
		{"RSA 1024 PKCS#8", pkcs8PEM(t, keys.rsa1024), "", "1024 bits"},
		{"RSA 1024 PKCS#1", pkcs1PEM(keys.rsa1024), "", "1024 bits"},
		{"EC P-384 SEC1", sec1PEM(t, keys.p384), "", `"P-384"`},
		{"EC P-384 PKCS#8", pkcs8PEM(t, keys.p384), "", `"P-384"`},
		{"X25519 PKCS#8", pkcs8PEM(t, x25519), "", "cannot sign"},
		{"RSA key for ES256", pkcs8RSA, "ES256", "an RSA key cannot sign with ES256"},
		{"EC key for RS256", sec1PEM(t, keys.ec), "RS256", "a P-256 EC key cannot sign with RS256"},
		{"Ed25519 key for PS256", pkcs8PEM(t, keys.ed), "PS256", "an Ed25519 key cannot sign with PS256"},

		// JWK
		{"bad JSON", []byte(`{"kty":"EC",`), "", "not a valid JSON object"},
		{"JWK set", []byte(`{"keys":[` + string(edJWK(nil)) + `]}`), "", "JWK Set"},
		{"service-account file", []byte(`{"type":"service_account","private_key":` + strconv.Quote(string(pkcs8RSA)) + `}`), "", `"private_key"`},
		{"no kty", edJWK(map[string]any{"kty": nil}), "", `no "kty"`},
		{"kty not a string", edJWK(map[string]any{"kty": 1}), "", `"kty" must be a string`},
		{"oct", []byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`), "", "HS256(secret)"},
		{"unknown kty", edJWK(map[string]any{"kty": "DSA"}), "", `"DSA" is not supported`},
		{"RSA public only", rsaJWK(map[string]any{"d": nil, "p": nil, "q": nil, "dp": nil, "dq": nil, "qi": nil}), "", "public key only"},
		{"EC public only", ecJWK(map[string]any{"d": nil}), "", "public key only"},
		{"OKP public only", edJWK(map[string]any{"d": nil}), "", "public key only"},
		{"d padded", edJWK(map[string]any{"d": edM["d"].(string) + "="}), "", "without padding"},
		{"d standard alphabet", rsaJWK(map[string]any{"d": base64.RawStdEncoding.EncodeToString(keys.rsa.D.Bytes())}), "", "'-' and '_'"},
		{"d with line breaks", rsaJWK(map[string]any{"d": rsaM["d"].(string)[:64] + "\n" + rsaM["d"].(string)[64:]}), "", "line breaks"},
		{"d bad length", edJWK(map[string]any{"d": edM["d"].(string)[:41]}), "", "last character"},
		{"d not a string", ecJWK(map[string]any{"d": 12345}), "", `"d" must be a string`},
		{"kid not a string", ecJWK(map[string]any{"kid": 7}), "", `"kid" must be a string`},
		{"use enc", ecJWK(map[string]any{"use": "enc"}), "", `"use": "enc"`},
		{"key_ops verify", ecJWK(map[string]any{"key_ops": []string{"verify"}}), "", `"sign"`},
		{"key_ops not a list", ecJWK(map[string]any{"key_ops": "sign"}), "", "list of strings"},
		{"JWK alg unsupported", ecJWK(map[string]any{"alg": "ES384"}), "", `"ES384"`},
		{"JWK alg differs", rsaJWK(map[string]any{"alg": "PS256"}), "RS256", "PS256"},
		{"JWK alg misfit", ecJWK(map[string]any{"alg": "RS256"}), "", "cannot sign with RS256"},
		{"EC no crv", ecJWK(map[string]any{"crv": nil}), "", `no "crv"`},
		{"EC P-384", jwkJSON(t, keys.p384, nil), "", `"P-384"`},
		{"EC secp256k1", ecJWK(map[string]any{"crv": "secp256k1"}), "", `"secp256k1"`},
		{"EC x short", ecJWK(map[string]any{"x": b64u(ecX[1:])}), "", "31 bytes"},
		{"EC d long", ecJWK(map[string]any{"d": b64u(append([]byte{0}, ecD...))}), "", "33 bytes"},
		{"EC no y", ecJWK(map[string]any{"y": nil}), "", `no "y"`},
		{"EC point off the curve", ecJWK(map[string]any{"x": b64u(offCurve)}), "", "not on the P-256 curve"},
		{"EC point of another key", ecJWK(map[string]any{"x": otherM["x"], "y": otherM["y"]}), "", "not the public key"},
		{"EC d zero", ecJWK(map[string]any{"d": b64u(make([]byte, 32))}), "", "group order"},
		{"EC d too big", ecJWK(map[string]any{"d": b64u(bytes.Repeat([]byte{0xff}, 32))}), "", "group order"},
		{"Ed25519 seed 31 bytes", edJWK(map[string]any{"d": b64u(keys.ed.Seed()[:31])}), "", "must be 32"},
		{"Ed25519 seed 64 bytes", edJWK(map[string]any{"d": b64u(keys.ed)}), "", "must be 32"},
		{"Ed25519 x of another key", edJWK(map[string]any{"x": otherM["x"]}), "", "not the public key"},
		{"Ed25519 no x", edJWK(map[string]any{"x": nil}), "", `no "x"`},
		{"X25519", edJWK(map[string]any{"crv": "X25519"}), "", "key agreement"},
		{"Ed448", edJWK(map[string]any{"crv": "Ed448"}), "", `"Ed448"`},
		{"RSA 1024 JWK", jwkJSON(t, keys.rsa1024, nil), "", "1024 bits"},
		{"RSA no p q", rsaJWK(map[string]any{"p": nil, "q": nil, "dp": nil, "dq": nil, "qi": nil}), "", `not "p" and "q"`},
		{"RSA some CRT", rsaJWK(map[string]any{"qi": nil}), "", "not all three"},
		{"RSA wrong d", rsaJWK(map[string]any{"d": b64u(d.Bytes())}), "", "do not belong together"},
		{"RSA wrong dp", rsaJWK(map[string]any{"dp": b64u(dp.Bytes())}), "", "do not belong together"},
		{"RSA p q swapped with other key", rsaJWK(map[string]any{"p": b64u(big.NewInt(65537).Bytes())}), "", "do not belong together"},
		{"RSA oth", rsaJWK(map[string]any{"oth": []any{map[string]any{"r": "AQ", "d": "AQ", "t": "AQ"}}}), "", "more than two primes"},
		{"RSA e even", rsaJWK(map[string]any{"e": "AQAA"}), "", `"e" is not a valid exponent`},
		{"RSA e huge", rsaJWK(map[string]any{"e": b64u(bytes.Repeat([]byte{1}, 9))}), "", "too large"},
		{"RSA no n", rsaJWK(map[string]any{"n": nil}), "", `no "n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.data, tt.alg)
			if err == nil {
				t.Fatalf("ParseKey accepted it: %v", k)
			}
			if k != nil {
				t.Fatal("ParseKey returned a key and an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q does not say %q", msg, tt.want)
			}
			checkMessage(t, msg, tt.data)
			if strings.HasPrefix(msg, "x509:") || strings.HasPrefix(msg, "crypto/") || strings.HasPrefix(msg, "json:") {
				t.Fatalf("error passes on a library's message: %q", msg)
			}
		})
	}
}

func mustPKCS8(t *testing.T, priv any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestLeakCheck makes sure the canary check itself can fail.
func TestLeakCheck(t *testing.T) {
	in := jwkJSON(t, testKeys().ed, nil)
	d := jwkMembers(t, testKeys().ed)["d"].(string)
	if leak("bad d "+d[3:22]+" here", in) == "" {
		t.Fatal("leak missed a piece of d")
	}
	if leak("the JWK is bad; export it again", in) != "" {
		t.Fatal("leak saw one where there is none")
	}
}

// TestKeyDoesNotPrint checks that fmt shows a Key as its Alg and Kid only,
// with every verb, as a pointer and as a value.
func TestKeyDoesNotPrint(t *testing.T) {
	keys := testKeys()
	for _, priv := range []any{keys.rsa, keys.ec, keys.ed} {
		k, err := ParseKey(pkcs8PEM(t, priv), "")
		if err != nil {
			t.Fatal(err)
		}
		k.Kid = "kid-1"
		want := `jose.Key{Alg: "` + k.Alg + `", Kid: "kid-1"}`
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			for _, v := range []any{k, *k, []*Key{k}, struct{ K *Key }{k}} {
				got := fmt.Sprintf(verb, v)
				if !strings.Contains(got, want) {
					t.Fatalf("Sprintf(%s, %T) = %q", verb, v, got)
				}
			}
		}
	}
	h := HS256([]byte("client-secret-canary"))
	if s := fmt.Sprintf("%v %+v %#v %x", h, *h, h, h); strings.Contains(s, "canary") || strings.Contains(s, fmt.Sprintf("%x", "canary")) {
		t.Fatalf("HS256 key prints its secret: %s", s)
	}
}

// TestGenerateES256 checks that the key comes from the reader given, and
// that a broken reader is an error rather than a weak key.
func TestGenerateES256(t *testing.T) {
	seed := bytes.Repeat([]byte{0x11}, 32)
	a, err := GenerateES256(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateES256(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if a.Thumbprint() != b.Thumbprint() || a.Alg != "ES256" || a.Kid != "" {
		t.Fatal("GenerateES256 did not use the reader")
	}
	want, _ := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed)
	if !a.priv.(*ecdsa.PrivateKey).Equal(want) {
		t.Fatal("GenerateES256 did not turn the bytes into the scalar")
	}
	// Out-of-range draws are skipped: all-ones is above the group order.
	skip := append(bytes.Repeat([]byte{0xff}, 32), seed...)
	c, err := GenerateES256(bytes.NewReader(skip))
	if err != nil || c.Thumbprint() != a.Thumbprint() {
		t.Fatalf("rejection sampling: %v", err)
	}
	for name, r := range map[string]*bytes.Reader{
		"short":     bytes.NewReader(seed[:31]),
		"zeros":     bytes.NewReader(make([]byte, 64*32)),
		"all ones":  bytes.NewReader(bytes.Repeat([]byte{0xff}, 64*32)),
		"exhausted": bytes.NewReader(nil),
	} {
		if k, err := GenerateES256(r); err == nil || k != nil {
			t.Errorf("%s reader: got a key", name)
		} else if !strings.Contains(err.Error(), "random") {
			t.Errorf("%s reader: %v", name, err)
		}
	}
	x, err := GenerateES256(nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := GenerateES256(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if x.Thumbprint() == y.Thumbprint() {
		t.Fatal("two fresh keys are the same")
	}
}
