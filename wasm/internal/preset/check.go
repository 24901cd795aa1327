package preset

import (
	"net/netip"
	"net/url"
	"strings"
)

// Character rules from the RFCs, written out so the wasm build needs no
// net/http or net/textproto.

// isTchar reports an RFC 7230 token character (header and cookie names).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// canonicalHeader is textproto.CanonicalMIMEHeaderKey for valid tokens:
// "x-team-id" becomes "X-Team-Id". Other names are returned unchanged.
func canonicalHeader(s string) string {
	if !isToken(s) {
		return s
	}
	b := []byte(s)
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
	return string(b)
}

// validHeaderValue rejects CR, LF, NUL and other controls (HTAB is allowed),
// which would let a value split or corrupt the request.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validCookieValue checks RFC 6265 cookie-octets: printable ASCII except
// space, '"', ',', ';' and '\'.
func validCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// validScope checks an RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// isLoopback reports hosts that never leave the machine, where plain http
// cannot be sniffed: localhost, 127.0.0.0/8 and ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// checkURL returns what is wrong with a token endpoint URL, or "". The
// message never repeats the URL: it might carry credentials.
func checkURL(raw string, insecure bool) string {
	return checkHTTPURL(raw, insecure, "url", "the full token endpoint address, e.g. https://auth.example.com/oauth/token")
}

// checkIssuer returns what is wrong with an authorization server issuer
// identifier (RFC 8414 §2: https, no query, no fragment), or "".
func checkIssuer(raw string, insecure bool) string {
	if msg := checkHTTPURL(raw, insecure, "issuer", "the authorization server's issuer identifier, e.g. https://auth.example.com"); msg != "" {
		return msg
	}
	if strings.Contains(raw, "?") {
		return "issuer must not contain a ?query (RFC 8414 §2); remove everything from the ?."
	}
	return ""
}

// CheckTokenEndpoint returns what is wrong with a token endpoint found in
// authorization server metadata, or "", by the same rules as a preset's url
// (insecure is the preset's setting). The message names the metadata field
// token_endpoint and never repeats the URL.
func CheckTokenEndpoint(raw string, insecure bool) string {
	return checkHTTPURL(raw, insecure, "token_endpoint", "an absolute https:// URL")
}

// checkHTTPURL checks an endpoint URL given in field key; use says what
// belongs there.
func checkHTTPURL(raw string, insecure bool, key, use string) string {
	example := " Use " + use + "."
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return key + " is empty." + example
	case err != nil:
		return key + " is not a valid URL." + example
	case u.Scheme != "http" && u.Scheme != "https":
		return key + " must start with https:// (or http:// for a local server)." + example
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return key + " has no host name." + example
	case u.User != nil:
		return key + " must not contain a user name or password; put the client credentials in client_id and client_secret."
	case strings.Contains(raw, "#"):
		return key + " must not contain a #fragment; remove everything from the #."
	case u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()):
		return key + " uses plain http to a host that is not this machine, which would send the client secret unencrypted; use https://, or set insecure: true on the preset if you really mean it."
	}
	return ""
}

// checkResource validates an RFC 8707 resource indicator.
func checkResource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || strings.Contains(raw, "#") {
		return "each resource must be an absolute URI without a #fragment, e.g. https://api.example.com/."
	}
	return ""
}

// envRef parses a whole-value ${env:NAME} reference. ref reports whether the
// value uses ${...} at all, so other forms can be rejected instead of being
// sent as literal text.
func envRef(s string) (name string, ref, ok bool) {
	i := strings.Index(s, "${")
	if i < 0 || !strings.Contains(s[i:], "}") {
		return "", false, false
	}
	name, found := strings.CutPrefix(s, "${env:")
	if !found || !strings.HasSuffix(name, "}") {
		return "", true, false
	}
	name = name[:len(name)-1]
	if !validEnvName(name) {
		return "", true, false
	}
	return name, true, true
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}
