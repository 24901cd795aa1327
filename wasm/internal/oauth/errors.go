package oauth

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// Codes the module uses besides the OAuth `error` values a server sends.
const (
	CodeHTTPStatus           = "http_status"
	CodeInvalidResponse      = "invalid_response"
	CodeUnsupportedTokenType = "unsupported_token_type"
	CodeNetwork              = httpmsg.FailNetwork
	CodeTimeout              = httpmsg.FailTimeout
	CodeTooLarge             = httpmsg.FailTooLarge
	CodeCanceled             = httpmsg.FailCanceled
)

// Error is a failed token request. Everything in it is safe to show and
// log: it never holds a response body, the access token or the secret.
type Error struct {
	Code        string        // OAuth `error`, or one of the Code* constants
	Description string        // error_description, sanitised
	URI         string        // error_uri, sanitised
	Status      int           // HTTP status, 0 for transport failures
	RetryAfter  time.Duration // from Retry-After on 429/503, 0 if none
	Message     string        // one sentence: what happened and what to check
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return "oauth: " + e.Code
}

// Temporary reports whether retrying later may help: server trouble, rate
// limits and transport failures, but not a rejected client or bad answer.
func (e *Error) Temporary() bool {
	switch e.Code {
	case CodeNetwork, CodeTimeout, "server_error", "temporarily_unavailable":
		return true
	}
	return e.Status == 429 || (e.Status >= 500 && e.Status <= 599)
}

// FailureError turns a host transport failure into an *Error.
func FailureError(f *httpmsg.Failure) *Error {
	if f == nil {
		f = &httpmsg.Failure{Kind: httpmsg.FailNetwork}
	}
	e := &Error{Code: f.Kind}
	var msg string
	switch f.Kind {
	case httpmsg.FailTimeout:
		msg = "the token endpoint did not answer in time; check the token URL and that the server is up"
	case httpmsg.FailTooLarge:
		msg = fmt.Sprintf("the token endpoint's answer was larger than %d KiB; is the URL the token endpoint?", httpmsg.MaxBody>>10)
	case httpmsg.FailCanceled:
		msg = "the token request was canceled"
	case httpmsg.FailClientCertificate:
		msg = "the client certificate (tls_client_certificate, tls_client_key) could not be used, so nothing was sent"
	case httpmsg.FailUnsupported:
		msg = "this host cannot send the token request"
	default:
		e.Code = CodeNetwork
		msg = "could not reach the token endpoint; check the token URL, DNS, proxy and TLS settings"
	}
	if m := clean(f.Message, maxText); m != "" {
		msg += " (" + m + ")"
	}
	e.Message = msg
	return e
}

// maxText bounds server-provided text we pass on, so a hostile or broken
// server cannot flood logs through an error.
const maxText = 200

// clean makes server text safe to print: valid UTF-8, no control or
// invisible formatting characters (which could forge log lines or reorder
// text), at most max runes.
func clean(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "") {
		if n == max {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// cleanCode keeps only the characters RFC 6749 §5.2 allows in `error`.
func cleanCode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// knownCodes are the registered token endpoint error codes. When a body
// also carries an access token, only these are repeated, since anything
// else could be (part of) the token.
var knownCodes = []string{
	"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "invalid_target", "access_denied",
	"server_error", "temporarily_unavailable", "invalid_dpop_proof", "use_dpop_nonce",
}

// CredentialsHint is the advice for a refused client; callers that know
// the client authenticates otherwise (mutual TLS) replace it.
const CredentialsHint = "check the client id, the client secret (or private key) and the auth method"

// codeHint says what to check for an OAuth error code; for codes it does
// not know, the status decides.
func codeHint(code string, status int) string {
	switch code {
	case "invalid_client":
		return CredentialsHint
	case "invalid_scope":
		return "check the scopes requested for this account"
	case "unauthorized_client":
		return "check that this client may use the client_credentials grant"
	case "unsupported_grant_type":
		return "check that the server supports the client_credentials grant"
	case "invalid_target":
		return "check the resource values"
	case "invalid_request":
		return "check the audience, resource and extra parameters"
	case "access_denied":
		return "check the client's permissions at the authorization server"
	case "server_error", "temporarily_unavailable":
		return "the server had a problem, retry later"
	}
	return statusHint(status)
}

// statusHint says what to check when a non-2xx answer has no OAuth error.
func statusHint(status int) string {
	switch {
	case status == 401 || status == 403:
		return CredentialsHint
	case status == 404 || status == 405:
		return "check the token URL"
	case status >= 300 && status <= 399:
		return "the endpoint redirected, set the token URL to the final address"
	case status == 429:
		return "the server is rate limiting, retry later"
	case status == 408 || (status >= 500 && status <= 599):
		return "the server had a problem, retry later"
	}
	return "check the token URL and the account settings"
}

const htmlHint = "the endpoint answered with an HTML page, is the url the token endpoint?"
