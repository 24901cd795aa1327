package host

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	// goccy/go-json reads and writes the ABI's JSON: measured 2.7 times
	// (calls) and 3.3 times (answers) faster than encoding/json on the
	// fetch path (tests/bench/README.md), with the same API.
	json "github.com/goccy/go-json"
)

// The JSON shapes of wasm/ABI.md, as the host sees them. The host does not
// import the module's Go packages: it talks to the module only through the
// ABI, as every other host does. These types mirror the module's member for
// member: the module refuses a call with a member it does not know, and
// decodeAnswer refuses an answer with one this host does not know, so a
// member added on one side only fails every test that reaches it
// (wasm/internal/abi's drift test also compares the two sets of types).

// decodeAnswer reads JSON the module wrote into v, refusing members v does
// not declare. The host embeds the module it was built with, so an unknown
// member is drift between these types and the module's, never a newer
// module: it fails loudly instead of being dropped.
func decodeAnswer(b []byte, v any) error {
	var err error
	if strictFlags != nil {
		err = json.UnmarshalWithOption(b, v, strictFlags)
	} else {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
		if err == nil && dec.More() {
			err = errors.New("data after the answer")
		}
	}
	if err != nil {
		return fmt.Errorf("cctoken: the module's answer does not match this host's ABI types (%v); host/abi.go and wasm/internal must change together: rebuild with build.sh", err)
	}
	return nil
}

// strictFlags makes go-json's Unmarshal refuse unknown members as its
// Decoder's DisallowUnknownFields does, without a Decoder (a stream
// reader, buffers and a copy of the answer for each of a fetch's four
// decodings). go-json has no option for it, so the flag is taken from a
// Decoder and checked to work; nil falls back to the Decoder.
var strictFlags = func() json.DecodeOptionFunc {
	dec := json.NewDecoder(strings.NewReader("{}"))
	dec.DisallowUnknownFields()
	var flags json.DecodeOption
	if dec.DecodeWithOption(&struct{}{}, func(o *json.DecodeOption) { flags = *o }) != nil {
		return nil
	}
	f := func(o *json.DecodeOption) { o.Flags |= flags.Flags }
	var probe struct {
		A int `json:"a"`
	}
	if json.UnmarshalWithOption([]byte(`{"a":1,"b":2}`), &probe, f) == nil ||
		json.UnmarshalWithOption([]byte(`{"a":1} {}`), &probe, f) == nil ||
		json.UnmarshalWithOption([]byte(`{"a":2}`), &probe, f) != nil || probe.A != 2 {
		return nil
	}
	return f
}()

type call struct {
	Op       string            `json:"op"`
	Text     string            `json:"text,omitempty"`
	Username string            `json:"username,omitempty"`
	User     string            `json:"user,omitempty"`
	Scopes   []string          `json:"scopes,omitempty"`
	Audience string            `json:"audience,omitempty"`
	Resource []string          `json:"resource,omitempty"`
	Refresh  bool              `json:"refresh,omitempty"`
	Task     uint64            `json:"task,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	Response *httpResponse     `json:"response,omitempty"`
	Failure  *httpFailure      `json:"failure,omitempty"`
	Status   int               `json:"status,omitempty"`
	WWWAuth  string            `json:"www_authenticate,omitempty"`
	// the shared store (store.go)
	Store      *storeConfig `json:"store,omitempty"`
	StoreReply *storeReply  `json:"store_reply,omitempty"`
	// the content of a file the module asked for (files.go)
	File *fileReply `json:"file,omitempty"`
	// metadata (discovery.go)
	Issuer   string `json:"issuer,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
	// sign and answer
	Method        string          `json:"method,omitempty"`
	URL           string          `json:"url,omitempty"`
	Nonce         string          `json:"nonce,omitempty"`
	DPoPNonce     string          `json:"dpop_nonce,omitempty"`
	Location      string          `json:"location,omitempty"`
	Authorization string          `json:"authorization,omitempty"`
	NoReplay      bool            `json:"no_replay,omitempty"`
	Attempt       json.RawMessage `json:"attempt,omitempty"`
}

// signResult is the answer of the sign op.
type signResult struct {
	User      string            `json:"user"`
	TokenType string            `json:"token_type"`
	UseUntil  int64             `json:"use_until"`
	Headers   map[string]string `json:"headers"`
}

// answerResult is the answer of the answer op: what follows an API's
// answer. Attempt is the module's state of the caller request, passed back
// unread.
type answerResult struct {
	Action      string            `json:"action"`
	Reason      string            `json:"reason"`
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers"`
	DropBody    bool              `json:"drop_body"`
	Invalidated bool              `json:"invalidated"`
	Attempt     json.RawMessage   `json:"attempt"`
}

// lintResult is the answer of the lint op.
type lintResult struct {
	Issues []Issue `json:"issues"`
	Hints  []Issue `json:"hints"`
}

// convertResult is the answer of the convert op.
type convertResult struct {
	YAML string   `json:"yaml"`
	Env  []string `json:"env"`
}

// invalidateResult is the answer of the invalidate op.
type invalidateResult struct {
	Dropped int `json:"dropped"`
}

// challengeResult is the answer of the challenge op.
type challengeResult struct {
	Invalidate   bool `json:"invalidate"`
	UseDPoPNonce bool `json:"use_dpop_nonce"`
}

type answer struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
	Task   uint64          `json:"task,omitempty"`
	HTTP   *httpRequest    `json:"http,omitempty"`
	Env    []string        `json:"env,omitempty"`
	Store  *storeOp        `json:"store,omitempty"`
	File   *fileRead       `json:"file,omitempty"`
}

type httpRequest struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Header    map[string]string `json:"header,omitempty"`
	Body      string            `json:"body,omitempty"`
	TLSClient *tlsClient        `json:"tls_client,omitempty"`
}

// tlsClient is the client certificate a request presents. KeyPEM is a
// secret: it never goes into an error or a log.
type tlsClient struct {
	CertFile string `json:"certificate_file,omitempty"`
	CertPEM  string `json:"certificate_pem,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	KeyPEM   string `json:"key_pem,omitempty"`
}

type httpResponse struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
	// BodyBytes says the body is raw, sent after the call's JSON text
	// (resumeHTTP).
	BodyBytes int `json:"body_bytes,omitempty"`
	raw       []byte
}

type httpFailure struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

type tokenResult struct {
	User         string            `json:"user"`
	AccessToken  string            `json:"access_token"`
	TokenType    string            `json:"token_type"`
	ExpiresAt    int64             `json:"expires_at"`
	ExpirySource string            `json:"expiry_source"`
	Scopes       []string          `json:"scopes"`
	RefreshAt    int64             `json:"refresh_at"`
	UseUntil     int64             `json:"use_until"`
	Headers      map[string]string `json:"headers"`
	LastError    *Error            `json:"last_error"`
}

// Issue is one problem in a preset document.
type Issue struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (i Issue) String() string {
	var b strings.Builder
	if i.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(i.Line))
		b.WriteString(":")
		b.WriteString(strconv.Itoa(i.Column))
		b.WriteString(": ")
	}
	if i.Field != "" {
		b.WriteString(i.Field)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Error is the structured error of the module: a preset that does not load,
// an unknown user, or a token endpoint that said no. It never holds a secret
// or a token.
type Error struct {
	// Code is one of the Code constants (codes.go documents each), or
	// the OAuth error a token endpoint answered (invalid_client, ...).
	Code        string  `json:"code"`
	Message     string  `json:"message"`
	Field       string  `json:"field,omitempty"`
	Line        int     `json:"line,omitempty"`
	Column      int     `json:"column,omitempty"`
	Issues      []Issue `json:"issues,omitempty"`
	User        string  `json:"user,omitempty"`
	Status      int     `json:"status,omitempty"`
	Description string  `json:"error_description,omitempty"`
	URI         string  `json:"error_uri,omitempty"`
	RetryAtMS   int64   `json:"retry_at,omitempty"`
}

func (e *Error) Error() string {
	msg := e.Message
	if e.User != "" {
		msg = "user " + e.User + ": " + msg
	}
	return "cctoken: " + msg
}

// RetryAt is when the token endpoint asked not to be called before, or zero.
func (e *Error) RetryAt() time.Time {
	if e.RetryAtMS == 0 {
		return time.Time{}
	}
	return time.UnixMilli(e.RetryAtMS)
}
