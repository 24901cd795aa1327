package jose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strconv"
	"time"
)

// Certificate is what a JWS header needs of an X.509 certificate: its
// thumbprints (RFC 7515 §4.1.7 and §4.1.8), its validity and its public
// key, to check it belongs to the signing key. It is read by hand with the
// DER reader, like the private keys, so the module carries no crypto/x509.
type Certificate struct {
	// X5tS256 is the base64url SHA-256 of the certificate's DER ("x5t#S256").
	X5tS256 string
	// X5t is the base64url SHA-1 of the DER ("x5t"), which older servers
	// (Entra ID with RS256) look the certificate up by.
	X5t       string
	NotBefore time.Time
	NotAfter  time.Time

	keyAlg string // the SubjectPublicKeyInfo's algorithm OID
	key    []byte // its subjectPublicKey bits
}

// ParseCertificate reads the first CERTIFICATE block of a PEM text (a chain
// may follow it; the first is the leaf). Errors never quote the input.
func ParseCertificate(text []byte) (*Certificate, error) {
	rest := text
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM certificate block (-----BEGIN CERTIFICATE-----) was found")
		}
		if b.Type == "CERTIFICATE" {
			c, ok := parseCertificateDER(b.Bytes)
			if !ok {
				return nil, errors.New("the CERTIFICATE block is not a well-formed X.509 certificate")
			}
			return c, nil
		}
	}
}

// parseCertificateDER reads RFC 5280 §4.1: Certificate ::= SEQUENCE {
// tbsCertificate, signatureAlgorithm, signatureValue }, and of the
// tbsCertificate the validity and the subjectPublicKeyInfo.
func parseCertificateDER(b []byte) (*Certificate, bool) {
	body, ok := whole(b, tagSequence)
	if !ok {
		return nil, false
	}
	outer := der(body)
	tbs, ok := outer.expect(tagSequence)
	if !ok {
		return nil, false
	}
	d := der(tbs)
	if d.peek() == tagContext0 { // [0] EXPLICIT version
		if _, _, ok := d.next(); !ok {
			return nil, false
		}
	}
	if _, ok := d.expect(tagInteger); !ok { // serialNumber: any size
		return nil, false
	}
	if _, _, ok := d.algorithm(); !ok { // signature
		return nil, false
	}
	if _, ok := d.expect(tagSequence); !ok { // issuer
		return nil, false
	}
	validity, ok := d.expect(tagSequence)
	if !ok {
		return nil, false
	}
	if _, ok := d.expect(tagSequence); !ok { // subject
		return nil, false
	}
	spki, ok := d.expect(tagSequence)
	if !ok {
		return nil, false
	}
	c := &Certificate{}
	v := der(validity)
	if c.NotBefore, ok = v.time(); !ok {
		return nil, false
	}
	if c.NotAfter, ok = v.time(); !ok || len(v) != 0 {
		return nil, false
	}
	s := der(spki)
	oid, _, ok := s.algorithm()
	if !ok {
		return nil, false
	}
	bits, ok := s.expect(tagBitString)
	if !ok || len(s) != 0 {
		return nil, false
	}
	if c.key, ok = bitString(bits); !ok {
		return nil, false
	}
	c.keyAlg = oid
	s256 := sha256.Sum256(b)
	s1 := sha1.Sum(b)
	c.X5tS256 = base64.RawURLEncoding.EncodeToString(s256[:])
	c.X5t = base64.RawURLEncoding.EncodeToString(s1[:])
	return c, true
}

// DER time tags (RFC 5280 §4.1.2.5).
const (
	tagUTCTime         = 0x17
	tagGeneralizedTime = 0x18
)

// time reads a UTCTime (YYMMDDHHMMSSZ, years 1950 to 2049) or a
// GeneralizedTime (YYYYMMDDHHMMSSZ), the two forms RFC 5280 allows.
func (d *der) time() (time.Time, bool) {
	tag, body, ok := d.next()
	if !ok {
		return time.Time{}, false
	}
	s := string(body)
	var year int
	switch {
	case tag == tagUTCTime && len(s) == 13:
		yy, err := strconv.Atoi(s[:2])
		if err != nil {
			return time.Time{}, false
		}
		year = 1900 + yy
		if yy < 50 {
			year = 2000 + yy
		}
		s = s[2:]
	case tag == tagGeneralizedTime && len(s) == 15:
		y, err := strconv.Atoi(s[:4])
		if err != nil {
			return time.Time{}, false
		}
		year = y
		s = s[4:]
	default:
		return time.Time{}, false
	}
	if s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	var f [5]int // month, day, hour, minute, second
	for i := range f {
		n, err := strconv.Atoi(s[2*i : 2*i+2])
		if err != nil || n < 0 {
			return time.Time{}, false
		}
		f[i] = n
	}
	t := time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, time.UTC)
	if int(t.Month()) != f[0] || t.Day() != f[1] || t.Hour() != f[2] || t.Minute() != f[3] || t.Second() != f[4] {
		return time.Time{}, false // out of range, e.g. month 13
	}
	return t, true
}

// Certifies reports whether c's public key is k's: the certificate is the
// one a server will check k's signatures against.
func (k *Key) Certifies(c *Certificate) bool {
	if k == nil || c == nil {
		return false
	}
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		if c.keyAlg != oidRSA && c.keyAlg != oidRSAPSS {
			return false
		}
		n, e, ok := rsaPublic(c.key)
		return ok && n.Cmp(p.N) == 0 && e.Cmp(big.NewInt(int64(p.E))) == 0
	case *ecdsa.PrivateKey:
		return c.keyAlg == oidECKey && samePoint(p, c.key)
	case ed25519.PrivateKey:
		return c.keyAlg == oidEd25519 && bytes.Equal(c.key, p.Public().(ed25519.PublicKey))
	}
	return false
}

var oidRSAPSS = "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a" // 1.2.840.113549.1.1.10
