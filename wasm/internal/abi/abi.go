// Package abi is the module's JSON interface: it decodes one call, runs it on
// the engine and encodes the step that came out. wasm/module wires it to the
// wasm exports; tests and fuzzing call it directly. ABI.md beside wasm/ is
// the reference for host authors.
package abi

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"

	"github.com/cctoken/cctoken/internal/version"
	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// Version is the ABI version. It changes only when a host written for an
// older version would misread a call or an answer.
const Version = 1

// Call is every operation's input; each op reads the fields it needs.
type Call struct {
	Op string `json:"op"`

	Text string `json:"text,omitempty"` // lint, load, convert
	// Username names the user of an imported document that has none (a
	// Keboola configuration); lint, load, convert. Default "keboola".
	Username string `json:"username,omitempty"`
	// Store says the host has a shared store (load); see store.go.
	Store *engine.StoreConfig `json:"store,omitempty"`

	engine.TokenRequest // token (user, scopes, audience, resource, refresh); invalidate (user)

	Task     uint64            `json:"task,omitempty"` // resume
	Env      map[string]string `json:"env,omitempty"`
	Response *httpmsg.Response `json:"response,omitempty"`
	Failure  *httpmsg.Failure  `json:"failure,omitempty"`
	Status   int               `json:"status,omitempty"`           // challenge
	WWWAuth  string            `json:"www_authenticate,omitempty"` // challenge

	Method    string `json:"method,omitempty"`     // sign, answer
	URL       string `json:"url,omitempty"`        // sign, challenge, answer
	Nonce     string `json:"nonce,omitempty"`      // sign
	DPoPNonce string `json:"dpop_nonce,omitempty"` // challenge, answer
	// answer: the response's Location, the Authorization the request
	// carried, whether its body cannot be sent again, and the attempt the
	// previous answer of the same caller request handed back.
	Location      string          `json:"location,omitempty"`
	Authorization string          `json:"authorization,omitempty"`
	NoReplay      bool            `json:"no_replay,omitempty"`
	Attempt       *engine.Attempt `json:"attempt,omitempty"`
	// StoreReply answers a store effect (resume).
	StoreReply *engine.StoreReply `json:"store_reply,omitempty"`
	// File answers a file effect (resume): the content the host read.
	File *engine.FileReply `json:"file,omitempty"`

	Issuer   string `json:"issuer,omitempty"`   // metadata
	Insecure bool   `json:"insecure,omitempty"` // metadata
}

// Answer is every operation's output: exactly one of Result, Error, HTTP or
// Env is set; HTTP and Env come with the Task to resume.
type Answer struct {
	Result any              `json:"result,omitempty"`
	Error  *engine.Error    `json:"error,omitempty"`
	Task   uint64           `json:"task,omitempty"`
	HTTP   *httpmsg.Request `json:"http,omitempty"`
	Env    []string         `json:"env,omitempty"`
	Store  *engine.StoreOp  `json:"store,omitempty"`
	File   *engine.FileRead `json:"file,omitempty"`
}

// VersionResult answers the "version" op.
type VersionResult struct {
	ABI int `json:"abi"`
	// Version is the project release this module was built from
	// (internal/version), so a host can report which module it runs.
	Version string `json:"version"`
	Pending int    `json:"pending"`
	// Instance is random per instance: it tells instances apart (in logs,
	// as a lock owner) and shows the host gave the module real randomness.
	Instance string `json:"instance"`
}

// Dispatcher runs calls against one engine.
type Dispatcher struct {
	Engine   *engine.Engine
	instance string
}

// New returns a dispatcher over a fresh engine using the system clock.
func New() *Dispatcher {
	var id [16]byte
	rand.Read(id[:])
	return &Dispatcher{Engine: engine.New(nil), instance: hex.EncodeToString(id[:])}
}

// Handle runs one JSON call and returns the JSON answer. It never panics on
// bad input: malformed calls get a bad_request error.
func (d *Dispatcher) Handle(in []byte) []byte { return d.AppendHandle(nil, in) }

// AppendHandle is Handle writing the answer after dst, so that a caller
// can reuse one buffer for every answer.
func (d *Dispatcher) AppendHandle(dst, in []byte) []byte {
	a := d.answer(in)
	return appendEncoded(dst, &a)
}

func (d *Dispatcher) answer(in []byte) (a Answer) {
	var c Call
	if err := decodeCall(in, &c); err != nil {
		if u, ok := err.(*unknownMember); ok {
			return Answer{Error: &engine.Error{Code: engine.CodeBadRequest, Field: u.name,
				Message: "the call has a member this module does not know: " + strconv.Quote(u.name) + "; the host and the module disagree on the ABI (see ABI.md): use the module built with this host"}}
		}
		if err == errBodyBytes {
			return Answer{Error: &engine.Error{Code: engine.CodeBadRequest, Field: "body_bytes",
				Message: "response.body_bytes must be the number of bytes after the call's JSON text, the response body, and the response then has no \"body\"; see ABI.md"}}
		}
		return badRequest("the call is not a JSON object of the documented form; see ABI.md")
	}
	e := d.Engine
	var s engine.Step
	switch c.Op {
	case "version":
		return Answer{Result: VersionResult{ABI: Version, Version: version.Version, Pending: e.Pending(), Instance: d.instance}}
	case "lint":
		s = e.Lint([]byte(c.Text), preset.WithUsername(c.Username))
	case "load":
		if err := e.SetStore(c.Store); err != nil {
			return Answer{Error: err}
		}
		s = e.Load([]byte(c.Text), preset.WithUsername(c.Username))
	case "convert":
		s = e.Convert([]byte(c.Text), preset.WithUsername(c.Username))
	case "users":
		s = e.Users()
	case "token":
		s = e.Token(c.TokenRequest)
	case "invalidate":
		s = e.Invalidate(c.User)
	case "challenge":
		s = e.Challenge(engine.ChallengeRequest{Status: c.Status, WWWAuth: c.WWWAuth, URL: c.URL, DPoPNonce: c.DPoPNonce})
	case "answer":
		ar := engine.AnswerRequest{TokenRequest: c.TokenRequest, Method: c.Method, URL: c.URL, Status: c.Status,
			WWWAuth: c.WWWAuth, DPoPNonce: c.DPoPNonce, Location: c.Location, Authorization: c.Authorization, NoReplay: c.NoReplay}
		if c.Attempt != nil {
			ar.Attempt = *c.Attempt
		}
		s = e.Answer(ar)
	case "sign":
		s = e.Sign(engine.SignRequest{TokenRequest: c.TokenRequest, Method: c.Method, URL: c.URL, Nonce: c.Nonce})
	case "discovery":
		s = e.Discovery()
	case "metadata":
		s = e.Metadata(engine.MetadataRequest{Issuer: c.Issuer, Insecure: c.Insecure, Response: c.Response})
	case "resume":
		if c.Task == 0 {
			return badRequest("resume needs the task number the module gave")
		}
		s = e.Resume(c.Task, resumeInput(&c))
	case "":
		return badRequest("the call has no \"op\"; use one of version, lint, load, convert, users, token, sign, answer, invalidate, challenge, discovery, metadata, resume")
	default:
		return badRequest("unknown op; use one of version, lint, load, convert, users, token, sign, answer, invalidate, challenge, discovery, metadata, resume")
	}
	return Answer{Result: s.Result, Error: s.Error, Task: s.Task, HTTP: s.HTTP, Env: s.Env, Store: s.Store, File: s.File}
}

func badRequest(msg string) Answer {
	return Answer{Error: &engine.Error{Code: engine.CodeBadRequest, Message: msg}}
}
