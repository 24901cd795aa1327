package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// PEM block types (RFC 7468 labels) that hold a private key we can read.
const (
	pemPKCS8 = "PRIVATE KEY"     // RFC 5208 / 5958
	pemPKCS1 = "RSA PRIVATE KEY" // RFC 8017 appendix A.1.2
	pemSEC1  = "EC PRIVATE KEY"  // RFC 5915
)

const decryptHint = "decrypt it first, e.g. with: openssl pkey -in key.pem -out plain.pem (then keep plain.pem as private as the original)"

// parsePEM reads the one private key in a PEM text. Blocks that go with a
// key (certificates, EC PARAMETERS) are skipped, so a file holding a key
// and its certificate chain works.
func parsePEM(text []byte) (*Key, error) {
	var (
		keys                                  []*pem.Block
		public, encrypted, openssh, other, ok bool
	)
	rest := text
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		ok = true
		switch b.Type {
		case pemPKCS8, pemPKCS1, pemSEC1:
			if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
				encrypted = true
				continue
			}
			keys = append(keys, b)
		case "ENCRYPTED PRIVATE KEY":
			encrypted = true
		case "PUBLIC KEY", "RSA PUBLIC KEY":
			public = true
		case "OPENSSH PRIVATE KEY":
			openssh = true
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CRL", "CERTIFICATE REQUEST", "EC PARAMETERS":
			// Goes with a key; not one.
		default:
			other = true
		}
	}
	switch {
	case len(keys) == 1:
		return parseKeyBlock(keys[0])
	case len(keys) > 1:
		return nil, fmt.Errorf("the PEM text holds %d private keys; keep only the one to sign with", len(keys))
	case encrypted:
		return nil, errors.New("the private key is encrypted with a passphrase, which cannot be typed in here; " + decryptHint)
	case openssh:
		return nil, errors.New("the key is in OpenSSH's own format; convert it to PKCS#8 PEM, e.g. with: ssh-keygen -p -m PKCS8 -f FILE (this rewrites FILE; RSA and ECDSA keys only)")
	case public:
		return nil, errors.New("the PEM text holds only a public key; signing needs the private key (a PRIVATE KEY block)")
	case other:
		return nil, errors.New("the PEM text holds no private key block of a known type; expected PRIVATE KEY (PKCS#8), RSA PRIVATE KEY (PKCS#1) or EC PRIVATE KEY (SEC 1)")
	case !ok:
		return nil, errors.New("the PEM text is damaged: a BEGIN line has no matching END line, or the base64 between them is invalid; copy the whole key file again")
	}
	return nil, errors.New("the PEM text holds certificates but no private key; give the private key file")
}

// parseKeyBlock decodes one private key block, trying the format its label
// names first and then the other two, since mislabelled files exist.
func parseKeyBlock(b *pem.Block) (*Key, error) {
	order := []string{pemPKCS8, pemPKCS1, pemSEC1}
	switch b.Type {
	case pemPKCS1:
		order = []string{pemPKCS1, pemPKCS8, pemSEC1}
	case pemSEC1:
		order = []string{pemSEC1, pemPKCS8, pemPKCS1}
	}
	for _, format := range order {
		var (
			priv any
			err  error
		)
		switch format {
		case pemPKCS8:
			priv, err = parsePKCS8(b.Bytes)
		case pemPKCS1:
			priv, err = parsePKCS1(b.Bytes)
		case pemSEC1:
			priv, err = parseSEC1(b.Bytes, false)
		}
		// A parser's error is errNotFormat or one of our own sentences,
		// never a library's message, which could one day quote the input.
		switch {
		case err == nil:
			return keyFrom(priv)
		case err != errNotFormat:
			// A key of this format that cannot sign here: say why.
			return nil, err
		}
	}
	if isPublic(b.Bytes) {
		return nil, fmt.Errorf("the %s block holds a public key; signing needs the private key", b.Type)
	}
	return nil, fmt.Errorf("the %s block could not be read: it is damaged, or it is not an RSA, EC P-256 or Ed25519 private key; export the key again as PKCS#8 PEM, e.g. with: openssl pkey -in OLD -out key.pem", b.Type)
}

// keyFrom wraps a parsed private key, refusing the types and sizes that
// cannot sign here.
func keyFrom(priv any) (*Key, error) {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if err := checkRSASize(p.N.BitLen()); err != nil {
			return nil, err
		}
		if len(p.Primes) != 2 {
			return nil, errMultiPrime
		}
		p.Precompute() // a no-op if the parser did it; signing then only reads the key
		return &Key{priv: p}, nil
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, unsupportedCurve(curveName(p.Curve))
		}
		return &Key{priv: p}, nil
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, errors.New("the Ed25519 key has the wrong size; its seed must be 32 bytes")
		}
		return &Key{priv: p}, nil
	}
	return nil, errors.New("the key type is not supported; use an RSA, EC P-256 or Ed25519 private key")
}

var errMultiPrime = errors.New("the RSA key has more than two primes (multi-prime RSA), which is not supported; use a two-prime RSA key")

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "(unknown)"
	}
	return show(c.Params().Name)
}

// unsupportedCurve refuses an EC key on a curve other than P-256; name is
// the curve's name as show quotes it.
func unsupportedCurve(name string) error {
	return fmt.Errorf("the EC key is on curve %s; only P-256 (ES256) is supported; make a P-256 key, e.g. with: openssl ecparam -name prime256v1 -genkey -noout -out key.pem", name)
}

func checkRSASize(bits int) error {
	if bits < minRSABits {
		return fmt.Errorf("the RSA key has %d bits; RS256 and PS256 need at least %d (RFC 7518 §3.3); make a new key, e.g. with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072", bits, minRSABits)
	}
	if bits > maxRSABits {
		return fmt.Errorf("the RSA key has %d bits; keys over %d bits are not supported; use a 2048 to 4096-bit key", bits, maxRSABits)
	}
	return nil
}
