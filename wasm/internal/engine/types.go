package engine

import (
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// LintResult lists every issue of a document; empty when it is clean.
type LintResult struct {
	Issues preset.Errors `json:"issues"`
	// Hints are not errors: rules of a provider recognised from a token
	// URL that the document breaks (preset.LintHints).
	Hints preset.Errors `json:"hints,omitempty"`
}

// ConvertResult is a preset converted from a Keboola configuration, and the
// environment variables it reads (names only, sorted).
type ConvertResult struct {
	YAML string   `json:"yaml"`
	Env  []string `json:"env"`
}

// UsersResult lists the loaded accounts.
type UsersResult struct {
	Users []UserInfo `json:"users"`
	// Kept (load only) lists the users whose cached tokens a new load kept
	// because nothing about them changed (store.go).
	Kept []string `json:"kept,omitempty"`
}

// UserInfo describes an account without its secret.
type UserInfo struct {
	Username string `json:"username"`
	Preset   int    `json:"preset"`
	// URL is the token endpoint; for a discovered preset the issuer until
	// its metadata is known.
	URL        string   `json:"url"`
	Issuer     string   `json:"issuer,omitempty"`
	ClientID   string   `json:"client_id"`
	AuthMethod string   `json:"auth_method"`
	Scopes     []string `json:"scopes,omitempty"`
	Audience   string   `json:"audience,omitempty"`
	Resource   []string `json:"resource,omitempty"`
}

// TokenResult is a usable token and what a request made with it carries.
// Times are Unix milliseconds. A host keeps it as its memo: it serves it
// without asking the engine until RefreshAt, refreshes in the background
// between RefreshAt and UseUntil, and makes callers wait after UseUntil.
type TokenResult struct {
	User         string            `json:"user"`
	AccessToken  string            `json:"access_token"`
	TokenType    string            `json:"token_type"`
	ExpiresAt    int64             `json:"expires_at"`
	ExpirySource string            `json:"expiry_source"`
	Scopes       []string          `json:"scopes,omitempty"`
	RefreshAt    int64             `json:"refresh_at"`
	UseUntil     int64             `json:"use_until"`
	Headers      map[string]string `json:"headers"`
	// LastError is set when a refresh failed and the still-valid old token
	// is served instead.
	LastError *Error `json:"last_error,omitempty"`
}

// InvalidateResult says how many cached tokens were dropped.
type InvalidateResult struct {
	Dropped int `json:"dropped"`
}

// ChallengeResult answers a resource server's 401: Invalidate the token
// and retry once, or (UseDPoPNonce) sign the request again, which puts the
// server's new nonce in the proof, and retry once.
type ChallengeResult struct {
	Invalidate   bool `json:"invalidate"`
	UseDPoPNonce bool `json:"use_dpop_nonce,omitempty"`
}
