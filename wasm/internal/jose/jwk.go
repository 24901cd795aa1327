package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// jwk is a decoded JWK object: member name to raw JSON value.
type jwk map[string]json.RawMessage

// parseJWK reads a private JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
func parseJWK(text []byte) (*Key, error) {
	var m jwk
	if err := json.Unmarshal(text, &m); err != nil || m == nil {
		return nil, errors.New("the JWK is not a valid JSON object; check that it was copied whole, with its quotes, commas and braces")
	}
	kty, err := m.str("kty")
	if err != nil {
		return nil, err
	}
	if kty == "" {
		if _, ok := m["keys"]; ok {
			return nil, errors.New("the JSON is a JWK Set (\"keys\": [...]); give the one private JWK to sign with, not the set")
		}
		if m.has("private_key") {
			return nil, errors.New("the JSON has no \"kty\" but a \"private_key\", like a service-account file; give the PEM text of \"private_key\" instead of the whole file")
		}
		return nil, errors.New("the JWK has no \"kty\"; a private JWK needs \"kty\" (RSA, EC or OKP) and its private members")
	}
	k := &Key{}
	if err := m.meta(k); err != nil {
		return nil, err
	}
	if !m.has("d") && (kty == "RSA" || kty == "EC" || kty == "OKP") {
		return nil, errors.New("the JWK is a public key only (it has no \"d\"); signing needs the private JWK")
	}
	switch kty {
	case "RSA":
		k.priv, err = m.rsaKey()
	case "EC":
		k.priv, err = m.ecKey()
	case "OKP":
		k.priv, err = m.okpKey()
	case "oct":
		return nil, errors.New("the JWK is a shared secret (\"kty\": \"oct\"), not a private key; for client_secret_jwt sign with HS256(secret) instead")
	default:
		return nil, fmt.Errorf("the JWK key type %s is not supported; use an RSA, EC (P-256) or OKP (Ed25519) key", show(kty))
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// meta reads the members about the key rather than of it: "kid", "alg",
// "use" and "key_ops".
func (m jwk) meta(k *Key) error {
	var err error
	if k.Kid, err = m.str("kid"); err != nil {
		return err
	}
	a, err := m.str("alg")
	if err != nil {
		return err
	}
	if a != "" && !validAlg(a) {
		return fmt.Errorf("the JWK is marked \"alg\": %s, which cannot be signed with here; use a key for RS256, PS256, ES256 or EdDSA", show(a))
	}
	k.Alg = a
	use, err := m.str("use")
	if err != nil {
		return err
	}
	if use != "" && use != "sig" {
		return fmt.Errorf("the JWK is marked \"use\": %s, so it is not meant for signatures; use a key marked \"sig\" or not marked at all", show(use))
	}
	if raw, ok := m["key_ops"]; ok && !isNull(raw) {
		var ops []string
		if json.Unmarshal(raw, &ops) != nil {
			return errors.New("the JWK member \"key_ops\" must be a list of strings (RFC 7517 §4.3)")
		}
		if !slices.Contains(ops, "sign") {
			return errors.New("the JWK's \"key_ops\" does not include \"sign\", so it is not meant for signatures; use a signing key")
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func (m jwk) has(name string) bool {
	raw, ok := m[name]
	return ok && !isNull(raw)
}

// str returns a string member, "" if it is missing or null.
func (m jwk) str(name string) (string, error) {
	if !m.has(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m[name], &s); err != nil {
		return "", fmt.Errorf("the JWK member %q must be a string", name)
	}
	return s, nil
}

// b64 returns a base64url member (RFC 7515 §2: URL alphabet, no padding,
// no line breaks). size > 0 demands exactly that many bytes.
func (m jwk) b64(name string, size int) ([]byte, error) {
	s, err := m.str(name)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, fmt.Errorf("the JWK has no %q, which this key type needs; export the whole private key", name)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("the JWK member %q is not base64url without padding (RFC 7515 §2); remove any '=' padding, spaces and line breaks, and use '-' and '_' instead of '+' and '/'", name)
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the JWK member %q is not valid base64url (its length or last character is wrong); copy the key again", name)
	}
	if size > 0 && len(b) != size {
		return nil, fmt.Errorf("the JWK member %q is %d bytes long, but must be %d for this curve (RFC 7518 §6.2, RFC 8037 §2); export the key again", name, len(b), size)
	}
	return b, nil
}

func (m jwk) bigInt(name string) (*big.Int, error) {
	b, err := m.b64(name, 0)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

// rsaKey reads an RSA private key (RFC 7518 §6.3). p and q are required: a
// key with only d cannot be checked, and every tool exports them.
func (m jwk) rsaKey() (*rsa.PrivateKey, error) {
	if m.has("oth") {
		return nil, errors.New("the RSA JWK has more than two primes (\"oth\"), which is not supported; use a two-prime RSA key")
	}
	n, err := m.bigInt("n")
	if err != nil {
		return nil, err
	}
	if err := checkRSASize(n.BitLen()); err != nil {
		return nil, err
	}
	eb, err := m.b64("e", 0)
	if err != nil {
		return nil, err
	}
	eb = bytes.TrimLeft(eb, "\x00")
	if len(eb) > 4 {
		return nil, errors.New("the RSA JWK's public exponent \"e\" is too large; it is normally AQAB (65537)")
	}
	e := 0
	for _, c := range eb {
		e = e<<8 | int(c)
	}
	if e < 3 || e%2 == 0 {
		return nil, errors.New("the RSA JWK's public exponent \"e\" is not a valid exponent; it is normally AQAB (65537)")
	}
	if !m.has("p") || !m.has("q") {
		return nil, errors.New("the RSA JWK has \"d\" but not \"p\" and \"q\"; export the key with all its private members (d, p, q, dp, dq, qi)")
	}
	key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: e}}
	if key.D, err = m.bigInt("d"); err != nil {
		return nil, err
	}
	p, err := m.bigInt("p")
	if err != nil {
		return nil, err
	}
	q, err := m.bigInt("q")
	if err != nil {
		return nil, err
	}
	key.Primes = []*big.Int{p, q}
	crt := 0
	for _, name := range []string{"dp", "dq", "qi"} {
		if m.has(name) {
			crt++
		}
	}
	switch crt {
	case 3:
		pre := &key.Precomputed
		if pre.Dp, err = m.bigInt("dp"); err != nil {
			return nil, err
		}
		if pre.Dq, err = m.bigInt("dq"); err != nil {
			return nil, err
		}
		if pre.Qinv, err = m.bigInt("qi"); err != nil {
			return nil, err
		}
	case 0:
	default:
		return nil, errors.New("the RSA JWK has some of \"dp\", \"dq\" and \"qi\" but not all three (RFC 7518 §6.3.2); export the key again with all its private members")
	}
	if key.Validate() != nil {
		return nil, errors.New("the RSA JWK's members do not belong together (n, e, d, p, q, dp, dq and qi must be one key); export the key again")
	}
	key.Precompute()
	return key, nil
}

// ecKey reads a P-256 private key (RFC 7518 §6.2). Every member has the full
// 32 bytes; the point must be on the curve and match d.
func (m jwk) ecKey() (*ecdsa.PrivateKey, error) {
	crv, err := m.str("crv")
	if err != nil {
		return nil, err
	}
	switch crv {
	case "P-256":
	case "":
		return nil, errors.New("the EC JWK has no \"crv\"; it must be \"P-256\"")
	default:
		return nil, fmt.Errorf("the EC JWK is on curve %s; only P-256 (ES256) is supported; make a P-256 key", show(crv))
	}
	x, err := m.b64("x", 32)
	if err != nil {
		return nil, err
	}
	y, err := m.b64("y", 32)
	if err != nil {
		return nil, err
	}
	d, err := m.b64("d", 32)
	if err != nil {
		return nil, err
	}
	point := append(append([]byte{4}, x...), y...)
	if _, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point); err != nil {
		return nil, errors.New("the EC JWK's point (\"x\", \"y\") is not on the P-256 curve; export the key again")
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, errors.New("the EC JWK's \"d\" is not a valid P-256 private key (it is zero or not below the group order); export the key again")
	}
	pub, err := priv.PublicKey.Bytes()
	if err != nil || !bytes.Equal(pub, point) {
		return nil, errors.New("the EC JWK's \"x\" and \"y\" are not the public key of its \"d\"; export the key again")
	}
	return priv, nil
}

// okpKey reads an Ed25519 private key (RFC 8037 §2): d is the 32-byte seed.
func (m jwk) okpKey() (ed25519.PrivateKey, error) {
	crv, err := m.str("crv")
	if err != nil {
		return nil, err
	}
	switch crv {
	case "Ed25519":
	case "X25519", "X448":
		return nil, fmt.Errorf("the OKP JWK is an %s key, which is for key agreement and cannot sign; use an Ed25519 key", crv)
	case "":
		return nil, errors.New("the OKP JWK has no \"crv\"; it must be \"Ed25519\"")
	default:
		return nil, fmt.Errorf("the OKP JWK is on curve %s; only Ed25519 (EdDSA) is supported", show(crv))
	}
	d, err := m.b64("d", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	x, err := m.b64("x", ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	priv := ed25519.NewKeyFromSeed(d)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), x) {
		return nil, errors.New("the OKP JWK's \"x\" is not the public key of its \"d\"; export the key again")
	}
	return priv, nil
}
