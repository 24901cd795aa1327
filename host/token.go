package host

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Token is an access token and what a request made with it carries. Its
// String, GoString, LogValue and MarshalJSON methods redact the token, so
// printing, logging or encoding one by mistake leaks nothing.
type Token struct {
	AccessToken string
	// TokenType is "Bearer" or "DPoP". A DPoP token is bound to the
	// user's key inside the module: every request made with it needs a
	// fresh proof, which Client.Sign and Client.Transport add.
	TokenType    string
	Expiry       time.Time
	ExpirySource string // expires_in, jwt_exp or default_ttl: where Expiry came from
	Scopes       []string
	header       http.Header
}

func newToken(r *tokenResult) *Token {
	h := make(http.Header, len(r.Headers))
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	return &Token{
		AccessToken: r.AccessToken, TokenType: r.TokenType, Expiry: time.UnixMilli(r.ExpiresAt),
		ExpirySource: r.ExpirySource, Scopes: r.Scopes, header: h,
	}
}

// Header returns a copy of the headers a request made with this token
// carries. For a DPoP token that is not enough: the request also needs a
// DPoP proof of its own (Client.Sign).
func (t *Token) Header() http.Header { return t.header.Clone() }

// String, GoString and LogValue have value receivers so that a Token
// value (*tok, or a Token held in a struct) is redacted too, not only a
// *Token.
func (t Token) String() string {
	return fmt.Sprintf("%s [redacted] (expires %s)", t.TokenType, t.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the token.
func (t Token) GoString() string { return "host.Token{" + t.String() + "}" }

// LogValue keeps slog from printing the token.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON keeps the token out of JSON too (a struct logged as JSON is a
// common leak); code that needs the token reads AccessToken.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessToken  string    `json:"access_token"`
		TokenType    string    `json:"token_type"`
		Expiry       time.Time `json:"expiry"`
		ExpirySource string    `json:"expiry_source"`
		Scopes       []string  `json:"scopes,omitempty"`
	}{"[redacted]", t.TokenType, t.Expiry, t.ExpirySource, t.Scopes})
}

func strconvQuote(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}
