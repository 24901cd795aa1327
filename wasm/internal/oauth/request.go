package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

const formType = "application/x-www-form-urlencoded"

// AssertionType is the client_assertion_type of a JWT client assertion
// (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a client assertion is valid: long enough
// for a slow network and a little clock skew, short enough that a leaked
// one is soon useless.
const assertionLifetime = 60 * time.Second

// TokenRequest builds the client-credentials token request for a
// (RFC 6749 §4.4.2). Credentials go either in the Authorization header
// (client_secret_basic, also used when AuthMethod is empty because every
// server must support it, §2.3.1), in the body (client_secret_post), or as
// a JWT client assertion in the body (client_secret_jwt, private_key_jwt:
// RFC 7523 §2.2), never two of them and never in the URL. With
// tls_client_auth and self_signed_tls_client_auth the request carries only
// client_id, and the host presents the account's client certificate (RFC
// 8705); a certificate configured with another method is presented too.
// The body is built in a fixed order so requests are reproducible in tests
// and logs.
//
// now and random are used only by the JWT methods: now for the
// assertion's iat and exp, random for its jti (and PS256 salts); nil
// random means crypto/rand.Reader. The error, from signing, never holds
// key material.
func TokenRequest(a *preset.Account, now time.Time, random io.Reader) (httpmsg.Request, error) {
	return tokenRequest(a, func() (string, error) { return Assertion(a, now, random) })
}

// StableTokenRequest is the request TokenRequest builds for a, less what
// changes from one request to the next: the client assertion is replaced
// by its header and its claims but iat, exp and jti, unsigned (the key
// behind it is the caller's to account for). Two accounts with the same
// stable request are issued the same kind of token, so the shared store
// names tokens after it; building it signs nothing.
func StableTokenRequest(a *preset.Account) httpmsg.Request {
	r, _ := tokenRequest(a, func() (string, error) { return stableAssertion(a), nil })
	return r
}

// tokenRequest builds a's token request; assertion makes the client
// assertion of the JWT methods.
func tokenRequest(a *preset.Account, assertion func() (string, error)) (httpmsg.Request, error) {
	if a == nil {
		return httpmsg.Request{}, nil
	}
	h := map[string]string{"Accept": "application/json"}
	for k, v := range a.Headers {
		h[k] = v
	}
	// The body is always a form, whatever the account's headers say.
	h["Content-Type"] = formType
	if c := cookieHeader(a.Cookies); c != "" {
		if old := h["Cookie"]; old != "" {
			c = old + "; " + c
		}
		h["Cookie"] = c
	}

	var f form
	f.add("grant_type", "client_credentials")
	post := a.AuthMethod == preset.ClientSecretPost
	switch {
	case post:
		f.add("client_id", a.ClientID)
		if a.ClientSecret != "" { // §2.3.1: may be omitted when empty
			f.add("client_secret", a.ClientSecret)
		}
	case a.AuthMethod == preset.ClientSecretJWT || a.AuthMethod == preset.PrivateKeyJWT:
		jwt, err := assertion()
		if err != nil {
			return httpmsg.Request{}, err
		}
		// RFC 7521 §4.2 allows client_id next to the assertion, and many
		// servers expect it.
		f.add("client_id", a.ClientID)
		f.add("client_assertion_type", AssertionType)
		f.add("client_assertion", jwt)
	case preset.IsTLSMethod(a.AuthMethod):
		// RFC 8705 §2: the TLS handshake authenticates the client, and
		// client_id in the body tells the server which client it is.
		f.add("client_id", a.ClientID)
	default:
		// §2.3.1 wants id and secret form-encoded (Appendix B) before
		// base64, so ':' and friends inside them survive. basic_encoding:
		// raw joins them as they are, for servers that do not decode.
		pair := url.QueryEscape(a.ClientID) + ":" + url.QueryEscape(a.ClientSecret)
		if a.BasicEncoding == preset.BasicEncodingRaw {
			pair = a.ClientID + ":" + a.ClientSecret
		}
		h["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(pair))
	}
	if len(a.Scopes) > 0 {
		f.add("scope", strings.Join(a.Scopes, " "))
	}
	if a.Audience != "" {
		f.add("audience", a.Audience)
	}
	for _, r := range a.Resource {
		f.add("resource", r)
	}
	for _, k := range sortedKeys(a.Params) {
		// A parameter must not be sent twice (§3.2), and a secret in the
		// body next to a Basic header would be both methods at once.
		if f.has(k) || (!post && k == "client_secret") || strings.HasPrefix(k, "client_assertion") {
			continue
		}
		f.add(k, a.Params[k])
	}
	return httpmsg.Request{Method: "POST", URL: a.TokenURL, Header: h, Body: f.b.String(), TLSClient: a.TLSClient}, nil
}

// Assertion makes the JWT client assertion of a client_secret_jwt or
// private_key_jwt account (RFC 7523 §3, OpenID Connect Core §9): iss and
// sub are the client_id, aud follows a.AssertionAudience, exp is 60
// seconds after iat, and jti is 16 random bytes, base64url, so a server can
// refuse a replay.
func Assertion(a *preset.Account, now time.Time, random io.Reader) (string, error) {
	if a.AssertionFile != "" {
		// The platform's JWT, which the engine read from the file for
		// this request.
		if a.FileAssertion == "" {
			return "", errors.New("the client assertion from client_assertion_file was not read; this is a bug in the host or the engine")
		}
		return a.FileAssertion, nil
	}
	if a.Key == nil {
		return "", errors.New("the account has no signing key for " + a.AuthMethod + "; load the preset again")
	}
	if random == nil {
		random = rand.Reader
	}
	var jti [16]byte
	if _, err := io.ReadFull(random, jti[:]); err != nil {
		return "", errors.New("no random bytes for the client assertion's jti: " + err.Error())
	}
	iat := now.Unix()
	claims := map[string]any{
		"iss": a.ClientID,
		"sub": a.ClientID,
		"aud": assertionAudience(a),
		"iat": iat,
		"exp": iat + int64(assertionLifetime/time.Second),
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
	}
	var header map[string]any
	if c := a.Certificate; c != nil {
		// The certificate by thumbprint (RFC 7515 §4.1.8), as Entra ID
		// wants; x5t (SHA-1) too with RS256, which older servers look
		// the certificate up by (§4.1.7).
		header = map[string]any{"x5t#S256": c.X5tS256}
		if a.Key.Alg == "RS256" {
			header["x5t"] = c.X5t
		}
	}
	jwt, err := a.Key.Sign(header, claims, random)
	if err != nil {
		return "", errors.New("signing the client assertion failed: " + err.Error())
	}
	return jwt, nil
}

// assertionAudience is the aud claim of a's client assertion: a string or
// a list of two.
func assertionAudience(a *preset.Account) any {
	switch a.AssertionAudience {
	case preset.AudienceIssuer:
		return a.Issuer
	case preset.AudienceBoth:
		return []string{a.Issuer, a.TokenURL}
	}
	return a.TokenURL
}

// stableAssertion stands for a's client assertion in StableTokenRequest:
// everything Assertion puts in it that is the same in every request (the
// header's alg and kid, iss, sub and aud), each part length-prefixed so
// that no two assertions read the same.
func stableAssertion(a *preset.Account) string {
	parts := []string{"no key"}
	if a.Key != nil {
		parts = []string{"alg", a.Key.Alg, "kid", a.Key.Kid}
	}
	if c := a.Certificate; c != nil {
		// The header names the certificate by these.
		parts = append(parts, "x5t#S256", c.X5tS256, "x5t", c.X5t)
	}
	parts = append(parts, "iss", a.ClientID, "sub", a.ClientID, "aud")
	switch aud := assertionAudience(a).(type) {
	case string:
		parts = append(parts, aud)
	case []string:
		parts = append(parts, aud...)
	}
	var b []byte
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return string(b)
}

// cookieHeader joins cookies sorted by name so the header is deterministic.
func cookieHeader(c map[string]string) string {
	parts := make([]string, 0, len(c))
	for _, k := range sortedKeys(c) {
		parts = append(parts, k+"="+c[k])
	}
	return strings.Join(parts, "; ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// form writes an x-www-form-urlencoded body in insertion order, which
// url.Values cannot do.
type form struct {
	b    strings.Builder
	keys []string
}

func (f *form) add(k, v string) {
	if f.b.Len() > 0 {
		f.b.WriteByte('&')
	}
	f.b.WriteString(url.QueryEscape(k))
	f.b.WriteByte('=')
	f.b.WriteString(url.QueryEscape(v))
	f.keys = append(f.keys, k)
}

func (f *form) has(k string) bool { return slices.Contains(f.keys, k) }
