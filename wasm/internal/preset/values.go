package preset

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Readers for each kind of value. Messages name the expected and found
// types but never repeat a value: a secret may sit in the wrong field.

// opt is a setting that may be unset, so a user can inherit it.
type opt[T any] struct {
	v   T
	set bool
}

// pick is the inheritance rule: the user's value, else the preset's, else def.
func pick[T any](user, preset opt[T], def T) T {
	if user.set {
		return user.v
	}
	if preset.set {
		return preset.v
	}
	return def
}

// settings are the keys a preset and its users share.
type settings struct {
	authMethod   opt[string]
	basicEnc     opt[string]
	assertionAud opt[string]
	audField     field // where assertion_audience was set, for issues
	dpop         opt[bool]
	audience     opt[string]
	resource     opt[[]string]
	params       opt[map[string]string]
	refreshSkew  opt[time.Duration]
	defaultTTL   opt[time.Duration]
	refreshAhead opt[float64]
	tlsCert      opt[tlsSource]
	tlsKey       opt[tlsSource]
	certificate  opt[credSource]
	assertion    opt[credSource]
}

func (l *loader) settings(fs map[string]field) settings {
	var s settings
	if f, ok := l.get(fs, "auth_method"); ok {
		if v, ok := l.str(f); ok {
			switch {
			case v == ClientSecretBasic, v == ClientSecretPost, v == ClientSecretJWT, v == PrivateKeyJWT, IsTLSMethod(v):
				s.authMethod = opt[string]{v, true}
			default:
				l.add(f.val, f.path, "auth_method must be client_secret_basic (HTTP Basic authentication, the default), client_secret_post (credentials in the request body), client_secret_jwt (a JWT signed with the client secret), private_key_jwt (a JWT signed with private_key), or tls_client_auth or self_signed_tls_client_auth (a client certificate, RFC 8705; Go host only).")
			}
		}
	}
	if f, ok := l.get(fs, "basic_encoding"); ok {
		if v, ok := l.str(f); ok {
			if v == BasicEncodingForm || v == BasicEncodingRaw {
				s.basicEnc = opt[string]{v, true}
			} else {
				l.add(f.val, f.path, "basic_encoding must be form (form-urlencode client_id and client_secret before base64, as RFC 6749 §2.3.1 says; the default) or raw (join them as they are, for servers that expect that).")
			}
		}
	}
	if f, ok := l.get(fs, "assertion_audience"); ok {
		if v, ok := l.str(f); ok {
			switch v {
			case AudienceTokenEndpoint, AudienceIssuer, AudienceBoth:
				s.assertionAud, s.audField = opt[string]{v, true}, f
			default:
				l.add(f.val, f.path, "assertion_audience must be token_endpoint (the url, the default), issuer (the preset's issuer) or both (the two, as an array).")
			}
		}
	}
	if f, ok := l.get(fs, "dpop"); ok {
		if v, ok := l.bool(f); ok {
			s.dpop = opt[bool]{v, true}
		}
	}
	if f, ok := l.get(fs, "audience"); ok {
		if t, ok := l.text(f, true); ok {
			s.audience = opt[string]{t.s, true}
		}
	}
	if f, ok := l.get(fs, "resource"); ok {
		if list, ok := l.strings(f, "a list of resource URIs"); ok {
			for _, it := range list {
				if msg := checkResource(it.s); msg != "" {
					l.add(it.n, it.path, msg)
				}
			}
			s.resource = opt[[]string]{values(list), true}
		}
	}
	if f, ok := l.get(fs, "params"); ok {
		s.params = opt[map[string]string]{l.params(f), true}
	}
	if f, ok := l.get(fs, "refresh_skew"); ok {
		if d, ok := l.duration(f); ok {
			s.refreshSkew = opt[time.Duration]{d, true}
		}
	}
	if f, ok := l.get(fs, "default_ttl"); ok {
		if d, ok := l.duration(f); ok {
			if d == 0 {
				l.add(f.val, f.path, "default_ttl must be more than zero; it is the token lifetime assumed when the server does not say, e.g. 5m.")
			} else {
				s.defaultTTL = opt[time.Duration]{d, true}
			}
		}
	}
	if f, ok := l.get(fs, "refresh_ahead"); ok {
		if x, ok := l.number(f); ok {
			if x > 0 && x <= 1 {
				s.refreshAhead = opt[float64]{x, true}
			} else {
				l.add(f.val, f.path, "refresh_ahead must be more than 0 and at most 1: the fraction of a token's lifetime after which it is refreshed in the background, e.g. 0.8.")
			}
		}
	}
	if f, ok := l.get(fs, "tls_client_certificate"); ok {
		s.tlsCert = opt[tlsSource]{l.pemOrFile(f, false), true}
	}
	if f, ok := l.get(fs, "tls_client_key"); ok {
		s.tlsKey = opt[tlsSource]{l.pemOrFile(f, true), true}
	}
	if f, ok := l.get(fs, "certificate"); ok {
		s.certificate = opt[credSource]{l.credential(f, true), true}
	}
	if f, ok := l.get(fs, "client_assertion_file"); ok {
		s.assertion = opt[credSource]{l.credential(f, false), true}
	}
	return s
}

// credSource is a certificate or client_assertion_file as written: PEM
// text (certificate only) or a file path the host reads.
type credSource struct {
	file, pem string
	n         ast.Node
	path      string
	from      string // text.from() of the value, for messages
	known     bool   // false when linting a reference
	bad       bool   // reported already
}

// credential reads certificate (pemOK) or client_assertion_file. Messages
// never repeat the value.
func (l *loader) credential(f field, pemOK bool) credSource {
	src := credSource{n: f.val, path: f.path, bad: true}
	t, ok := l.text(f, true)
	if !ok {
		return src
	}
	src.from, src.bad, src.known = t.from(), false, t.known
	if !t.known {
		return src
	}
	v := strings.TrimSpace(t.s)
	fix := "the path of the file the platform writes the workload's JWT to"
	if pemOK {
		fix = "the certificate as PEM text (usually ${env:NAME}) or the path of a PEM file"
	}
	switch {
	case v == "":
		l.add(f.val, f.path, f.name+" is empty"+t.from()+"; set it to "+fix+".")
		src.bad = true
	case pemOK && strings.HasPrefix(v, "-----BEGIN "):
		src.pem = v
	case strings.ContainsAny(v, "\n\r\x00"):
		l.add(f.val, f.path, f.name+" is not a file path"+t.from()+"; set it to "+fix+".")
		src.bad = true
	default:
		src.file = v
	}
	return src
}

// tlsSource is one half of a client certificate: a file path or PEM text.
type tlsSource struct {
	file, pem string
	n         ast.Node
	path      string
	bad       bool // reported already
}

// pemOrFile reads tls_client_certificate or tls_client_key: PEM text (a
// value starting with -----BEGIN, usually from ${env:NAME}) or else the
// path of a PEM file, which the host reads. The PEM is only recognised,
// never parsed: the module carries no X.509 code. Messages never repeat
// the value, which may be a private key.
func (l *loader) pemOrFile(f field, key bool) tlsSource {
	src := tlsSource{n: f.val, path: f.path, bad: true}
	t, ok := l.text(f, true)
	if !ok {
		return src
	}
	fix := "the path of a PEM file holding the client certificate, or ${env:NAME} holding the PEM itself"
	if key {
		fix = "the path of a PEM file holding the certificate's private key, or ${env:NAME} holding the PEM itself"
	}
	src.bad = false
	if !t.known {
		return src // linting a reference
	}
	src.bad = true
	v := strings.TrimSpace(t.s)
	if v == "" {
		l.add(f.val, f.path, f.name+" is empty"+t.from()+"; set it to "+fix+".")
		return src
	}
	if !strings.HasPrefix(v, "-----BEGIN ") {
		if strings.ContainsAny(v, "\n\r\x00") {
			l.add(f.val, f.path, f.name+" is neither PEM text (starting with -----BEGIN) nor a file path"+t.from()+"; set it to "+fix+".")
			return src
		}
		src.file, src.bad = v, false
		return src
	}
	hasCert := strings.Contains(v, "-----BEGIN CERTIFICATE-----")
	hasKey := strings.Contains(v, "PRIVATE KEY-----")
	switch {
	case key && strings.Contains(v, "-----BEGIN ENCRYPTED PRIVATE KEY-----"):
		l.add(f.val, f.path, f.name+" holds an encrypted private key"+t.from()+", which cctoken cannot decrypt; give it the key unencrypted (openssl pkey -in key.pem -out plain-key.pem) and protect that file instead.")
	case key && !hasKey && hasCert:
		l.add(f.val, f.path, f.name+" holds a certificate, not a private key"+t.from()+"; put the certificate in tls_client_certificate and its private key here.")
	case key && !hasKey:
		l.add(f.val, f.path, f.name+" holds no PEM private key block (-----BEGIN … PRIVATE KEY-----)"+t.from()+"; set it to "+fix+".")
	case !key && !hasCert && hasKey:
		l.add(f.val, f.path, f.name+" holds a private key, not a certificate"+t.from()+"; put the key in tls_client_key and the certificate here.")
	case !key && !hasCert:
		l.add(f.val, f.path, f.name+" holds no PEM certificate block (-----BEGIN CERTIFICATE-----)"+t.from()+"; set it to "+fix+".")
	default:
		src.pem, src.bad = t.s, false
	}
	return src
}

// want reports a value of the wrong type.
func (l *loader) want(n ast.Node, path, what, fix string) {
	l.add(n, path, "expected "+what+", found "+kind(n)+"; "+fix)
}

const (
	fixString = "write a single value on the same line (quote it if it has special characters)."
	fixList   = "write a YAML list: one `- item` per line, or [first, second]."
	fixMap    = "write `name: value` pairs indented under this key."
)

// str reads a plain string, where ${env:NAME} is not allowed. Numbers and
// booleans are taken as written.
func (l *loader) str(f field) (string, bool) {
	t, ok := l.text(f, false)
	return t.s, ok
}

// text is a string that may come from ${env:NAME}.
type text struct {
	s     string
	env   string // NAME when the value came from ${env:NAME}
	known bool   // false when linting a reference: the value is not available
}

// text reads a string, resolving a whole-value ${env:NAME} when envOK.
func (l *loader) text(f field, envOK bool) (text, bool) {
	n := l.value(f.val, f.path)
	if n == nil {
		return text{}, false
	}
	if isNull(n) {
		return text{known: true}, true // empty map values, e.g. `X-Empty:`
	}
	s, ok := scalar(n)
	if !ok {
		l.want(n, f.path, "a string", fixString)
		return text{}, false
	}
	name, ref, valid := envRef(s)
	switch {
	case !ref:
		return text{s: s, known: true}, true
	case !envOK:
		l.add(n, f.path, "${...} references are only supported in client_id, client_secret, private_key, audience, tls_client_certificate, tls_client_key, and in header, cookie and params values; write this value directly.")
		return text{}, false
	case !valid:
		l.add(n, f.path, "unsupported reference: the only form is a whole value ${env:NAME}, where NAME is letters, digits and underscores and does not start with a digit, with nothing before or after it.")
		return text{}, false
	}
	if l.names != nil {
		l.names[name] = true
	}
	if l.lint {
		return text{env: name}, true
	}
	v, ok := l.env[name]
	if !ok {
		l.add(n, f.path, "environment variable "+name+" is not set; set "+name+" in the environment cctoken runs in, or write the value here instead of ${env:"+name+"}.")
		return text{}, false
	}
	return text{s: v, env: name, known: true}, true
}

// from names where a bad value came from, so the author knows where to fix it.
func (t text) from() string {
	if t.env != "" {
		return " (the value comes from environment variable " + t.env + ")"
	}
	return ""
}

func (l *loader) bool(f field) (bool, bool) {
	n := l.value(f.val, f.path)
	if b, ok := n.(*ast.BoolNode); ok && b != nil {
		return b.Value, true
	}
	if n != nil {
		l.want(n, f.path, "true or false", "write true or false without quotes.")
	}
	return false, false
}

// number reads a finite integer or float.
func (l *loader) number(f field) (float64, bool) {
	n := l.value(f.val, f.path)
	if n == nil {
		return 0, false
	}
	x, ok := numberOf(n)
	if !ok {
		l.want(n, f.path, "a number", "write a number without quotes, e.g. 0.8.")
	}
	return x, ok
}

func numberOf(n ast.Node) (float64, bool) {
	switch v := n.(type) {
	case *ast.IntegerNode:
		if v == nil {
			return 0, false
		}
		switch i := v.Value.(type) {
		case int64:
			return float64(i), true
		case uint64:
			return float64(i), true
		}
	case *ast.FloatNode:
		if v != nil && !math.IsNaN(v.Value) && !math.IsInf(v.Value, 0) {
			return v.Value, true
		}
	}
	return 0, false
}

// duration reads a Go duration string ("30s", "2m") or a number of
// seconds, and rejects negative values.
func (l *loader) duration(f field) (time.Duration, bool) {
	n := l.value(f.val, f.path)
	if n == nil {
		return 0, false
	}
	const what = "a duration such as \"30s\" or \"2m\", or a number of seconds"
	var d time.Duration
	if x, ok := numberOf(n); ok {
		if x*float64(time.Second) >= math.MaxInt64 || x*float64(time.Second) <= math.MinInt64 {
			l.add(n, f.path, "this duration is too large; use "+what+".")
			return 0, false
		}
		d = time.Duration(x * float64(time.Second))
	} else if s, ok := n.(*ast.StringNode); ok && s != nil {
		var err error
		if d, err = time.ParseDuration(strings.TrimSpace(s.Value)); err != nil {
			l.add(n, f.path, "this is not a valid duration; use "+what+" (units: ms, s, m, h).")
			return 0, false
		}
	} else {
		l.want(n, f.path, what, "e.g. 30s.")
		return 0, false
	}
	if d < 0 {
		l.add(n, f.path, "a duration must not be negative; use 0 or more, e.g. 30s.")
		return 0, false
	}
	return d, true
}

// list reads a YAML list.
func (l *loader) list(f field, what string) ([]ast.Node, bool) {
	n := l.value(f.val, f.path)
	if n == nil {
		return nil, false
	}
	list, ok := items(n)
	if !ok {
		l.want(n, f.path, what, fixList)
	}
	return list, ok
}

// item is one string of a list, with its node and path.
type item struct {
	s    string
	n    ast.Node
	path string
}

// strings reads a list of strings; entries that are not strings are
// reported and left out.
func (l *loader) strings(f field, what string) ([]item, bool) {
	list, ok := l.list(f, what)
	if !ok {
		return nil, false
	}
	out := make([]item, 0, len(list))
	for i, n := range list {
		it := field{val: n, path: fmt.Sprintf("%s[%d]", f.path, i)}
		if isNull(unwrap(n)) {
			l.add(n, it.path, "this list entry is empty; remove it or give it a value.")
			continue
		}
		if s, ok := l.str(it); ok {
			out = append(out, item{s, n, it.path})
		}
	}
	return out, true
}

func values(items []item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.s
	}
	return out
}

func (l *loader) scopes(f field) []string {
	n := l.value(f.val, f.path)
	if n == nil {
		return nil
	}
	if s, ok := scalar(n); ok {
		msg := "scopes must be a list, not a single string; write scopes: [scope] or put the scope on its own `- scope` line."
		if strings.ContainsAny(s, " \t") {
			msg = "scopes must be a list, not a space-separated string; put each scope on its own `- scope` line, or write scopes: [first, second]."
		}
		l.add(n, f.path, msg)
		return nil
	}
	list, _ := l.strings(f, "a list of scopes")
	for _, it := range list {
		if validScope(it.s) {
			continue
		}
		msg := "a scope may only contain printable ASCII characters other than space, double quote and backslash (RFC 6749 §3.3); fix or remove it."
		if strings.ContainsAny(it.s, " \t") {
			msg = "this scope contains a space; list each scope as its own entry instead of separating them with spaces."
		} else if it.s == "" {
			msg = "this scope is empty; remove it."
		}
		l.add(it.n, it.path, msg)
	}
	return values(list)
}

// stringMap reads a map of strings whose values may use ${env:NAME}. check
// validates each entry and returns an error message, or "".
func (l *loader) stringMap(f field, check func(key string, value text) string) map[string]string {
	n := l.value(f.val, f.path)
	if n == nil {
		return nil
	}
	if _, ok := pairs(n); !ok {
		l.want(n, f.path, "a map of names to values", fixMap)
		return nil
	}
	_, all := l.fields(n, f.path)
	out := make(map[string]string, len(all))
	for _, e := range all {
		t, ok := l.text(e, true)
		if !ok {
			continue
		}
		if msg := check(e.name, t); msg != "" {
			l.add(e.key, e.path, msg)
			continue
		}
		out[e.name] = t.s
	}
	return out
}

// headersSetByUs are headers cctoken writes itself; letting a preset set
// them would corrupt or duplicate the token request.
var headersSetByUs = map[string]string{
	"Authorization":  "cctoken sets Authorization itself to send client_id and client_secret (client_secret_basic); to send them in the body instead, set auth_method: client_secret_post.",
	"Cookie":         "cctoken builds the Cookie header from `cookies`; put each cookie there instead.",
	"Content-Type":   "cctoken sets Content-Type for the form-encoded token request; remove it.",
	"Content-Length": "cctoken sets Content-Length from the request body; remove it.",
	"Host":           "cctoken takes Host from url; remove it.",
}

func (l *loader) headers(f field) map[string]string {
	seen := map[string]string{}
	raw := l.stringMap(f, func(name string, v text) string {
		if !isToken(name) {
			return "a header name may only contain letters, digits and !#$%&'*+-.^_`|~ (no spaces or colons); rename it."
		}
		c := canonicalHeader(name)
		if why, ok := headersSetByUs[c]; ok {
			return "this header cannot be set here: " + why
		}
		if first, dup := seen[c]; dup {
			return "this header is also set as " + first + " (header names ignore case); keep only one."
		}
		seen[c] = name
		if v.known && !validHeaderValue(v.s) {
			return "the header value contains a line break or another control character" + v.from() + "; remove it."
		}
		return ""
	})
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		out[canonicalHeader(k)] = v
	}
	return out
}

func (l *loader) cookies(f field) map[string]string {
	m := l.stringMap(f, func(name string, v text) string {
		if !isToken(name) {
			return "a cookie name may only contain letters, digits and !#$%&'*+-.^_`|~ (no spaces, '=' or ';'); rename it."
		}
		if v.known && !validCookieValue(v.s) {
			return "the cookie value contains a character cookies cannot carry (space, double quote, comma, semicolon, backslash or a control character)" + v.from() + "; percent-encode it, e.g. a space as %20."
		}
		return ""
	})
	if len(m) == 0 {
		return nil
	}
	return m
}

// paramsSetByUs are form parameters cctoken sends itself, with the field
// that controls each.
var paramsSetByUs = map[string]string{
	"grant_type":            "cctoken always sends grant_type=client_credentials; remove it.",
	"client_id":             "set client_id on the user instead.",
	"client_secret":         "set client_secret on the user instead.",
	"client_assertion":      "set auth_method: private_key_jwt or client_secret_jwt instead; cctoken makes the assertion.",
	"client_assertion_type": "set auth_method: private_key_jwt or client_secret_jwt instead; cctoken makes the assertion.",
	"scope":                 "use the scopes list on the user instead.",
	"audience":              "use the audience field instead.",
	"resource":              "use the resource list instead.",
}

func (l *loader) params(f field) map[string]string {
	return l.stringMap(f, func(name string, _ text) string {
		if name == "" {
			return "a parameter name is empty; give it a name."
		}
		for p, why := range paramsSetByUs {
			if strings.EqualFold(name, p) {
				return "params cannot set " + p + ": " + why
			}
		}
		return ""
	})
}
