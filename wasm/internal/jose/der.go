package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"math/big"
)

// The three DER private key formats are read here by hand, with a small
// reader of DER's tag-length-value encoding, rather than with crypto/x509
// (which would add its certificate machinery to the wasm module for three
// small structures) or encoding/asn1 (whose reflection cost the gzipped
// module about 30 KB). The reader takes DER only: definite minimal
// lengths, low tag numbers, minimal integers, and every SEQUENCE read to
// its end.
//
// Each parser returns errNotFormat when the bytes are not a well-formed
// key in its format (the caller then tries the next format, and in the
// end says the block could not be read), or a sentence when they are a
// key of the format that cannot sign here (a P-384 or X25519 key, RSA of
// the wrong size, multi-prime RSA), which the caller passes on as it is.
// No error carries anything from the input.
var errNotFormat = errors.New("not a private key in this format")

// DER tags used here (X.690 §8).
const (
	tagInteger     = 0x02
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagOID         = 0x06
	tagSequence    = 0x30
	tagContext0    = 0xa0 // [0], constructed
	tagContext1    = 0xa1 // [1], constructed
	tagContext1Raw = 0x81 // [1], primitive (an IMPLICIT BIT STRING)
)

// Object identifiers (RFC 8017, RFC 5480, RFC 8410, SEC 2), as the
// contents of their DER encoding.
var (
	oidRSA      = "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01" // 1.2.840.113549.1.1.1
	oidECKey    = "\x2a\x86\x48\xce\x3d\x02\x01"         // 1.2.840.10045.2.1
	oidEd25519  = "\x2b\x65\x70"                         // 1.3.101.112
	oidX25519   = "\x2b\x65\x6e"                         // 1.3.101.110
	oidX448     = "\x2b\x65\x6f"                         // 1.3.101.111
	oidP256     = "\x2a\x86\x48\xce\x3d\x03\x01\x07"     // 1.2.840.10045.3.1.7
	otherCurves = map[string]string{
		"\x2b\x81\x04\x00\x21": "P-224",     // 1.3.132.0.33
		"\x2b\x81\x04\x00\x22": "P-384",     // 1.3.132.0.34
		"\x2b\x81\x04\x00\x23": "P-521",     // 1.3.132.0.35
		"\x2b\x81\x04\x00\x0a": "secp256k1", // 1.3.132.0.10
	}
	errKeyAgreed = errors.New("the key is an X25519 or other key-agreement key, which cannot sign; use an Ed25519, P-256 or RSA key")
)

// der reads DER elements one after another.
type der []byte

// next reads one element: its tag and contents.
func (d *der) next() (tag byte, body []byte, ok bool) {
	b := *d
	if len(b) < 2 || b[0]&0x1f == 0x1f { // no high tag numbers in these formats
		return 0, nil, false
	}
	tag, n, b := b[0], int(b[1]), b[2:]
	if n >= 0x80 {
		// Long form: 1 to 3 length bytes, no leading zero, and only for
		// lengths that do not fit the short form (X.690 §10.1).
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < k || b[0] == 0 {
			return 0, nil, false
		}
		n = 0
		for _, c := range b[:k] {
			n = n<<8 | int(c)
		}
		if n < 0x80 {
			return 0, nil, false
		}
		b = b[k:]
	}
	if n > len(b) {
		return 0, nil, false
	}
	*d = b[n:]
	return tag, b[:n], true
}

// peek is the tag of the next element, 0 at the end.
func (d der) peek() byte {
	if len(d) == 0 {
		return 0
	}
	return d[0]
}

// expect reads one element that must have tag.
func (d *der) expect(tag byte) ([]byte, bool) {
	t, body, ok := d.next()
	return body, ok && t == tag
}

// whole reads b as exactly one element with tag.
func whole(b []byte, tag byte) ([]byte, bool) {
	d := der(b)
	body, ok := d.expect(tag)
	return body, ok && len(d) == 0
}

// bigInt reads a positive INTEGER.
func (d *der) bigInt() (*big.Int, bool) {
	body, ok := d.expect(tagInteger)
	if !ok || !minimalInt(body) || body[0]&0x80 != 0 {
		return nil, false
	}
	n := new(big.Int).SetBytes(body)
	return n, n.Sign() > 0
}

// smallInt reads a non-negative INTEGER below 2^31.
func (d *der) smallInt() (int, bool) {
	body, ok := d.expect(tagInteger)
	if !ok || !minimalInt(body) || body[0]&0x80 != 0 || len(body) > 4 {
		return 0, false
	}
	v := 0
	for _, c := range body {
		v = v<<8 | int(c)
	}
	return v, true
}

// minimalInt: an INTEGER's contents are not empty and have no redundant
// leading byte (X.690 §8.3.2).
func minimalInt(b []byte) bool {
	return len(b) > 0 && (len(b) == 1 || !(b[0] == 0 && b[1]&0x80 == 0) && !(b[0] == 0xff && b[1]&0x80 != 0))
}

// bitString is a BIT STRING's bits, when a whole number of bytes.
func bitString(body []byte) ([]byte, bool) {
	if len(body) == 0 || body[0] != 0 {
		return nil, false // keys and points are whole bytes: no padding bits
	}
	return body[1:], true
}

// algorithm reads RFC 5280's AlgorithmIdentifier: the OID and the
// parameters' whole encoding, if any.
func (d *der) algorithm() (oid string, params []byte, ok bool) {
	body, ok := d.expect(tagSequence)
	if !ok {
		return "", nil, false
	}
	a := der(body)
	o, ok := a.expect(tagOID)
	if !ok || len(o) == 0 {
		return "", nil, false
	}
	params = a
	if len(a) > 0 {
		if _, _, ok := a.next(); !ok || len(a) != 0 {
			return "", nil, false
		}
	}
	return string(o), params, true
}

// parsePKCS8 reads a PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958:
// version, algorithm, privateKey, [0] attributes, [1] publicKey) holding
// an RSA, EC P-256 or Ed25519 key.
func parsePKCS8(b []byte) (any, error) {
	body, ok := whole(b, tagSequence)
	if !ok {
		return nil, errNotFormat
	}
	d := der(body)
	version, ok1 := d.smallInt()
	alg, params, ok2 := d.algorithm()
	key, ok3 := d.expect(tagOctetString)
	if !ok1 || !ok2 || !ok3 || (version != 0 && version != 1) {
		return nil, errNotFormat
	}
	if d.peek() == tagContext0 {
		if _, _, ok := d.next(); !ok {
			return nil, errNotFormat
		}
	}
	var pub []byte
	hasPublic := false
	if d.peek() == tagContext1Raw {
		raw, _ := d.expect(tagContext1Raw)
		if pub, ok = bitString(raw); !ok {
			return nil, errNotFormat
		}
		hasPublic = len(pub) > 0
	}
	if len(d) != 0 {
		return nil, errNotFormat
	}
	switch alg {
	case oidRSA:
		// The parameters are NULL (RFC 8017 appendix A.1), sometimes left out.
		if len(params) != 0 && !bytes.Equal(params, []byte{0x05, 0x00}) {
			return nil, errNotFormat
		}
		priv, err := parsePKCS1(key)
		if err != nil || !hasPublic {
			return priv, err
		}
		n, e, ok := rsaPublic(pub)
		if !ok || n.Cmp(priv.(*rsa.PrivateKey).N) != 0 || e.Cmp(big.NewInt(int64(priv.(*rsa.PrivateKey).E))) != 0 {
			return nil, errNotFormat
		}
		return priv, nil
	case oidECKey:
		curve, ok := whole(params, tagOID)
		if !ok {
			return nil, errNotFormat
		}
		if string(curve) != oidP256 {
			return nil, curveError(curve)
		}
		priv, err := parseSEC1(key, true)
		if err != nil {
			return nil, err
		}
		if hasPublic && !samePoint(priv.(*ecdsa.PrivateKey), pub) {
			return nil, errNotFormat
		}
		return priv, nil
	case oidEd25519:
		// RFC 8410 §7: no parameters; the key is CurvePrivateKey, an OCTET
		// STRING of the 32-byte seed, inside the PrivateKey OCTET STRING.
		seed, ok := whole(key, tagOctetString)
		if len(params) != 0 || !ok || len(seed) != ed25519.SeedSize {
			return nil, errNotFormat
		}
		priv := ed25519.NewKeyFromSeed(seed)
		if hasPublic && !bytes.Equal(pub, priv.Public().(ed25519.PublicKey)) {
			return nil, errNotFormat
		}
		return priv, nil
	case oidX25519, oidX448:
		return nil, errKeyAgreed
	}
	return nil, errNotFormat
}

// rsaPublic reads RFC 8017's RSAPublicKey: SEQUENCE { n, e }.
func rsaPublic(b []byte) (n, e *big.Int, ok bool) {
	body, ok := whole(b, tagSequence)
	if !ok {
		return nil, nil, false
	}
	d := der(body)
	n, ok1 := d.bigInt()
	e, ok2 := d.bigInt()
	return n, e, ok1 && ok2 && len(d) == 0
}

// parsePKCS1 reads a two-prime RSA private key (RFC 8017 appendix A.1.2),
// refusing sizes that cannot sign here before doing any arithmetic on it.
func parsePKCS1(b []byte) (any, error) {
	body, ok := whole(b, tagSequence)
	if !ok {
		return nil, errNotFormat
	}
	d := der(body)
	version, ok := d.smallInt()
	if !ok {
		return nil, errNotFormat
	}
	var v [8]*big.Int // n, e, d, p, q, dp, dq, qinv
	for i := range v {
		if v[i], ok = d.bigInt(); !ok {
			return nil, errNotFormat
		}
	}
	// Version 0 is two-prime, 1 multi-prime with OtherPrimeInfos.
	multi := len(d) != 0
	if multi {
		if _, ok := d.expect(tagSequence); !ok || len(d) != 0 {
			return nil, errNotFormat
		}
	}
	if (version != 0 && version != 1) || (version == 1) != multi {
		return nil, errNotFormat
	}
	n, e := v[0], v[1]
	if e.BitLen() > 31 {
		return nil, errNotFormat
	}
	if err := checkRSASize(n.BitLen()); err != nil {
		return nil, err
	}
	if multi {
		return nil, errMultiPrime
	}
	priv := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())},
		D:         v[2],
		Primes:    []*big.Int{v[3], v[4]},
	}
	priv.Precomputed.Dp, priv.Precomputed.Dq, priv.Precomputed.Qinv = v[5], v[6], v[7]
	if priv.Validate() != nil {
		return nil, errNotFormat
	}
	priv.Precompute()
	return priv, nil
}

// parseSEC1 reads a P-256 ECPrivateKey (RFC 5915: version 1, privateKey,
// [0] parameters, [1] publicKey). inPKCS8 says the curve was named outside
// it, so that the parameters may be left out; on its own the key must name
// its curve.
func parseSEC1(b []byte, inPKCS8 bool) (any, error) {
	body, ok := whole(b, tagSequence)
	if !ok {
		return nil, errNotFormat
	}
	dd := der(body)
	version, ok1 := dd.smallInt()
	key, ok2 := dd.expect(tagOctetString)
	if !ok1 || !ok2 || version != 1 {
		return nil, errNotFormat
	}
	var curve, pub []byte
	hasPublic := false
	if dd.peek() == tagContext0 {
		inner, _ := dd.expect(tagContext0)
		if curve, ok = whole(inner, tagOID); !ok || len(curve) == 0 {
			return nil, errNotFormat
		}
	}
	if dd.peek() == tagContext1 {
		inner, _ := dd.expect(tagContext1)
		raw, ok := whole(inner, tagBitString)
		if !ok {
			return nil, errNotFormat
		}
		if pub, ok = bitString(raw); !ok {
			return nil, errNotFormat
		}
		hasPublic = len(pub) > 0
	}
	if len(dd) != 0 {
		return nil, errNotFormat
	}
	switch {
	case curve == nil:
		if !inPKCS8 {
			return nil, errNotFormat
		}
	case string(curve) != oidP256:
		if inPKCS8 {
			return nil, errNotFormat // it contradicts the outer curve
		}
		return nil, curveError(curve)
	}
	// The scalar is 32 bytes (RFC 5915 §3). Some encoders have added or
	// dropped leading zeros; both are read.
	d := key
	for len(d) > 32 && d[0] == 0 {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 32 {
		return nil, errNotFormat
	}
	var scalar [32]byte
	copy(scalar[32-len(d):], d)
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	clear(scalar[:])
	if err != nil { // zero, or not below the group order
		return nil, errNotFormat
	}
	if hasPublic && !samePoint(priv, pub) {
		return nil, errNotFormat
	}
	return priv, nil
}

// samePoint reports whether pub, an encoded P-256 point (SEC 1 §2.3.3,
// uncompressed or compressed), is priv's public key.
func samePoint(priv *ecdsa.PrivateKey, pub []byte) bool {
	want, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil || len(want) != 65 {
		return false
	}
	switch len(pub) {
	case 65:
		return bytes.Equal(pub, want)
	case 33:
		return pub[0] == 0x02|want[64]&1 && bytes.Equal(pub[1:], want[1:33])
	}
	return false
}

// curveError refuses an EC key on another curve than P-256, naming it if
// it is a curve we know.
func curveError(oid []byte) error {
	name, ok := otherCurves[string(oid)]
	if !ok {
		return errNotFormat
	}
	return unsupportedCurve(show(name))
}

// isPublic reports whether b has the shape of a PKCS#1 RSAPublicKey or
// of a SubjectPublicKeyInfo. It only picks the error message, so the
// shape is enough.
func isPublic(b []byte) bool {
	if _, _, ok := rsaPublic(b); ok {
		return true
	}
	body, ok := whole(b, tagSequence)
	if !ok {
		return false
	}
	d := der(body)
	_, _, ok1 := d.algorithm()
	_, ok2 := d.expect(tagBitString)
	return ok1 && ok2 && len(d) == 0
}
