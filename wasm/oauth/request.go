package oauth

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"

	"github.com/cctoken/cctoken/wasm/httpmsg"
	"github.com/cctoken/cctoken/wasm/preset"
)

const formType = "application/x-www-form-urlencoded"

// TokenRequest builds the client-credentials token request for a
// (RFC 6749 §4.4.2). Credentials go either in the Authorization header
// (client_secret_basic, also used when AuthMethod is empty because every
// server must support it, §2.3.1) or in the body (client_secret_post), never
// both and never in the URL. With tls_client_auth and
// self_signed_tls_client_auth the request carries only client_id, and the
// host presents the account's client certificate (RFC 8705); a certificate
// configured with another method is presented too. The body is built in a fixed order so requests
// are reproducible in tests and logs.
func TokenRequest(a *preset.Account) httpmsg.Request {
	if a == nil {
		return httpmsg.Request{}
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
		if f.has(k) || (!post && k == "client_secret") {
			continue
		}
		f.add(k, a.Params[k])
	}
	return httpmsg.Request{Method: "POST", URL: a.TokenURL, Header: h, Body: f.b.String(), TLSClient: a.TLSClient}
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
