package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Algorithm names, as they appear in a JWS "alg" header (RFC 7518, RFC 8037).
const (
	algRS256 = "RS256"
	algPS256 = "PS256"
	algES256 = "ES256"
	algEdDSA = "EdDSA"
	algHS256 = "HS256"
)

// Size limits. Larger keys are refused rather than parsed: a key file
// bigger than maxInput is not a key, and RSA beyond maxRSABits only costs
// time.
const (
	maxInput   = 64 << 10
	minRSABits = 2048
	maxRSABits = 8192
)

// Key is a signing key. Alg is the JWS algorithm it signs with; Kid is the
// key id put in the JWS header and in PublicJWK ("" for none; the caller
// may set it). The private part is unexported and never printed: fmt shows
// a Key as its Alg and Kid only. Once its fields are set, a Key may sign
// from several goroutines at once.
type Key struct {
	Alg string
	Kid string

	priv   any    // *rsa.PrivateKey, *ecdsa.PrivateKey (P-256) or ed25519.PrivateKey
	secret []byte // HS256
}

// ParseKey reads a private key given as PEM (PKCS#8 "PRIVATE KEY", PKCS#1
// "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") or as a JWK (a JSON object
// with "kty" RSA, EC or OKP and its private members).
//
// alg may be "" for the key's natural algorithm (the JWK's "alg" if it has
// one, else RS256 for RSA, ES256 for P-256, EdDSA for Ed25519), or one of
// RS256, PS256, ES256 and EdDSA, which must fit the key. Kid is the JWK's
// "kid", or "" for PEM.
func ParseKey(data []byte, alg string) (*Key, error) {
	if alg != "" && !validAlg(alg) {
		if alg == algHS256 {
			return nil, errors.New("HS256 signs with a shared secret, not a private key; use HS256(secret) for client_secret_jwt")
		}
		return nil, fmt.Errorf("the algorithm %s is not supported; use RS256, PS256, ES256 or EdDSA (names are case-sensitive), or leave it empty to pick the key's own", show(alg))
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("the key is %d bytes long, more than any private key (limit %d KiB); give the key file itself, not a bundle or an archive", len(data), maxInput>>10)
	}
	text := bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\xef\xbb\xbf"))
	text = bytes.TrimSpace(text)
	var (
		k   *Key
		err error
	)
	switch {
	case len(text) == 0:
		return nil, errors.New("the key is empty; give a private key as PEM (-----BEGIN PRIVATE KEY-----) or as a JWK JSON object")
	case text[0] == '{':
		k, err = parseJWK(text)
	case bytes.Contains(text, []byte("-----BEGIN")):
		k, err = parsePEM(text)
	case text[0] == '[':
		return nil, errors.New("the key is a JSON array, not a JWK; give one JWK object, with its private members")
	case bytes.ContainsFunc(text, func(r rune) bool { return r < 9 || r == utf8.RuneError }):
		return nil, errors.New("the key is binary data, not text (DER?); convert it to PEM first, e.g. with: openssl pkey -inform DER -in key.der -out key.pem")
	default:
		return nil, errors.New("the key is neither PEM (a -----BEGIN PRIVATE KEY----- block) nor a JWK (a JSON object); give the private key file itself")
	}
	if err != nil {
		return nil, err
	}
	if err := k.pickAlg(alg); err != nil {
		return nil, err
	}
	return k, nil
}

// pickAlg settles k.Alg: the one asked for, else the one k already has
// (from a JWK), else the key type's natural one; then checks it fits.
func (k *Key) pickAlg(alg string) error {
	if alg != "" {
		if k.Alg != "" && k.Alg != alg {
			return fmt.Errorf("the JWK is marked \"alg\": %s but %s was asked for; ask for %s, or leave the algorithm empty", show(k.Alg), alg, show(k.Alg))
		}
		k.Alg = alg
	}
	if k.Alg == "" {
		switch k.priv.(type) {
		case *rsa.PrivateKey:
			k.Alg = algRS256
		case *ecdsa.PrivateKey:
			k.Alg = algES256
		case ed25519.PrivateKey:
			k.Alg = algEdDSA
		}
	}
	return k.check()
}

// check reports whether k can sign with k.Alg.
func (k *Key) check() error {
	if k == nil || (k.priv == nil && k.secret == nil) {
		return errors.New("the key is empty; make one with ParseKey, GenerateES256 or HS256")
	}
	var fits bool
	switch k.Alg {
	case algRS256, algPS256:
		_, fits = k.priv.(*rsa.PrivateKey)
	case algES256:
		_, fits = k.priv.(*ecdsa.PrivateKey)
	case algEdDSA:
		_, fits = k.priv.(ed25519.PrivateKey)
	case algHS256:
		if k.priv == nil {
			if len(k.secret) == 0 {
				return errors.New("the HS256 secret is empty; give the client secret")
			}
			return nil
		}
	default:
		return fmt.Errorf("the algorithm %s is not supported; use RS256, PS256, ES256, EdDSA or HS256", show(k.Alg))
	}
	if fits {
		return nil
	}
	kind, natural := k.kind()
	return fmt.Errorf("%s cannot sign with %s; use %s for it, or a key that fits %s", kind, k.Alg, natural, k.Alg)
}

// kind describes the key and names the algorithms it can sign with.
func (k *Key) kind() (kind, algs string) {
	switch k.priv.(type) {
	case *rsa.PrivateKey:
		return "an RSA key", "RS256 or PS256"
	case *ecdsa.PrivateKey:
		return "a P-256 EC key", algES256
	case ed25519.PrivateKey:
		return "an Ed25519 key", algEdDSA
	}
	return "a shared secret", algHS256
}

func validAlg(alg string) bool {
	switch alg {
	case algRS256, algPS256, algES256, algEdDSA:
		return true
	}
	return false
}

// GenerateES256 makes a fresh P-256 key (for DPoP proofs) from random, or
// from crypto/rand.Reader if random is nil. The scalar is drawn by
// rejection sampling (FIPS 186-5 §A.2.2), so the reader is really used.
func GenerateES256(random io.Reader) (*Key, error) {
	if random == nil {
		random = rand.Reader
	}
	var d [32]byte
	// A 32-byte draw is out of range with probability about 2^-32, so
	// running out of tries means the reader is broken, not unlucky.
	for range 64 {
		if _, err := io.ReadFull(random, d[:]); err != nil {
			return nil, errors.New("could not read randomness for a new P-256 key; the host must provide a working random source (WASI random_get)")
		}
		if priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:]); err == nil {
			clear(d[:])
			return &Key{Alg: algES256, priv: priv}, nil
		}
	}
	return nil, errors.New("the random source keeps returning the same or out-of-range bytes; the host must provide real randomness (WASI random_get)")
}

// HS256 makes a key that signs with HMAC SHA-256 under secret, as
// client_secret_jwt does (RFC 7523 §2.2, OpenID Connect Core §9). secret
// is copied. RFC 7518 §3.2 asks for at least 32 bytes; shorter secrets
// still sign, since the server chose them, but an empty one does not.
func HS256(secret []byte) *Key {
	return &Key{Alg: algHS256, secret: append([]byte{}, secret...)}
}

// PublicJWK returns the public key as a JWK (RFC 7517): "kty" and "crv",
// "x", "y" (EC), "crv", "x" (OKP) or "n", "e" (RSA), plus "alg", "use":
// "sig" and "kid" when set. It never holds private members. It is nil for
// an HS256 key or an empty Key. Each call returns a new map.
func (k *Key) PublicJWK() map[string]any {
	m := k.publicMembers()
	if m == nil {
		return nil
	}
	jwk := make(map[string]any, len(m)+3)
	for name, v := range m {
		jwk[name] = v
	}
	if k.Alg != "" {
		jwk["alg"] = k.Alg
	}
	if k.Kid != "" {
		jwk["kid"] = k.Kid
	}
	jwk["use"] = "sig"
	return jwk
}

// publicMembers returns the members RFC 7638 §3.2 requires for the key
// type, which are all the public key is made of.
func (k *Key) publicMembers() map[string]string {
	if k == nil {
		return nil
	}
	b64 := base64.RawURLEncoding.EncodeToString
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		return map[string]string{"kty": "RSA", "n": b64(p.N.Bytes()), "e": b64(big32(p.E))}
	case *ecdsa.PrivateKey:
		pt, err := p.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil || len(pt) != 65 {
			return nil
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	case ed25519.PrivateKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(p.Public().(ed25519.PublicKey))}
	}
	return nil
}

// big32 is e as a minimal big-endian byte string.
func big32(e int) []byte {
	var b []byte
	for ; e > 0; e >>= 8 {
		b = append([]byte{byte(e)}, b...)
	}
	return b
}

// Thumbprint returns the RFC 7638 JWK thumbprint of the public key with
// SHA-256, base64url without padding: the value of DPoP's "jkt" (RFC 9449
// §6) and a common key id. It is "" for an HS256 key or an empty Key.
func (k *Key) Thumbprint() string {
	return thumbprint(k.publicMembers())
}

// thumbprint hashes the required members in the canonical form of RFC
// 7638 §3: names sorted, no whitespace. Every value is a curve name, a key
// type or base64url, so none needs escaping.
func thumbprint(m map[string]string) string {
	var names []string
	switch m["kty"] {
	case "RSA":
		names = []string{"e", "kty", "n"}
	case "EC":
		names = []string{"crv", "kty", "x", "y"}
	case "OKP":
		names = []string{"crv", "kty", "x"}
	default:
		return ""
	}
	b := []byte{'{'}
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		b = strconv.AppendQuote(b, m[name])
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Format prints a Key as its algorithm and key id, for every verb, so a
// key logged by mistake shows nothing secret. It has a value receiver so
// that a Key value is covered as well as a *Key.
func (k Key) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "jose.Key{Alg: %q, Kid: %q}", k.Alg, k.Kid)
}

// show quotes a value from the input if it is a short, plain name (an
// algorithm, a curve, a key type) and otherwise says only that it is
// something else, so no error repeats a long or odd string.
func show(s string) string {
	if len(s) == 0 || len(s) > 12 {
		return "(an unexpected value)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "(an unexpected value)"
		}
	}
	return strconv.Quote(s)
}
