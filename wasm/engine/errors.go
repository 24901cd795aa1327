package engine

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/cctoken/cctoken/wasm/oauth"
	"github.com/cctoken/cctoken/wasm/preset"
)

// Codes of errors the engine makes itself. Errors from the token endpoint
// carry the OAuth error code (invalid_client, invalid_scope, ...) or one of
// package oauth's codes (http_status, invalid_response, network, ...).
const (
	CodeInvalidPreset = "invalid_preset"
	CodeNotLoaded     = "not_loaded"
	CodeUnknownUser   = "unknown_user"
	CodeUnknownTask   = "unknown_task"
	CodeBadRequest    = "bad_request"
)

// Error is the one structured error every host receives. It never holds a
// secret or a token.
type Error struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Field   string        `json:"field,omitempty"`
	Line    int           `json:"line,omitempty"`
	Column  int           `json:"column,omitempty"`
	Issues  preset.Errors `json:"issues,omitempty"`
	User    string        `json:"user,omitempty"`
	// From the token endpoint:
	Status      int    `json:"status,omitempty"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	RetryAt     int64  `json:"retry_at,omitempty"` // Unix ms; do not ask again before
}

func (e *Error) Error() string { return e.Message }

func invalidPreset(issues preset.Errors) *Error {
	err := &Error{Code: CodeInvalidPreset, Issues: issues, Message: issues.Error()}
	if len(issues) > 0 {
		err.Field, err.Line, err.Column = issues[0].Field, issues[0].Line, issues[0].Column
	}
	return err
}

func notLoaded() *Error {
	return &Error{Code: CodeNotLoaded, Message: "no preset is loaded; load one first"}
}

func unknownUser(user string) *Error {
	return &Error{Code: CodeUnknownUser, Field: "user", Message: "no user " + quote(user) + " in the preset; use one of the usernames it lists"}
}

// tokenError turns a token endpoint failure into an Error, removing the
// account's secret and any token from what the server said: a confused
// server may echo them back.
func tokenError(o *oauth.Error, a *preset.Account) *Error {
	field := fmt.Sprintf("preset[%d].url", a.Preset)
	if a.Issuer != "" {
		field = fmt.Sprintf("preset[%d].issuer", a.Preset)
	}
	msg := o.Error()
	if preset.IsTLSMethod(a.AuthMethod) {
		msg = strings.Replace(msg, oauth.CredentialsHint, "check the client id and that the server accepts this client certificate for it "+
			"(issued by a CA it trusts with the registered subject or SAN for tls_client_auth; the registered certificate itself for self_signed_tls_client_auth)", 1)
	}
	return &Error{
		Code:        o.Code,
		Message:     redact(msg, a),
		User:        a.Username,
		Field:       field,
		Status:      o.Status,
		Description: redact(o.Description, a),
		URI:         redact(o.URI, a),
	}
}

// redact removes the secret in every form the token request carried it:
// as written, form-encoded, and inside the Basic credentials (both
// encodings), so a server that echoes its request leaks none of them.
func redact(s string, a *preset.Account) string {
	if len(a.ClientSecret) < 4 || s == "" {
		return s
	}
	id, secret := a.ClientID, a.ClientSecret
	forms := []string{
		secret,
		url.QueryEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte(id + ":" + secret)),
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return s
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s) + "\""
}
