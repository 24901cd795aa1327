package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Test keys, made once per test binary: RSA key generation is slow.
var testKeys = sync.OnceValue(func() (k struct {
	rsa     *rsa.PrivateKey
	rsa1024 *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	p384    *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
},
) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		panic(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	return k
})

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pemOf(typ string, der []byte, headers map[string]string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

func pkcs8PEM(t testing.TB, priv any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der, nil)
}

func pkcs1PEM(priv *rsa.PrivateKey) []byte {
	return pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(priv), nil)
}

func sec1PEM(t testing.TB, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("EC PRIVATE KEY", der, nil)
}

// jwkMembers is the private JWK of priv, written by the test itself from
// the key's numbers (RFC 7518 §6, RFC 8037 §2).
func jwkMembers(t testing.TB, priv any) map[string]any {
	t.Helper()
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		p.Precompute()
		return map[string]any{
			"kty": "RSA",
			"n":   b64u(p.N.Bytes()),
			"e":   b64u(big.NewInt(int64(p.E)).Bytes()),
			"d":   b64u(p.D.Bytes()),
			"p":   b64u(p.Primes[0].Bytes()),
			"q":   b64u(p.Primes[1].Bytes()),
			"dp":  b64u(p.Precomputed.Dp.Bytes()),
			"dq":  b64u(p.Precomputed.Dq.Bytes()),
			"qi":  b64u(p.Precomputed.Qinv.Bytes()),
		}
	case *ecdsa.PrivateKey:
		pt, err := p.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (len(pt) - 1) / 2
		return map[string]any{
			"kty": "EC",
			"crv": p.Curve.Params().Name,
			"x":   b64u(pt[1 : 1+size]),
			"y":   b64u(pt[1+size:]),
			"d":   b64u(d),
		}
	case ed25519.PrivateKey:
		return map[string]any{
			"kty": "OKP",
			"crv": "Ed25519",
			"x":   b64u(p.Public().(ed25519.PublicKey)),
			"d":   b64u(p.Seed()),
		}
	}
	t.Fatalf("no JWK for %T", priv)
	return nil
}

// jwkJSON is jwkMembers with changes: a nil value removes the member.
func jwkJSON(t testing.TB, priv any, changes map[string]any) []byte {
	t.Helper()
	m := jwkMembers(t, priv)
	for name, v := range changes {
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// publicFromJWK rebuilds a public key from a public JWK, independently of
// the package, and fails if the JWK has a private member.
func publicFromJWK(jwk map[string]any) (crypto.PublicKey, error) {
	for _, name := range privateMembers {
		if _, ok := jwk[name]; ok {
			return nil, fmt.Errorf("public JWK has private member %q", name)
		}
	}
	get := func(name string) []byte {
		s, _ := jwk[name].(string)
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || s == "" {
			return nil
		}
		return b
	}
	switch jwk["kty"] {
	case "RSA":
		n, e := get("n"), get("e")
		if n == nil || e == nil {
			return nil, errors.New("RSA JWK without n or e")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		if jwk["crv"] != "P-256" {
			return nil, errors.New("EC JWK not on P-256")
		}
		x, y := get("x"), get("y")
		if len(x) != 32 || len(y) != 32 {
			return nil, errors.New("EC JWK x or y not 32 bytes")
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, x, y))
	case "OKP":
		x := get("x")
		if jwk["crv"] != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad OKP JWK")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("unknown kty %v", jwk["kty"])
}

// verifyJWS checks a compact JWS with the standard library and returns its
// decoded header and payload. pub is a public key, or []byte for HS256.
func verifyJWS(token, alg string, pub any) (header, payload map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("%d parts", len(parts))
	}
	var raw [3][]byte
	for i, p := range parts {
		if raw[i], err = base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
			return nil, nil, fmt.Errorf("part %d: %v", i, err)
		}
	}
	if err := json.Unmarshal(raw[0], &header); err != nil {
		return nil, nil, fmt.Errorf("header: %v", err)
	}
	if err := json.Unmarshal(raw[1], &payload); err != nil {
		return nil, nil, fmt.Errorf("payload: %v", err)
	}
	if header["alg"] != alg {
		return nil, nil, fmt.Errorf("header alg %v, want %s", header["alg"], alg)
	}
	input := []byte(parts[0] + "." + parts[1])
	digest := sha256.Sum256(input)
	sig := raw[2]
	switch alg {
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig)
	case "PS256":
		// The salt must be exactly the hash length (RFC 7518 §3.5).
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: sha256.Size})
	case "ES256":
		if len(sig) != 64 {
			return nil, nil, fmt.Errorf("ES256 signature of %d bytes", len(sig))
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], r, s) {
			err = errors.New("ecdsa.Verify failed")
		}
	case "EdDSA":
		if !ed25519.Verify(pub.(ed25519.PublicKey), input, sig) {
			err = errors.New("ed25519.Verify failed")
		}
	case "HS256":
		mac := hmac.New(sha256.New, pub.([]byte))
		mac.Write(input)
		if !hmac.Equal(mac.Sum(nil), sig) {
			err = errors.New("HMAC mismatch")
		}
	default:
		err = fmt.Errorf("unknown alg %s", alg)
	}
	return header, payload, err
}

// isB64 reports whether c can appear in base64 or base64url text.
func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '+' || c == '/' || c == '-' || c == '_' || c == '='
}

// b64Runs returns the maximal runs of base64 characters in s that are at
// least n long.
func b64Runs(s string, n int) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isB64(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= n {
			runs = append(runs, s[start:i])
		}
		start = -1
	}
	return runs
}

const leakWindow = 16

// leak returns a substring of at least 16 characters that the error text
// shares with the base64 of the input (PEM bodies, JWK members), or "".
// A leak would be a run of base64 characters in the message, so only
// those runs need comparing.
func leak(msg string, input []byte) string {
	in := string(input)
	for _, run := range b64Runs(msg, leakWindow) {
		for i := 0; i+leakWindow <= len(run); i++ {
			w := run[i : i+leakWindow]
			for _, inRun := range b64Runs(in, leakWindow) {
				if strings.Contains(inRun, w) {
					return w
				}
			}
		}
	}
	return ""
}

// The only runs of 16 or more base64 characters the package's own
// messages may hold.
var allowedRuns = []string{"client_secret_jwt"}

func checkMessage(t testing.TB, msg string, input []byte) {
	t.Helper()
	if w := leak(msg, input); w != "" {
		t.Fatalf("error repeats input %q: %s", w, msg)
	}
	for _, run := range b64Runs(msg, leakWindow) {
		if !slices.Contains(allowedRuns, run) {
			t.Fatalf("error holds a base64-like run %q: %s", run, msg)
		}
	}
}

func sec1DER(t testing.TB, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
