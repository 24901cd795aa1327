package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"math/big"
)

// The three DER private key formats are read here with encoding/asn1
// rather than crypto/x509, which would add its certificate machinery to
// the wasm module for three small structures.
//
// Each parser returns errNotFormat when the bytes are not a well-formed
// key in its format (the caller then tries the next format, and in the
// end says the block could not be read), or a sentence when they are a
// key of the format that cannot sign here (a P-384 or X25519 key, RSA of
// the wrong size, multi-prime RSA), which the caller passes on as it is.
// No error carries anything from the input.
var errNotFormat = errors.New("not a private key in this format")

// Object identifiers (RFC 8017, RFC 5480, RFC 8410, SEC 2).
var (
	oidRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidEd25519   = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidX25519    = asn1.ObjectIdentifier{1, 3, 101, 110}
	oidX448      = asn1.ObjectIdentifier{1, 3, 101, 111}
	oidP256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	otherCurves  = map[string]string{"1.3.132.0.33": "P-224", "1.3.132.0.34": "P-384", "1.3.132.0.35": "P-521", "1.3.132.0.10": "secp256k1"}
	errKeyAgreed = errors.New("the key is an X25519 or other key-agreement key, which cannot sign; use an Ed25519, P-256 or RSA key")
)

// algorithmIdentifier is RFC 5280's AlgorithmIdentifier.
type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
	Extra      asn1.RawValue `asn1:"optional"` // must stay empty
}

// oneAsymmetricKey is RFC 5958's OneAsymmetricKey, of which RFC 5208's
// PrivateKeyInfo is version 0 without the two optional fields.
type oneAsymmetricKey struct {
	Version    int
	Algorithm  algorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue  `asn1:"optional,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
	Extra      asn1.RawValue  `asn1:"optional"` // must stay empty
}

// rsaPrivateKey is RFC 8017's RSAPrivateKey (appendix A.1.2).
type rsaPrivateKey struct {
	Version                     int
	N, E, D, P, Q, Dp, Dq, Qinv *big.Int
	OtherPrimeInfos             asn1.RawValue `asn1:"optional"`
}

// ecPrivateKey is RFC 5915's ECPrivateKey; only a named curve is read as
// its parameters.
type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
	Extra      asn1.RawValue         `asn1:"optional"` // must stay empty
}

// unmarshalAll decodes der into v and requires that nothing follows it.
func unmarshalAll(der []byte, v any) bool {
	rest, err := asn1.Unmarshal(der, v)
	return err == nil && len(rest) == 0
}

// parsePKCS8 reads a PKCS#8 PrivateKeyInfo / OneAsymmetricKey holding an
// RSA, EC P-256 or Ed25519 key.
func parsePKCS8(der []byte) (any, error) {
	var k oneAsymmetricKey
	if !unmarshalAll(der, &k) || (k.Version != 0 && k.Version != 1) || len(k.Extra.FullBytes) != 0 || len(k.Algorithm.Extra.FullBytes) != 0 {
		return nil, errNotFormat
	}
	params := k.Algorithm.Parameters.FullBytes
	hasPublic := k.PublicKey.BitLength != 0
	switch alg := k.Algorithm.Algorithm; {
	case alg.Equal(oidRSA):
		// The parameters are NULL (RFC 8017 appendix A.1), sometimes left out.
		if len(params) != 0 && !bytes.Equal(params, []byte{0x05, 0x00}) {
			return nil, errNotFormat
		}
		priv, err := parsePKCS1(k.PrivateKey)
		if err != nil || !hasPublic {
			return priv, err
		}
		var pub struct{ N, E *big.Int }
		if !unmarshalAll(k.PublicKey.RightAlign(), &pub) || pub.N.Cmp(priv.(*rsa.PrivateKey).N) != 0 || pub.E.Cmp(big.NewInt(int64(priv.(*rsa.PrivateKey).E))) != 0 {
			return nil, errNotFormat
		}
		return priv, nil
	case alg.Equal(oidECKey):
		var curve asn1.ObjectIdentifier
		if !unmarshalAll(params, &curve) {
			return nil, errNotFormat
		}
		if !curve.Equal(oidP256) {
			return nil, curveError(curve)
		}
		priv, err := parseSEC1(k.PrivateKey, true)
		if err != nil {
			return nil, err
		}
		if hasPublic && !samePoint(priv.(*ecdsa.PrivateKey), k.PublicKey) {
			return nil, errNotFormat
		}
		return priv, nil
	case alg.Equal(oidEd25519):
		// RFC 8410 §7: no parameters; the key is CurvePrivateKey, an OCTET
		// STRING of the 32-byte seed, inside the PrivateKey OCTET STRING.
		var seed []byte
		if len(params) != 0 || !unmarshalAll(k.PrivateKey, &seed) || len(seed) != ed25519.SeedSize {
			return nil, errNotFormat
		}
		priv := ed25519.NewKeyFromSeed(seed)
		clear(seed)
		if hasPublic && !bytes.Equal(k.PublicKey.Bytes, priv.Public().(ed25519.PublicKey)) {
			return nil, errNotFormat
		}
		return priv, nil
	case alg.Equal(oidX25519), alg.Equal(oidX448):
		return nil, errKeyAgreed
	}
	return nil, errNotFormat
}

// parsePKCS1 reads a two-prime RSA private key, refusing sizes that
// cannot sign here before doing any arithmetic on it.
func parsePKCS1(der []byte) (any, error) {
	var k rsaPrivateKey
	if !unmarshalAll(der, &k) {
		return nil, errNotFormat
	}
	for _, v := range []*big.Int{k.N, k.E, k.D, k.P, k.Q, k.Dp, k.Dq, k.Qinv} {
		if v.Sign() <= 0 {
			return nil, errNotFormat
		}
	}
	// Version 0 is two-prime, 1 multi-prime with OtherPrimeInfos.
	multi := len(k.OtherPrimeInfos.FullBytes) != 0
	if (k.Version != 0 && k.Version != 1) || (k.Version == 1) != multi {
		return nil, errNotFormat
	}
	if k.E.BitLen() > 31 {
		return nil, errNotFormat
	}
	if err := checkRSASize(k.N.BitLen()); err != nil {
		return nil, err
	}
	if multi {
		return nil, errMultiPrime
	}
	priv := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: k.N, E: int(k.E.Int64())},
		D:         k.D,
		Primes:    []*big.Int{k.P, k.Q},
	}
	priv.Precomputed.Dp, priv.Precomputed.Dq, priv.Precomputed.Qinv = k.Dp, k.Dq, k.Qinv
	if priv.Validate() != nil {
		return nil, errNotFormat
	}
	priv.Precompute()
	return priv, nil
}

// parseSEC1 reads a P-256 ECPrivateKey. inPKCS8 says the curve was named
// outside it, so that the parameters may be left out; on its own the key
// must name its curve.
func parseSEC1(der []byte, inPKCS8 bool) (any, error) {
	var k ecPrivateKey
	if !unmarshalAll(der, &k) || k.Version != 1 || len(k.Extra.FullBytes) != 0 {
		return nil, errNotFormat
	}
	switch {
	case k.Curve == nil:
		if !inPKCS8 {
			return nil, errNotFormat
		}
	case !k.Curve.Equal(oidP256):
		if inPKCS8 {
			return nil, errNotFormat // it contradicts the outer curve
		}
		return nil, curveError(k.Curve)
	}
	// The scalar is 32 bytes (RFC 5915 §3). Some encoders have added or
	// dropped leading zeros; both are read.
	d := k.PrivateKey
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
	if k.PublicKey.BitLength != 0 && !samePoint(priv, k.PublicKey) {
		return nil, errNotFormat
	}
	return priv, nil
}

// samePoint reports whether pub, an encoded P-256 point (SEC 1 §2.3.3,
// uncompressed or compressed), is priv's public key.
func samePoint(priv *ecdsa.PrivateKey, pub asn1.BitString) bool {
	want, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil || len(want) != 65 || pub.BitLength != 8*len(pub.Bytes) {
		return false
	}
	got := pub.Bytes
	switch len(got) {
	case 65:
		return bytes.Equal(got, want)
	case 33:
		return got[0] == 0x02|want[64]&1 && bytes.Equal(got[1:], want[1:33])
	}
	return false
}

// curveError refuses an EC key on another curve than P-256, naming it if
// it is a curve we know.
func curveError(oid asn1.ObjectIdentifier) error {
	name, ok := otherCurves[oid.String()]
	if !ok {
		return errNotFormat
	}
	return unsupportedCurve(show(name))
}

// isPublic reports whether der has the shape of a PKCS#1 RSAPublicKey or
// of a SubjectPublicKeyInfo. It only picks the error message, so the
// shape is enough.
func isPublic(der []byte) bool {
	var pkcs1 struct {
		N, E  *big.Int
		Extra asn1.RawValue `asn1:"optional"`
	}
	if unmarshalAll(der, &pkcs1) && pkcs1.N.Sign() > 0 && pkcs1.E.Sign() > 0 && len(pkcs1.Extra.FullBytes) == 0 {
		return true
	}
	var spki struct {
		Algorithm algorithmIdentifier
		PublicKey asn1.BitString
		Extra     asn1.RawValue `asn1:"optional"`
	}
	return unmarshalAll(der, &spki) && len(spki.Extra.FullBytes) == 0 && len(spki.Algorithm.Extra.FullBytes) == 0
}
