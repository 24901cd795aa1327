package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Sign makes a compact JWS (RFC 7515 §7.1) of claims.
//
// The protected header holds "alg" (k.Alg), "typ": "JWT" and "kid" (if
// k.Kid is set), then every member of header: it may replace "typ" or
// "kid" (DPoP uses "typ": "dpop+jwt"), a nil value leaves that member out,
// and it may add members such as DPoP's "jwk" (give it k.PublicJWK(); a
// "jwk" with private members is refused). An "alg" in header must equal
// k.Alg.
//
// Both JSON objects are written with their keys sorted at every level and
// no whitespace, so the same input gives the same bytes. Values may be
// nil, bool, string (valid UTF-8), Go integers, finite floats, []any,
// []string, map[string]any and map[string]string, nested up to 32 levels.
//
// random feeds PS256 salts; nil means crypto/rand.Reader. RS256, EdDSA and
// HS256 need no randomness, and ES256 uses the system's secure source
// whatever random is (crypto/ecdsa since Go 1.26).
func (k *Key) Sign(header map[string]any, claims map[string]any, random io.Reader) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	h := map[string]any{"alg": k.Alg, "typ": "JWT"}
	if k.Kid != "" {
		h["kid"] = k.Kid
	}
	for name, v := range header {
		switch name {
		case "alg":
			if s, ok := v.(string); !ok || s != k.Alg {
				return "", fmt.Errorf("the header's \"alg\" does not match the key, which signs %s; leave \"alg\" out of the header", k.Alg)
			}
			continue
		case "jwk":
			if hasPrivateMember(v) {
				return "", errors.New("the header's \"jwk\" holds private key members; put only the public key there (Key.PublicJWK)")
			}
		}
		if v == nil {
			delete(h, name)
			continue
		}
		h[name] = v
	}
	hb, err := encodeObject(h, "header")
	if err != nil {
		return "", err
	}
	cb, err := encodeObject(claims, "claims")
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(hb))+1+enc.EncodedLen(len(cb)))
	input = enc.AppendEncode(input, hb)
	input = append(input, '.')
	input = enc.AppendEncode(input, cb)
	sig, err := k.signInput(input, random)
	if err != nil {
		return "", err
	}
	out := append(input, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

// signInput signs the JWS signing input with k.Alg (RFC 7518 §3).
func (k *Key) signInput(input []byte, random io.Reader) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	digest := sha256.Sum256(input)
	var (
		sig []byte
		err error
	)
	switch k.Alg {
	case algRS256:
		sig, err = rsa.SignPKCS1v15(nil, k.priv.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	case algPS256:
		sig, err = rsa.SignPSS(random, k.priv.(*rsa.PrivateKey), crypto.SHA256, digest[:],
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case algES256:
		// JWS wants r and s as two 32-byte big-endian numbers (RFC 7518
		// §3.4), not the ASN.1 sequence crypto/ecdsa signs by default.
		var r, s *big.Int
		r, s, err = ecdsa.Sign(random, k.priv.(*ecdsa.PrivateKey), digest[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	case algEdDSA:
		sig = ed25519.Sign(k.priv.(ed25519.PrivateKey), input)
	case algHS256:
		mac := hmac.New(sha256.New, k.secret)
		mac.Write(input)
		sig = mac.Sum(nil)
	}
	if err != nil || len(sig) == 0 {
		// The crypto packages' errors are not repeated: none is useful to
		// a user, and a signer's error is the last place to risk a leak.
		return nil, fmt.Errorf("the %s signature could not be made; if this repeats, check that the host gives the module a working random source (WASI random_get)", k.Alg)
	}
	return sig, nil
}

// hasPrivateMember reports whether a JWK given as a header value has any
// private member (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
func hasPrivateMember(v any) bool {
	var has func(string) bool
	switch m := v.(type) {
	case map[string]any:
		has = func(n string) bool { _, ok := m[n]; return ok }
	case map[string]string:
		has = func(n string) bool { _, ok := m[n]; return ok }
	default:
		return false
	}
	for _, n := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if has(n) {
			return true
		}
	}
	return false
}

const maxDepth = 32

// encodeObject writes m as a JSON object with sorted keys; a nil map is {}.
func encodeObject(m map[string]any, what string) ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return appendJSON(nil, m, what, 0)
}

// appendJSON writes v as JSON. path names where v is, for errors: only
// member names and indexes, never values.
func appendJSON(b []byte, v any, path string, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("the value at %s is nested more than %d levels deep (is there a cycle?); flatten it", path, maxDepth)
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		if !utf8.ValidString(v) {
			return nil, fmt.Errorf("the value at %s is not valid UTF-8 text; JSON strings must be UTF-8", path)
		}
		return appendString(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float32:
		return appendFloat(b, float64(v), 32, path)
	case float64:
		return appendFloat(b, v, 64, path)
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, s, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]string:
		return appendObject(b, v, path, depth)
	case map[string]any:
		return appendObject(b, v, path, depth)
	}
	return nil, fmt.Errorf("the value at %s has the Go type %T, which cannot be put in a JWT; use a string, number, bool, list or map", path, v)
}

// appendObject writes m as a JSON object with its members sorted by name,
// so the same claims always sign the same bytes.
func appendObject[V any](b []byte, m map[string]V, path string, depth int) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	for i, name := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendMember(b, name, m[name], path, depth); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendMember(b []byte, name string, v any, path string, depth int) ([]byte, error) {
	if !utf8.ValidString(name) {
		return nil, fmt.Errorf("a member name in the %s is not valid UTF-8 text", path)
	}
	b = appendString(b, name)
	b = append(b, ':')
	return appendJSON(b, v, path+"."+name, depth+1)
}

// appendString writes s as a JSON string (RFC 8259 §7), escaping only what
// must be escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendFloat writes a finite float the way JavaScript and encoding/json
// do: integers in plain digits below 1e21, exponents only for the very
// large and very small.
func appendFloat(b []byte, f float64, bits int, path string) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("the number at %s is not finite (NaN or infinity), which JSON cannot hold", path)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 becomes 1e-7, as in JavaScript.
		if n := len(b); n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
