package engine

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
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
	// CodeSigningFailed: the JWT client assertion of client_secret_jwt or
	// private_key_jwt could not be made, so no request was sent.
	CodeSigningFailed = "signing_failed"
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

// signingFailed reports a client assertion that could not be signed. The
// message comes from package oauth and jose, which never quote key
// material; it is scrubbed anyway.
func signingFailed(err error, a *preset.Account) *Error {
	field := a.Field("private_key")
	if a.AuthMethod == preset.ClientSecretJWT {
		field = a.Field("client_secret")
	}
	return &Error{Code: CodeSigningFailed, User: a.Username, Field: field, Message: redact(err.Error(), a)}
}

// tokenError turns a token endpoint failure into an Error, removing the
// account's secret, private key, client assertion and any token from what
// the server said: a confused server may echo them back.
func tokenError(o *oauth.Error, a *preset.Account, assertion string) *Error {
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
		Message:     redact(msg, a, assertion),
		User:        a.Username,
		Field:       field,
		Status:      o.Status,
		Description: redact(o.Description, a, assertion),
		URI:         redact(o.URI, a, assertion),
	}
}

// minPiece is the shortest run of key text that redact removes: shorter
// runs (PEM labels, JWK member names, "AQAB") say nothing about the key.
const minPiece = 16

// redact removes the secret in every form the token request carried it:
// as written, form-encoded, and inside the Basic credentials (both
// encodings), so a server that echoes its request leaks none of them. It
// also removes the private key (whole, and every long base64 or base64url
// run in it: PEM lines, JWK members) and each client assertion given, with
// its signature on its own.
func redact(s string, a *preset.Account, assertions ...string) string {
	if s == "" {
		return s
	}
	var forms []string
	if id, secret := a.ClientID, a.ClientSecret; len(secret) >= 4 {
		forms = append(forms,
			secret,
			url.QueryEscape(secret),
			base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))),
			base64.StdEncoding.EncodeToString([]byte(id+":"+secret)),
		)
	}
	if key := a.PrivateKeyText(); key != "" {
		forms = append(forms, key, url.QueryEscape(key))
		for _, piece := range strings.FieldsFunc(key, notBase64) {
			if len(piece) >= minPiece {
				forms = append(forms, piece)
			}
		}
	}
	for _, jws := range assertions {
		if jws == "" {
			continue
		}
		forms = append(forms, jws)
		if i := strings.LastIndexByte(jws, '.'); i >= 0 && len(jws)-i > minPiece {
			forms = append(forms, jws[i+1:])
		}
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	for _, jws := range assertions {
		s = redactPrefix(s, jws)
	}
	return s
}

// redactPrefix removes the start of jws where a shortened echo (servers
// and package oauth cut long descriptions) reaches into its payload,
// which is unique to this assertion through its jti.
func redactPrefix(s, jws string) string {
	dot := strings.IndexByte(jws, '.')
	if dot < 0 {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, jws[:dot+1])
		if i < 0 {
			break
		}
		n := dot + 1
		for i+n < len(s) && n < len(jws) && s[i+n] == jws[n] {
			n++
		}
		if n < dot+1+minPiece {
			n = dot + 1 // only the header matched: not this assertion
			b.WriteString(s[:i+n])
		} else {
			b.WriteString(s[:i])
			b.WriteString("[redacted]")
		}
		s = s[i+n:]
	}
	b.WriteString(s)
	return b.String()
}

// notBase64 reports characters outside the base64 and base64url alphabets.
func notBase64(r rune) bool {
	return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '+' || r == '/' || r == '-' || r == '_' || r == '=')
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
