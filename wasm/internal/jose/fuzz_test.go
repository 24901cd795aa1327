package jose

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseKey checks that no input makes ParseKey panic, that no error
// repeats a piece of the key, and that whatever it accepts is a working
// key whose public JWK has no private member. Seeds (PEM, JWK and DER,
// good and bad) are in testdata/fuzz/FuzzParseKey; -update-seeds writes
// them anew.
//
// mode picks the algorithm asked for and whether data is wrapped in a PEM
// block first, so that the fuzzer can also work on the DER inside PEM
// without having to keep base64 valid.
func FuzzParseKey(f *testing.F) {
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"","y":"","d":""}`), uint8(3))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		input, alg := fuzzInput(data, mode)
		k, err := ParseKey(input, alg)
		if err != nil {
			if k != nil {
				t.Fatal("a key and an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			checkMessage(t, err.Error(), input)
			return
		}
		if !validAlg(k.Alg) || (alg != "" && k.Alg != alg) {
			t.Fatalf("Alg %q for requested %q", k.Alg, alg)
		}
		jwk := k.PublicJWK()
		pub, err := publicFromJWK(jwk)
		if err != nil {
			t.Fatalf("PublicJWK %v: %v", jwk, err)
		}
		if k.Thumbprint() == "" {
			t.Fatal("no thumbprint")
		}
		checkMessage(t, fmt.Sprintf("%+v %#v", k, *k), input)
		tok, err := k.Sign(map[string]any{"jwk": jwk}, map[string]any{"iss": "fuzz"}, rand.Reader)
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if _, _, err := verifyJWS(tok, k.Alg, pub); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
	})
}

var fuzzAlgs = [8]string{"", "", "RS256", "PS256", "ES256", "EdDSA", "", "HS256"}

// fuzzInput turns the fuzzer's arguments into ParseKey's: bits 0-2 of mode
// pick the algorithm, bits 3-4 wrap data as the DER of a PRIVATE KEY, RSA
// PRIVATE KEY or EC PRIVATE KEY block (0: data is used as it is).
func fuzzInput(data []byte, mode uint8) ([]byte, string) {
	alg := fuzzAlgs[mode&7]
	switch (mode >> 3) & 3 {
	case 1:
		return pemOf("PRIVATE KEY", data, nil), alg
	case 2:
		return pemOf("RSA PRIVATE KEY", data, nil), alg
	case 3:
		return pemOf("EC PRIVATE KEY", data, nil), alg
	}
	return data, alg
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzParseKey with fresh keys")

const seedDir = "testdata/fuzz/FuzzParseKey"

type seed struct {
	data []byte
	mode uint8
}

// seeds are the committed corpus: name prefix ok_ must parse, bad_ must
// not. The keys are made for the corpus and protect nothing.
func seeds(t *testing.T) map[string]seed {
	keys := testKeys()
	ecParams := pemOf("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, nil)
	pub, err := x509.MarshalPKIXPublicKey(keys.ed.Public())
	if err != nil {
		t.Fatal(err)
	}
	const (
		asIs  = 0 << 3
		pkcs8 = 1 << 3
		pkcs1 = 2 << 3
		sec1  = 3 << 3
		rs256 = 2
		ps256 = 3
		es256 = 4
		eddsa = 5
		hs256 = 7
	)
	ecD := jwkMembers(t, keys.ec)["d"].(string)
	return map[string]seed{
		"ok_pem_rsa_pkcs8":        {pkcs8PEM(t, keys.rsa), asIs},
		"ok_pem_rsa_pkcs1_ps256":  {pkcs1PEM(keys.rsa), ps256},
		"ok_pem_ec_sec1":          {append(ecParams, sec1PEM(t, keys.ec)...), es256},
		"ok_pem_ec_pkcs8":         {pkcs8PEM(t, keys.ec), asIs},
		"ok_pem_ed25519_pkcs8":    {pkcs8PEM(t, keys.ed), eddsa},
		"ok_jwk_rsa":              {jwkJSON(t, keys.rsa, map[string]any{"kid": "rsa-1", "alg": "RS256", "use": "sig"}), asIs},
		"ok_jwk_ec":               {jwkJSON(t, keys.ec, map[string]any{"kid": "ec-1", "key_ops": []string{"sign"}}), asIs},
		"ok_jwk_okp_rfc8037":      {[]byte(`{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`), asIs},
		"ok_der_pkcs8_ec":         {mustPKCS8(t, keys.ec), pkcs8 | es256},
		"ok_der_pkcs8_ed25519":    {mustPKCS8(t, keys.ed), pkcs8},
		"ok_der_pkcs1_rsa":        {x509.MarshalPKCS1PrivateKey(keys.rsa), pkcs1 | rs256},
		"ok_der_sec1_ec":          {sec1DER(t, keys.ec), sec1},
		"bad_pem_public":          {pemOf("PUBLIC KEY", pub, nil), asIs},
		"bad_pem_encrypted":       {pemOf("ENCRYPTED PRIVATE KEY", bytes.Repeat([]byte{0x30, 0x82}, 20), nil), asIs},
		"bad_pem_rsa_1024":        {pkcs1PEM(keys.rsa1024), asIs},
		"bad_pem_ec_p384":         {sec1PEM(t, keys.p384), asIs},
		"bad_pem_rsa_as_hs256":    {pkcs8PEM(t, keys.rsa), hs256},
		"bad_der_pkcs8_ed_rs256":  {mustPKCS8(t, keys.ed), pkcs8 | rs256},
		"bad_jwk_ec_public":       {jwkJSON(t, keys.ec, map[string]any{"d": nil}), asIs},
		"bad_jwk_ec_padded":       {jwkJSON(t, keys.ec, map[string]any{"d": ecD + "="}), asIs},
		"bad_jwk_okp_as_es256":    {jwkJSON(t, keys.ed, nil), es256},
		"bad_jwk_set":             {[]byte(`{"keys":[` + string(jwkJSON(t, keys.ec, nil)) + `]}`), asIs},
		"bad_jwk_oct":             {[]byte(`{"kty":"oct","k":"c2VjcmV0"}`), asIs},
		"bad_jwk_rsa_missing_crt": {jwkJSON(t, keys.rsa, map[string]any{"dq": nil}), asIs},
	}
}

// TestFuzzSeeds checks that the committed seeds are well-formed and still
// mean what their names say, or rewrites them with -update-seeds.
func TestFuzzSeeds(t *testing.T) {
	if *updateSeeds {
		if err := os.MkdirAll(seedDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, s := range seeds(t) {
			text := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint8(%d)\n", s.data, s.mode)
			if err := os.WriteFile(filepath.Join(seedDir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := os.ReadDir(seedDir)
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds in %s: %v", seedDir, err)
	}
	var ok, bad int
	for _, file := range files {
		text, err := os.ReadFile(filepath.Join(seedDir, file.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
		if len(lines) != 3 || lines[0] != "go test fuzz v1" ||
			!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasPrefix(lines[2], "uint8(") {
			t.Fatalf("%s is not a go test fuzz v1 file of ([]byte, uint8)", file.Name())
		}
		data, err1 := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		mode, err2 := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(lines[2], "uint8("), ")"), 10, 8)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", file.Name(), err1, err2)
		}
		_, err = ParseKey(fuzzInput([]byte(data), uint8(mode)))
		switch {
		case strings.HasPrefix(file.Name(), "ok_"):
			ok++
			if err != nil {
				t.Errorf("%s: %v", file.Name(), err)
			}
		case strings.HasPrefix(file.Name(), "bad_"):
			bad++
			if err == nil {
				t.Errorf("%s parsed", file.Name())
			}
		}
	}
	if ok == 0 || bad == 0 {
		t.Fatalf("seeds: %d good, %d bad", ok, bad)
	}
}
