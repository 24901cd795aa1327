// Package storekey derives the names and the encryption of tokens kept in a
// store shared by many instances (see the Shared store section of ABI.md).
//
// Everything comes from the credential itself, so there is no extra key to
// configure and only holders of the credential can find or read a token:
//
//   - the store key is an HMAC-SHA256 of the token endpoint, client_id,
//     scopes, audience and resource, under a key HKDF derives from the
//     credential (never the credential itself);
//   - the stored value is sealed with AES-256-GCM under a second HKDF key
//     from the same credential, with the store key as additional data, so a
//     value copied to another key does not open.
//
// Both HKDF keys depend on the credential only: NewCredential derives them
// once, and each token's names then cost one HMAC.
//
// A process with another credential computes other names, and if a name
// ever matched, opening the value would fail: both count as a miss.
package storekey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"time"
)

// Names are the store keys of one token. Both carry the same Redis Cluster
// hash tag ({…}), so a lock and its token live in one slot.
type Names struct {
	Token string
	Lock  string
	ID    string // the hex HMAC both names are built on
	aead  cipher.AEAD
}

// Credential holds the two keys HKDF derives from one credential.
type Credential struct {
	mac  []byte
	aead cipher.AEAD
}

// NewCredential derives the naming and sealing keys of credential (the
// client secret, or the private key's bytes).
func NewCredential(credential []byte) (*Credential, error) {
	if len(credential) == 0 {
		return nil, errors.New("storekey: the credential is empty")
	}
	keys := hkdfSHA256(credential, "cctoken store keys v1", 64)
	block, err := aes.NewCipher(keys[32:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Credential{mac: keys[:32], aead: aead}, nil
}

// What names a token; the same fields a token request carries.
type What struct {
	Endpoint string
	ClientID string
	Scopes   []string
	Audience string
	Resource []string
}

// Derive computes the names and the sealing key of what under credential.
// Scopes and resources are compared as sets.
func Derive(credential []byte, w What) (Names, error) {
	c, err := NewCredential(credential)
	if err != nil {
		return Names{}, err
	}
	return c.Names(w), nil
}

// Names computes the names of what: an HMAC-SHA256 of its fields, each
// length-prefixed, under the credential's naming key.
func (c *Credential) Names(w What) Names {
	m := hmac.New(sha256.New, c.mac)
	field := func(s string) {
		var n [binary.MaxVarintLen64]byte
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		m.Write([]byte(s))
	}
	field(w.Endpoint)
	field(w.ClientID)
	field(setOf(w.Scopes))
	field(w.Audience)
	field(setOf(w.Resource))
	id := hex.EncodeToString(m.Sum(nil))
	return Names{Token: "cctoken:{" + id + "}:token", Lock: "cctoken:{" + id + "}:lock", ID: id, aead: c.aead}
}

func setOf(xs []string) string {
	s := append([]string(nil), xs...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

// Record is what is stored of a token: enough for another instance to use
// it with the same schedule as the one that fetched it.
type Record struct {
	AccessToken  string
	TokenType    string
	ExpirySource string
	Scopes       []string
	Expiry       time.Time
	Obtained     time.Time // when the fetching instance got it
}

const version = 1

// Seal encodes and encrypts r for the store (base64url text).
func (n Names) Seal(r Record) (string, error) {
	aead, err := n.cipher()
	if err != nil {
		return "", err
	}
	var plain []byte
	plain = append(plain, version)
	plain = binary.AppendVarint(plain, r.Expiry.UnixMilli())
	plain = binary.AppendVarint(plain, r.Obtained.UnixMilli())
	for _, s := range []string{r.AccessToken, r.TokenType, r.ExpirySource, strings.Join(r.Scopes, " ")} {
		plain = binary.AppendUvarint(plain, uint64(len(s)))
		plain = append(plain, s...)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, plain, []byte(n.Token))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrUnusable is the one error Open gives: the value is not one this
// credential sealed for these names (another credential, corrupt, or from
// an unknown version). Callers treat it as a miss.
var ErrUnusable = errors.New("storekey: the stored value cannot be opened with this credential")

// Open decrypts and decodes a value Seal made.
func (n Names) Open(text string) (Record, error) {
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return Record{}, ErrUnusable
	}
	aead, err := n.cipher()
	if err != nil || len(raw) < aead.NonceSize() {
		return Record{}, ErrUnusable
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(n.Token))
	if err != nil || len(plain) == 0 || plain[0] != version {
		return Record{}, ErrUnusable
	}
	p := plain[1:]
	var r Record
	exp, k := binary.Varint(p)
	if k <= 0 {
		return Record{}, ErrUnusable
	}
	p = p[k:]
	obt, k := binary.Varint(p)
	if k <= 0 {
		return Record{}, ErrUnusable
	}
	p = p[k:]
	var strs [4]string
	for i := range strs {
		l, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < l {
			return Record{}, ErrUnusable
		}
		strs[i] = string(p[k : k+int(l)])
		p = p[k+int(l):]
	}
	if len(p) != 0 || strs[0] == "" {
		return Record{}, ErrUnusable
	}
	r.Expiry, r.Obtained = time.UnixMilli(exp), time.UnixMilli(obt)
	r.AccessToken, r.TokenType, r.ExpirySource = strs[0], strs[1], strs[2]
	if strs[3] != "" {
		r.Scopes = strings.Fields(strs[3])
	}
	return r, nil
}

func (n Names) cipher() (cipher.AEAD, error) {
	if n.aead == nil {
		return nil, errors.New("storekey: names not made by Derive")
	}
	return n.aead, nil
}

// hkdfSHA256 is HKDF-SHA256 (RFC 5869) with an empty salt, written out with
// HMAC: crypto/hkdf adds the FIPS module's wrappers to the wasm build for
// the same few lines. The tests check it against crypto/hkdf.
func hkdfSHA256(secret []byte, info string, n int) []byte {
	extract := hmac.New(sha256.New, make([]byte, sha256.Size))
	extract.Write(secret)
	prk := extract.Sum(nil)
	var out, prev []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(sha256.New, prk)
		m.Write(prev)
		m.Write([]byte(info))
		m.Write([]byte{i})
		prev = m.Sum(nil)
		out = append(out, prev...)
	}
	return out[:n]
}
