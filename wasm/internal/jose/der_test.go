package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
)

// TestDERMatchesX509 checks that the DER parsers read what
// crypto/x509 writes as the same key.
func TestDERMatchesX509(t *testing.T) {
	keys := testKeys()
	for _, priv := range []any{keys.rsa, keys.ec, keys.ed} {
		got, err := parsePKCS8(mustPKCS8(t, priv))
		if err != nil {
			t.Fatalf("PKCS#8 %T: %v", priv, err)
		}
		if !got.(interface{ Equal(crypto.PrivateKey) bool }).Equal(priv) {
			t.Fatalf("PKCS#8 %T: a different key", priv)
		}
	}
	got, err := parsePKCS1(x509.MarshalPKCS1PrivateKey(keys.rsa))
	if err != nil || !got.(*rsa.PrivateKey).Equal(keys.rsa) {
		t.Fatalf("PKCS#1: %v", err)
	}
	got, err = parseSEC1(sec1DER(t, keys.ec), false)
	if err != nil || !got.(*ecdsa.PrivateKey).Equal(keys.ec) {
		t.Fatalf("SEC 1: %v", err)
	}
}

// The structures and object identifiers of the three formats, for
// encoding/asn1 to build test keys with (the parsers read DER by hand).
var (
	asn1RSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	asn1ECKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	asn1Ed25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	asn1P256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type oneAsymmetricKey struct {
	Version    int
	Algorithm  algorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue  `asn1:"optional,tag:0"`
	PublicKey  asn1.BitString `asn1:"optional,tag:1"`
}

type rsaPrivateKey struct {
	Version                     int
	N, E, D, P, Q, Dp, Dq, Qinv *big.Int
	OtherPrimeInfos             asn1.RawValue `asn1:"optional"`
}

type ecPrivateKey struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
	Extra      asn1.RawValue         `asn1:"optional"`
}

// ecDER builds an ECPrivateKey by hand.
func ecDER(t *testing.T, d []byte, curve asn1.ObjectIdentifier, pub []byte) []byte {
	t.Helper()
	k := ecPrivateKey{Version: 1, PrivateKey: d, Curve: curve}
	if pub != nil {
		k.PublicKey = asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}
	}
	der, err := asn1.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// pkcs8DER builds a OneAsymmetricKey by hand.
func pkcs8DER(t *testing.T, version int, alg asn1.ObjectIdentifier, params, key, pub []byte) []byte {
	t.Helper()
	k := oneAsymmetricKey{Version: version, Algorithm: algorithmIdentifier{Algorithm: alg}, PrivateKey: key}
	if params != nil {
		k.Algorithm.Parameters = asn1.RawValue{FullBytes: params}
	}
	if pub != nil {
		k.PublicKey = asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}
	}
	der, err := asn1.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestDERVariants covers what the x509-based tests cannot make: variants
// that real encoders write, and damaged keys.
func TestDERVariants(t *testing.T) {
	keys := testKeys()
	ec := keys.ec
	d := make([]byte, 32)
	ec.D.FillBytes(d)
	pt, _ := ec.PublicKey.Bytes()
	compressed := append([]byte{0x02 | pt[64]&1}, pt[1:33]...)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherPt, _ := other.PublicKey.Bytes()
	p384 := asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	curveP256 := mustMarshal(t, asn1P256)
	seed := keys.ed.Seed()
	seedDER := mustMarshal(t, seed)
	edPub := keys.ed.Public().(ed25519.PublicKey)
	order := elliptic.P256().Params().N.FillBytes(make([]byte, 32))

	r := keys.rsa
	pkcs1 := func(change func(*rsaPrivateKey)) []byte {
		k := rsaPrivateKey{N: r.N, E: big.NewInt(int64(r.E)), D: r.D, P: r.Primes[0], Q: r.Primes[1], Dp: r.Precomputed.Dp, Dq: r.Precomputed.Dq, Qinv: r.Precomputed.Qinv}
		if change != nil {
			change(&k)
		}
		return mustMarshal(t, k)
	}
	multi := pkcs1(func(k *rsaPrivateKey) {
		k.Version = 1
		k.OtherPrimeInfos = asn1.RawValue{FullBytes: mustMarshal(t, []struct{ R, D, T *big.Int }{{big.NewInt(7), big.NewInt(3), big.NewInt(5)}})}
	})

	ok := []struct {
		name, typ string
		der       []byte
		pub       any
	}{
		{"SEC 1 with public key", pemSEC1, ecDER(t, d, asn1P256, pt), &ec.PublicKey},
		{"SEC 1 with compressed public key", pemSEC1, ecDER(t, d, asn1P256, compressed), &ec.PublicKey},
		{"SEC 1 scalar with a leading zero added", pemSEC1, ecDER(t, append([]byte{0}, d...), asn1P256, nil), &ec.PublicKey},
		{"SEC 1 in PKCS#8 without parameters", pemPKCS8, pkcs8DER(t, 0, asn1ECKey, curveP256, ecDER(t, d, nil, pt), nil), &ec.PublicKey},
		{"PKCS#8 v2 EC with public key", pemPKCS8, pkcs8DER(t, 1, asn1ECKey, curveP256, ecDER(t, d, nil, nil), pt), &ec.PublicKey},
		{"PKCS#8 v2 Ed25519 with public key", pemPKCS8, pkcs8DER(t, 1, asn1Ed25519, nil, seedDER, edPub), edPub},
		{"PKCS#8 RSA without NULL parameters", pemPKCS8, pkcs8DER(t, 0, asn1RSA, nil, x509.MarshalPKCS1PrivateKey(r), nil), &r.PublicKey},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(pemOf(tt.typ, tt.der, nil), "")
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			pub, err := publicFromJWK(k.PublicJWK())
			if err != nil || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.pub) {
				t.Fatalf("a different key (%v)", err)
			}
		})
	}

	// A short scalar (leading zeros dropped) is padded back.
	var short *ecdsa.PrivateKey
	for short == nil {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if k.D.BitLen() <= 248 {
			short = k
		}
	}
	if k, err := ParseKey(pemOf(pemSEC1, ecDER(t, short.D.Bytes(), asn1P256, nil), nil), ""); err != nil || k.Thumbprint() != (&Key{priv: short}).Thumbprint() {
		t.Fatalf("short scalar: %v", err)
	}

	bad := []struct {
		name, typ string
		der       []byte
		want      string
	}{
		{"SEC 1 without curve", pemSEC1, ecDER(t, d, nil, nil), "could not be read"},
		{"SEC 1 other public key", pemSEC1, ecDER(t, d, asn1P256, otherPt), "could not be read"},
		{"SEC 1 odd public key", pemSEC1, ecDER(t, d, asn1P256, pt[:40]), "could not be read"},
		{"SEC 1 zero scalar", pemSEC1, ecDER(t, make([]byte, 32), asn1P256, nil), "could not be read"},
		{"SEC 1 empty scalar", pemSEC1, ecDER(t, nil, asn1P256, nil), "could not be read"},
		{"SEC 1 scalar is the order", pemSEC1, ecDER(t, order, asn1P256, nil), "could not be read"},
		{"SEC 1 scalar 33 bytes", pemSEC1, ecDER(t, append([]byte{1}, d...), asn1P256, nil), "could not be read"},
		{"SEC 1 P-384 named", pemSEC1, ecDER(t, d, p384, nil), `"P-384"`},
		{"SEC 1 unknown curve", pemSEC1, ecDER(t, d, asn1.ObjectIdentifier{1, 2, 3}, nil), "could not be read"},
		{"SEC 1 version 2", pemSEC1, mustMarshal(t, ecPrivateKey{Version: 2, PrivateKey: d, Curve: asn1P256}), "could not be read"},
		{"SEC 1 trailing data", pemSEC1, append(ecDER(t, d, asn1P256, nil), 0), "could not be read"},
		{"SEC 1 extra element", pemSEC1, mustMarshal(t, ecPrivateKey{Version: 1, PrivateKey: d, Curve: asn1P256, Extra: asn1.RawValue{FullBytes: []byte{5, 0}}}), "could not be read"},
		{"PKCS#8 P-256 around P-384", pemPKCS8, pkcs8DER(t, 0, asn1ECKey, curveP256, ecDER(t, d, p384, nil), nil), "could not be read"},
		{"PKCS#8 EC without curve", pemPKCS8, pkcs8DER(t, 0, asn1ECKey, nil, ecDER(t, d, nil, nil), nil), "could not be read"},
		{"PKCS#8 EC other public key", pemPKCS8, pkcs8DER(t, 1, asn1ECKey, curveP256, ecDER(t, d, nil, nil), otherPt), "could not be read"},
		{"PKCS#8 Ed25519 with parameters", pemPKCS8, pkcs8DER(t, 0, asn1Ed25519, []byte{5, 0}, seedDER, nil), "could not be read"},
		{"PKCS#8 Ed25519 seed 31 bytes", pemPKCS8, pkcs8DER(t, 0, asn1Ed25519, nil, mustMarshal(t, seed[:31]), nil), "could not be read"},
		{"PKCS#8 Ed25519 bare seed", pemPKCS8, pkcs8DER(t, 0, asn1Ed25519, nil, seed, nil), "could not be read"},
		{"PKCS#8 Ed25519 other public key", pemPKCS8, pkcs8DER(t, 1, asn1Ed25519, nil, seedDER, otherPt[1:33]), "could not be read"},
		{"PKCS#8 version 2", pemPKCS8, pkcs8DER(t, 2, asn1Ed25519, nil, seedDER, nil), "could not be read"},
		{"PKCS#8 Ed448", pemPKCS8, pkcs8DER(t, 0, asn1.ObjectIdentifier{1, 3, 101, 113}, nil, mustMarshal(t, make([]byte, 57)), nil), "could not be read"},
		{"PKCS#8 X448", pemPKCS8, pkcs8DER(t, 0, asn1.ObjectIdentifier{1, 3, 101, 111}, nil, mustMarshal(t, make([]byte, 56)), nil), "cannot sign"},
		{"PKCS#8 RSA odd parameters", pemPKCS8, pkcs8DER(t, 0, asn1RSA, curveP256, x509.MarshalPKCS1PrivateKey(r), nil), "could not be read"},
		{"PKCS#8 trailing data", pemPKCS8, append(mustPKCS8(t, keys.ed), 0, 0), "could not be read"},
		{"PKCS#1 multi-prime", pemPKCS1, multi, "more than two primes"},
		{"PKCS#1 version 1 without other primes", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.Version = 1 }), "could not be read"},
		{"PKCS#1 negative d", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.D = new(big.Int).Neg(k.D) }), "could not be read"},
		{"PKCS#1 zero qinv", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.Qinv = new(big.Int) }), "could not be read"},
		{"PKCS#1 wrong dp", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.Dp = new(big.Int).Add(k.Dp, big.NewInt(2)) }), "could not be read"},
		{"PKCS#1 wrong d", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.D = new(big.Int).Xor(k.D, big.NewInt(2)) }), "could not be read"},
		{"PKCS#1 huge e", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.E = new(big.Int).Lsh(big.NewInt(1), 40) }), "could not be read"},
		{"PKCS#1 9000 bits", pemPKCS1, pkcs1(func(k *rsaPrivateKey) { k.N = new(big.Int).Lsh(big.NewInt(1), 8999) }), "9000 bits"},
		{"PKCS#1 trailing data", pemPKCS1, append(x509.MarshalPKCS1PrivateKey(r), 0), "could not be read"},
		{"PKCS#1 public key", pemPKCS1, x509.MarshalPKCS1PublicKey(&r.PublicKey), "holds a public key"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			in := pemOf(tt.typ, tt.der, nil)
			k, err := ParseKey(in, "")
			if err == nil || k != nil {
				t.Fatal("ParseKey accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			checkMessage(t, err.Error(), in)
		})
	}
}

// TestDERTruncations feeds every prefix of each good DER key to each
// parser: none may panic or accept it.
func TestDERTruncations(t *testing.T) {
	keys := testKeys()
	for _, der := range [][]byte{mustPKCS8(t, keys.ec), mustPKCS8(t, keys.ed), sec1DER(t, keys.ec), x509.MarshalPKCS1PrivateKey(keys.rsa)[:300]} {
		for n := range der {
			cut := der[:n]
			for _, parse := range []func([]byte) (any, error){parsePKCS8, parsePKCS1, func(b []byte) (any, error) { return parseSEC1(b, false) }} {
				if priv, err := parse(cut); err == nil || priv != nil {
					t.Fatalf("a %d-byte prefix parsed", n)
				}
			}
		}
	}
}
