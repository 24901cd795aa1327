// Package storekey derives the names and the encryption of tokens kept in a
// store shared by many instances (see the Shared store section of ABI.md).
//
// A token's name must differ from that of every token the endpoint could
// issue for another request, or one user is served another's token. So a
// name is derived from the whole token request, in three steps:
//
//   - NewCredential: HKDF-SHA256 of the credential (client secret or
//     private key), salted with the deployment's store secret when it has
//     one, gives a naming and a sealing key. Once per credential.
//   - Credential.Request: HMACs of the canonical encoding of everything
//     else the request is made of (the engine builds it: endpoint, auth
//     method, client_id, params, headers, cookies, certificate, assertion
//     settings…) under those two keys give the request's own naming key
//     and sealing key. Once per user and load.
//   - Request.Names: an HMAC of scopes, audience and resource, the parts a
//     caller chooses per call, names one token. Once per token.
//
// The value is sealed with AES-256-GCM under the request's sealing key,
// with the name as additional data, so a value copied to another name does
// not open. Only holders of the credential (and of the store secret, when
// set) can compute a name or open a value; a process with anything else
// computes other names, and a name that matched anyway would not open:
// both count as a miss.
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
	"hash"
	"sort"
	"strings"
	"time"
)

// Scheme names this way of deriving names; it is the HKDF info, so a
// change of scheme changes every name.
const Scheme = "cctoken store keys v2"

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
	mac, seal []byte
}

// NewCredential derives the naming and sealing keys of credential (the
// client secret, or the private key's bytes) under the deployment's store
// secret (nil for none): HKDF-SHA256 with the secret as salt.
func NewCredential(credential, secret []byte) (*Credential, error) {
	if len(credential) == 0 {
		return nil, errors.New("storekey: the credential is empty")
	}
	keys := hkdfSHA256(secret, credential, Scheme, 64)
	return &Credential{mac: keys[:32], seal: keys[32:]}, nil
}

// Request holds the naming and sealing keys of one token request, whatever
// its scopes, audience and resource.
type Request struct {
	mac  []byte
	aead cipher.AEAD
}

// Request derives the keys of the token request whose canonical encoding
// is canon: an HMAC-SHA256 of it under each of the credential's keys.
func (c *Credential) Request(canon []byte) (*Request, error) {
	seal := mac(c.seal, canon)
	block, err := aes.NewCipher(seal)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Request{mac: mac(c.mac, canon), aead: aead}, nil
}

// Names names the token of the request for scopes, audience and resource:
// an HMAC-SHA256 of the three, each length-prefixed, under the request's
// naming key. Scopes and resources are compared as sets.
func (r *Request) Names(scopes []string, audience string, resource []string) Names {
	m := hmac.New(sha256.New, r.mac)
	field(m, setOf(scopes))
	field(m, audience)
	field(m, setOf(resource))
	id := hex.EncodeToString(m.Sum(nil))
	return Names{Token: "cctoken:{" + id + "}:token", Lock: "cctoken:{" + id + "}:lock", ID: id, aead: r.aead}
}

func field(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	h.Write([]byte(s))
}

func mac(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func setOf(xs []string) string {
	s := append([]string(nil), xs...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

// Encode is the canonical encoding of parts: each length-prefixed, so
// that no two sequences encode the same.
func Encode(parts []string) []byte {
	n := 0
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

// Fingerprint is the SHA-256 of s ("" for an empty s), to put a long text
// or a secret into an encoding without anything of it.
//
//go:noinline
func Fingerprint(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return string(sum[:])
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
		return nil, errors.New("storekey: names not made by Request.Names")
	}
	return n.aead, nil
}

// hkdfSHA256 is HKDF-SHA256 (RFC 5869), written out with HMAC: crypto/hkdf
// adds the FIPS module's wrappers to the wasm build for the same few
// lines. An empty salt is HashLen zero bytes, as the RFC says. The tests
// check it against crypto/hkdf.
func hkdfSHA256(salt, secret []byte, info string, n int) []byte {
	if len(salt) == 0 {
		salt = make([]byte, sha256.Size)
	}
	extract := hmac.New(sha256.New, salt)
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
