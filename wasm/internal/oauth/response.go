package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jsonlite"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// Token is an access token granted by the token endpoint.
type Token struct {
	AccessToken  string        `json:"access_token"`
	TokenType    string        `json:"token_type"`       // normalised: "Bearer" or "DPoP"
	Expiry       time.Time     `json:"expiry"`           // absolute
	Lifetime     time.Duration `json:"-"`                // Expiry - now at parse time
	ExpirySource string        `json:"expiry_source"`    // one of the Source* constants
	Scopes       []string      `json:"scopes,omitempty"` // granted (from `scope`), else requested
}

// Where a Token's expiry came from.
const (
	SourceExpiresIn  = "expires_in"
	SourceJWTExp     = "jwt_exp"
	SourceDefaultTTL = "default_ttl"
)

// maxLifetime caps lifetimes so an absurd expires_in or exp can neither
// overflow time.Duration nor push Expiry beyond what JSON can encode.
const maxLifetime = math.MaxInt32 * time.Second

// ParseTokenResponse turns the token endpoint's answer into a Token
// (RFC 6749 §5.1) or returns an *Error (§5.2, or a module code).
// requested are the scopes that were asked for; the server may omit `scope`
// when it granted exactly those. defaultTTL (preset.DefaultTTL if ≤ 0) is
// the lifetime assumed when neither expires_in nor a JWT exp says otherwise.
func ParseTokenResponse(resp *httpmsg.Response, requested []string, now time.Time, defaultTTL time.Duration) (*Token, error) {
	return ParseTokenResponseDPoP(resp, requested, now, defaultTTL, false)
}

// ParseTokenResponseDPoP is ParseTokenResponse for a request that may have
// carried a DPoP proof: with dpop, token_type DPoP (any case) is accepted
// as well as Bearer (RFC 9449 §5: a server may still issue a bearer token).
func ParseTokenResponseDPoP(resp *httpmsg.Response, requested []string, now time.Time, defaultTTL time.Duration, dpop bool) (*Token, error) {
	if resp == nil {
		return nil, &Error{Code: CodeInvalidResponse, Message: "the token endpoint gave no response"}
	}
	// On the stack, with the members it reads: a body holding its own
	// members, or filled through a pointer, would be moved to the heap.
	var members [8]jsonlite.Member
	b := decodeBody(resp, members[:0])
	if resp.Status < 200 || resp.Status > 299 {
		return nil, statusError(resp, &b, now)
	}
	if defaultTTL <= 0 {
		defaultTTL = preset.DefaultTTL
	}
	t, e := b.token(resp.Status, requested, now, defaultTTL, dpop)
	if e != nil {
		return nil, e // not t, e: a nil *Error must not become a non-nil error
	}
	return t, nil
}

// statusError describes a non-2xx answer, preferring the server's own
// §5.2 error over a bare status.
func statusError(resp *httpmsg.Response, b *body, now time.Time) *Error {
	e := &Error{Status: resp.Status}
	if resp.Status == 429 || resp.Status == 503 {
		e.RetryAfter, _ = RetryAfter(resp.Get("Retry-After"), now)
	}
	if !b.oauthErr(e) {
		e.Code = CodeHTTPStatus
		hint, with := statusHint(resp.Status), ""
		switch {
		case b.html:
			hint = htmlHint
		case b.empty:
			with = " with an empty body"
		}
		e.Message = fmt.Sprintf("the token endpoint answered HTTP %d%s: %s", resp.Status, with, hint)
	}
	if e.RetryAfter > 0 {
		e.Message += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return e
}

// body is the decoded answer: JSON (§5.1) or, as GitHub and some older
// servers send, form-encoded.
type body struct {
	json    jsonlite.Object // read in place, without a map: the fetch path
	checked bool            // json's values were read by jsonlite (see jsonlite.Unquote)
	form    url.Values
	parsed  bool // json or form holds the fields
	badJSON bool // meant to be JSON but not a JSON object
	html    bool
	empty   bool
}

func decodeBody(resp *httpmsg.Response, members jsonlite.Object) (b body) {
	text := strings.TrimSpace(strings.TrimPrefix(resp.Body, "\ufeff"))
	mt, _, _ := strings.Cut(resp.Get("Content-Type"), ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	b.empty = text == ""
	b.html = mt == "text/html" || mt == "application/xhtml+xml" || looksHTML(text)
	switch {
	case b.empty:
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || text[0] == '{':
		// The '{' test catches JSON sent as text/plain or without a type.
		b.json, b.checked, b.badJSON = decodeJSON(text, members)
		b.parsed = !b.badJSON
	case !b.html:
		b.form = decodeForm(text)
		b.parsed = b.form != nil
	}
	return b
}

// decodeJSON reads a JSON object's members; bad is set for anything else,
// checked when jsonlite read them.
func decodeJSON(text string, members jsonlite.Object) (o jsonlite.Object, checked, bad bool) {
	// jsonlite only reads the bytes it is given: text's are not copied.
	if o, ok := jsonlite.AppendObject(members, unsafe.Slice(unsafe.StringData(text), len(text))); ok {
		return o, true, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &m); err != nil || m == nil {
		return nil, false, true
	}
	o = make(jsonlite.Object, 0, len(m))
	for k, v := range m {
		o = append(o, jsonlite.Member{Name: []byte(k), Raw: v})
	}
	return o, false, false
}

// decodeForm accepts the body only if it has a token endpoint field, so
// plain text is not mistaken for a form with odd keys. Escaping errors are
// tolerated: what did parse is kept.
func decodeForm(text string) url.Values {
	v, _ := url.ParseQuery(text)
	for _, k := range []string{"access_token", "token_type", "error", "expires_in", "scope"} {
		if _, ok := v[k]; ok {
			return v
		}
	}
	return nil
}

// field returns a top-level value. present is false when it is missing or
// null; isStr is false when it is present but not a string, and v is then
// the raw JSON.
func (b *body) field(name string) (v string, present, isStr bool) {
	if b.form != nil {
		vs := b.form[name]
		if len(vs) == 0 {
			return "", false, false
		}
		return vs[0], true, true
	}
	raw, _ := b.json.Get(name)
	if !b.checked {
		raw = bytes.TrimSpace(raw)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, false
	}
	if raw[0] == '"' {
		if b.checked {
			// Checked once already: no need to step through it again.
			return jsonlite.Unquote(raw), true, true
		}
		if s, ok := jsonlite.String(raw); ok {
			return s, true, true
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true, true
		}
	}
	return string(raw), true, false
}

// str returns a string field, "" when missing or not a string.
func (b *body) str(name string) string {
	if v, _, isStr := b.field(name); isStr {
		return v
	}
	return ""
}

// oauthErr fills e from the §5.2 fields and reports whether there was an
// `error`. A body that also carries an access token is suspect, so then
// nothing free-form from it is repeated.
func (b *body) oauthErr(e *Error) bool {
	code := cleanCode(b.str("error"))
	if code == "" {
		return false
	}
	if b.str("access_token") != "" {
		if !slices.Contains(knownCodes, code) {
			code = CodeInvalidResponse
		}
	} else {
		e.Description = clean(b.str("error_description"), maxText)
		e.URI = clean(b.str("error_uri"), maxText)
	}
	e.Code = code
	detail := code
	if e.Description != "" {
		detail += ": " + e.Description
	}
	e.Message = fmt.Sprintf("the token endpoint refused the request (HTTP %d, %s): %s", e.Status, detail, codeHint(code, e.Status))
	return true
}

// token reads a 2xx answer.
func (b *body) token(status int, requested []string, now time.Time, ttl time.Duration, dpop bool) (*Token, *Error) {
	bad := func(msg string) (*Token, *Error) {
		return nil, &Error{Code: CodeInvalidResponse, Status: status, Message: "the token endpoint's answer " + msg}
	}
	switch {
	case b.html:
		return bad("was an HTML page: " + htmlHint)
	case b.badJSON:
		return bad("was not a valid JSON object; check the token URL")
	case !b.parsed:
		return bad("was neither JSON nor form-encoded; check the token URL")
	}
	if e := (Error{Status: status}); b.oauthErr(&e) {
		out := new(Error) // only now: e stays on the stack on the fetch path
		*out = e
		return nil, out
	}

	at, present, isStr := b.field("access_token")
	switch {
	case present && !isStr:
		return bad("has an access_token that is not a string")
	case at == "":
		return bad("has no access_token")
	case !visible(at):
		return bad("has an access_token with characters RFC 6749 does not allow")
	}
	tt, present, isStr := b.field("token_type")
	switch {
	case present && !isStr:
		return bad("has a token_type that is not a string")
	case tt == "":
		return bad("has no token_type")
	case dpop && strings.EqualFold(tt, "dpop"):
		tt = "DPoP"
	case !strings.EqualFold(tt, "bearer"):
		if strings.EqualFold(tt, "dpop") {
			return nil, &Error{Code: CodeUnsupportedTokenType, Status: status, Message: "the token endpoint issued a DPoP token to a request without a DPoP proof; set dpop: true for this user"}
		}
		return nil, &Error{Code: CodeUnsupportedTokenType, Status: status, Message: fmt.Sprintf(
			"the token endpoint issued a token of type %s, but only Bearer and DPoP are supported; check the client's token type at the authorization server",
			typeName(tt, at))}
	default:
		tt = "Bearer"
	}

	life, src, ok := b.lifetime(at, now, ttl)
	if !ok {
		return bad("has an expires_in that is not a positive number of seconds")
	}
	return &Token{
		AccessToken:  at,
		TokenType:    tt,
		Expiry:       now.Add(life),
		Lifetime:     life,
		ExpirySource: src,
		Scopes:       b.scopes(requested),
	}, nil
}

// lifetime picks expires_in, else a JWT's exp, else ttl. An expires_in of 0
// is taken as "not given"; a negative or non-numeric one is an error since
// guessing could keep a dead token in use.
func (b *body) lifetime(at string, now time.Time, ttl time.Duration) (time.Duration, string, bool) {
	if v, present, _ := b.field("expires_in"); present && strings.TrimSpace(v) != "" {
		// v is string content or a raw JSON number: both are numeric text.
		secs, ok := seconds(v)
		if !ok || secs < 0 {
			return 0, "", false
		}
		if d := durationOf(secs); d > 0 {
			return d, SourceExpiresIn, true
		}
	}
	if d, ok := jwtLifetime(at, now); ok {
		return d, SourceJWTExp, true
	}
	return ttl, SourceDefaultTTL, true
}

// jwtLifetime reads the exp claim of a JWT access token. The token is not
// verified: exp is used only to time the refresh, and only when it is in
// the future.
func jwtLifetime(at string, now time.Time) (time.Duration, bool) {
	if strings.Count(at, ".") != 2 {
		return 0, false
	}
	head, rest, _ := strings.Cut(at, ".")
	payload, _, _ := strings.Cut(rest, ".")
	if head == "" || payload == "" {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return 0, false
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(raw, &claims) != nil {
		return 0, false
	}
	exp := strings.TrimSpace(string(claims["exp"]))
	secs, ok := seconds(exp) // a quoted exp fails here, as RFC 7519 wants a number
	if !ok || secs <= 0 {
		return 0, false
	}
	if secs >= float64(now.Unix())+maxLifetime.Seconds() {
		return maxLifetime, true
	}
	d := time.Unix(int64(secs), 0).Sub(now)
	return d, d > 0
}

// scopes returns the granted scopes, or the requested ones when the server
// left `scope` out (§5.1). A JSON array is accepted too, as some servers
// send one.
func (b *body) scopes(requested []string) []string {
	v, present, isStr := b.field("scope")
	var granted []string
	if isStr {
		granted = strings.Fields(v)
	} else if present {
		var list []string
		if json.Unmarshal([]byte(v), &list) == nil {
			granted = slices.DeleteFunc(list, func(s string) bool { return strings.TrimSpace(s) == "" })
		}
	}
	if len(granted) > 0 {
		return granted
	}
	if len(requested) == 0 {
		return nil
	}
	return slices.Clone(requested)
}

// seconds parses a JSON-style number, also when it came inside a string.
// ParseFloat alone would also take "NaN", "Inf" and hex.
func seconds(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if n, ok := smallUint(s); ok {
		return float64(n), true // what nearly every server sends, without ParseFloat
	}
	if !isNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range saturates; durationOf caps it
		return 0, false
	}
	return f, true
}

// smallUint reads 1 to 15 decimal digits without a leading zero, which
// a float64 holds exactly.
func smallUint(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 15 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

// isNumber matches -?digits(.digits)?([eE][+-]?digits)?
func isNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

func durationOf(secs float64) time.Duration {
	if secs >= maxLifetime.Seconds() {
		return maxLifetime
	}
	return time.Duration(secs * float64(time.Second))
}

// visible reports whether s is all VSCHAR (RFC 6749 Appendix A.12). This
// also keeps CR/LF out of the Authorization header the token ends up in.
func visible(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// typeName quotes a token_type for a message if it is a plain short word
// that cannot be a piece of the access token.
func typeName(tt, at string) string {
	ok := len(tt) <= 20 && !strings.Contains(tt, at) && (len(tt) < 6 || !strings.Contains(at, tt))
	for i := 0; ok && i < len(tt); i++ {
		c := tt[i]
		ok = c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')
	}
	if !ok {
		return "(not shown)"
	}
	return strconv.Quote(tt)
}

// looksHTML spots error pages served without a text/html type.
func looksHTML(text string) bool {
	if text == "" || text[0] != '<' {
		return false // a JSON or form body, without lowering its start
	}
	head := strings.ToLower(text[:min(len(text), 16)])
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if strings.HasPrefix(head, p) {
			return true
		}
	}
	return false
}
