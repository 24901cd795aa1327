// Package engine runs cctoken's operations without doing any I/O.
//
// An operation either finishes at once or stops at an effect: an HTTP request
// to send, or environment variables to read. The host performs the effect and
// resumes the operation's task with what it got. All token policy (the cache,
// when to refresh, how long to keep serving a token after a failed refresh,
// how long to back off) lives here, so every host behaves the same and only
// has to compare the times the engine hands back.
package engine

import (
	"crypto/rand"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jose"
	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// Engine holds one loaded preset document, its token cache and the tasks
// waiting for effects. It is not safe for concurrent use: hosts serialise
// calls (the wasm instance is single-threaded anyway).
type Engine struct {
	now      func() time.Time
	random   io.Reader // jti of client assertions; crypto/rand (random_get in the module)
	accounts map[string]*preset.Account
	order    []string
	cache    map[string]*entry
	tasks    map[uint64]func(Input) Step // what each waiting task does with its input
	next     uint64
	// Discovered authorization server metadata per issuer, and issuers
	// whose metadata server asked to wait (see discovery.go).
	meta     map[string]*metadata
	metaFail map[string]*metaFailure
	// DPoP keys per username (made when first needed, dropped by load) and
	// the latest DPoP-Nonce per origin (see dpop.go).
	dpopKeys map[string]*jose.Key
	nonces   map[string]string
	store    *storeState // the host's shared store; nil without (store.go)
	// The fetch path's constant parts, made on first use and dropped by
	// load: each user's cache key without options, and the token request
	// per cache key of an account whose request never changes (no
	// assertion, no DPoP proof, no discovery).
	keys map[string]string
	reqs map[string]*httpmsg.Request
}

// New returns an engine with no preset loaded. now is the clock; nil means
// time.Now.
func New(now func() time.Time) *Engine {
	if now == nil {
		now = time.Now
	}
	return &Engine{now: now, random: rand.Reader, cache: map[string]*entry{}, tasks: map[uint64]func(Input) Step{},
		meta: map[string]*metadata{}, metaFail: map[string]*metaFailure{},
		dpopKeys: map[string]*jose.Key{}, nonces: map[string]string{},
		keys: map[string]string{}, reqs: map[string]*httpmsg.Request{}}
}

// Step is the outcome of an operation or of resuming one: exactly one of
// Result, Error, HTTP, Env or Store is set. HTTP, Env and Store come with
// the Task to resume.
type Step struct {
	Result any
	Error  *Error
	Task   uint64
	HTTP   *httpmsg.Request
	Env    []string
	Store  *StoreOp
	File   *FileRead
}

// Input is what the host hands back to a waiting task: the environment
// values it asked for, an HTTP response, or a transport failure.
type Input struct {
	Env      map[string]string
	Response *httpmsg.Response
	Failure  *httpmsg.Failure
	Store    *StoreReply
	File     *FileReply
}

func (e *Engine) wait(s Step, resume func(Input) Step) Step {
	e.next++
	e.tasks[e.next] = resume
	s.Task = e.next
	return s
}

// Resume continues the task with the host's answer.
func (e *Engine) Resume(id uint64, in Input) Step {
	resume, ok := e.tasks[id]
	if !ok {
		return fail(&Error{Code: CodeUnknownTask, Message: "no task is waiting with this id; each task can be resumed once"})
	}
	delete(e.tasks, id)
	return resume(in)
}

// Pending is the number of tasks waiting for the host.
func (e *Engine) Pending() int { return len(e.tasks) }

// Lint validates a document without loading it. opts name the user of an
// imported document (preset.WithUsername).
func (e *Engine) Lint(text []byte, opts ...preset.Option) Step {
	issues := preset.Lint(text, opts...)
	if issues == nil {
		issues = preset.Errors{}
	}
	return Step{Result: LintResult{Issues: issues, Hints: preset.LintHints(text, opts...)}}
}

// Load reads a preset document, or a document package preset imports (a
// Keboola configuration, whose user opts may name). When it refers to
// environment variables the step asks the host for them first; the host
// passes only those names.
func (e *Engine) Load(text []byte, opts ...preset.Option) Step {
	text = append([]byte(nil), text...)
	names := preset.EnvNames(text, opts...)
	if len(names) == 0 {
		return e.load(text, nil, opts)
	}
	return e.wait(Step{Env: names}, func(in Input) Step { return e.load(text, in.Env, opts) })
}

// Convert turns a Keboola generic-extractor configuration into the
// equivalent preset document, secrets replaced by ${env:NAME} references.
// It reads no environment variable; the result lists the ones the preset
// reads.
func (e *Engine) Convert(text []byte, opts ...preset.Option) Step {
	yaml, env, err := preset.Convert(text, opts...)
	if err != nil {
		issues, _ := err.(preset.Errors)
		if issues == nil {
			issues = preset.Errors{{Message: err.Error()}}
		}
		return fail(invalidPreset(issues))
	}
	if env == nil {
		env = []string{}
	}
	return Step{Result: ConvertResult{YAML: string(yaml), Env: env}}
}

func (e *Engine) load(text []byte, env map[string]string, opts []preset.Option) Step {
	accounts, err := preset.Load(text, env, opts...)
	if err != nil {
		issues, _ := err.(preset.Errors)
		if issues == nil {
			issues = preset.Errors{{Message: err.Error()}}
		}
		return fail(invalidPreset(issues))
	}
	oldAccounts, oldCache := e.accounts, e.cache
	e.accounts = make(map[string]*preset.Account, len(accounts))
	e.order = e.order[:0]
	e.cache = map[string]*entry{}
	e.meta = map[string]*metadata{}
	e.metaFail = map[string]*metaFailure{}
	e.dpopKeys = map[string]*jose.Key{}
	e.keys = map[string]string{}
	e.reqs = map[string]*httpmsg.Request{}
	for i := range accounts {
		a := &accounts[i]
		e.accounts[a.Username] = a
		e.order = append(e.order, a.Username)
	}
	if e.store != nil {
		e.store.forget() // its keys are cached by username
	}
	kept := e.carryOver(oldAccounts, oldCache)
	res := e.users()
	res.Kept = kept
	return Step{Result: res}
}

// Users lists the loaded service accounts, secrets left out.
func (e *Engine) Users() Step {
	if e.accounts == nil {
		return fail(notLoaded())
	}
	return Step{Result: e.users()}
}

func (e *Engine) users() UsersResult {
	out := UsersResult{Users: make([]UserInfo, 0, len(e.order))}
	for _, name := range e.order {
		a := *e.accounts[name]
		url := a.TokenURL
		if a.Issuer != "" {
			// A discovered preset shows its token endpoint and the auth
			// method in use once the metadata is known, the issuer before.
			url = a.Issuer
			if md := e.meta[a.Issuer]; md != nil && applyMetadata(&a, md) == nil {
				url = a.TokenURL
			}
		}
		out.Users = append(out.Users, UserInfo{
			Username: a.Username, Preset: a.Preset, URL: url, Issuer: a.Issuer, ClientID: a.ClientID,
			AuthMethod: a.AuthMethod, Scopes: a.Scopes, Audience: a.Audience, Resource: a.Resource,
		})
	}
	return out
}

// TokenRequest names the token a caller wants. Scopes, Audience and Resource
// override the account's own values when set; each distinct combination is
// cached on its own.
type TokenRequest struct {
	User     string   `json:"user"`
	Scopes   []string `json:"scopes,omitempty"`
	Audience string   `json:"audience,omitempty"`
	Resource []string `json:"resource,omitempty"`
	// Refresh asks for a new token even when the cached one is still fresh
	// (a host's refresh-ahead). While the endpoint is backing off after a
	// failure, the cached token is returned instead.
	Refresh bool `json:"refresh,omitempty"`
}

// Token returns a cached token or asks the host to fetch one.
func (e *Engine) Token(req TokenRequest) Step {
	a, errStep := e.account(req.User)
	if a == nil {
		return errStep
	}
	var acct *preset.Account
	var key string
	if req.Scopes == nil && req.Audience == "" && req.Resource == nil && a.Issuer == "" {
		// The common call: the account as loaded, nothing to copy.
		acct = a
		if key = e.keys[a.Username]; key == "" {
			key = cacheKey(a)
			e.keys[a.Username] = key
		}
	} else {
		c := *a
		acct = &c
		if req.Scopes != nil {
			acct.Scopes = req.Scopes
		}
		if req.Audience != "" {
			acct.Audience = req.Audience
		}
		if req.Resource != nil {
			acct.Resource = req.Resource
		}
		key = cacheKey(acct)
	}
	now := e.now()
	ent := e.cache[key]
	if ent != nil {
		if ent.token != nil && now.Before(ent.useUntil) && (!req.Refresh || now.Before(ent.refreshAt)) {
			return Step{Result: ent.result(acct)}
		}
		if ent.token == nil && now.Before(ent.blockedUntil) {
			err := *ent.lastErr
			err.RetryAt = ent.blockedUntil.UnixMilli()
			return fail(&err)
		}
	}
	if acct.Issuer == "" {
		return e.fetch(acct, key, req.Refresh, now)
	}
	withMeta := func(md *metadata) Step {
		if err := applyMetadata(acct, md); err != nil {
			return fail(err)
		}
		return e.fetch(acct, key, req.Refresh, e.now())
	}
	if md := e.meta[acct.Issuer]; md != nil {
		return withMeta(md)
	}
	return e.discover(acct, withMeta)
}

// requestToken asks the host to send acct's token request. retried is set
// for the one retry with a fresh DPoP nonce.
func (e *Engine) requestToken(acct *preset.Account, key string, now time.Time, retried bool) Step {
	if f := credentialFile(acct); f != nil {
		return e.readCredential(acct, f, func(a *preset.Account) Step { return e.requestToken(a, key, e.now(), retried) })
	}
	httpReq := e.reqs[key]
	if httpReq == nil || e.accounts[acct.Username] != acct {
		r, err := oauth.TokenRequest(acct, now, e.random)
		if err != nil {
			return fail(signingFailed(err, acct))
		}
		if err := e.dpopRequest(acct, &r); err != nil {
			return fail(err)
		}
		httpReq = &r
		if fixedRequest(acct) && e.accounts[acct.Username] == acct {
			httpReq.Kept = true // never changed from here on
			e.reqs[key] = httpReq
		}
	}
	// The assertion, if any, is scrubbed from whatever the server answers.
	var assertion string
	if acct.Key != nil || acct.FileAssertion != "" {
		if form, err := url.ParseQuery(httpReq.Body); err == nil {
			assertion = form.Get("client_assertion")
		}
	}
	return e.wait(Step{HTTP: httpReq}, func(in Input) Step { return e.tokenAnswer(acct, key, assertion, retried, in) })
}

// fixedRequest reports whether acct's token request is the same every
// time, so it can be built once: not for a JWT assertion (a new jti and
// iat each time), a DPoP proof or a discovered endpoint.
func fixedRequest(a *preset.Account) bool {
	return a.Key == nil && !a.DPoP && a.Issuer == "" && a.AuthMethod != preset.ClientSecretJWT && a.AuthMethod != preset.PrivateKeyJWT
}

func (e *Engine) tokenAnswer(acct *preset.Account, key, assertion string, retried bool, in Input) Step {
	now := e.now()
	var err error
	var tok *oauth.Token
	switch {
	case in.Response != nil:
		e.rememberNonce(acct.TokenURL, in.Response)
		tok, err = oauth.ParseTokenResponseDPoP(in.Response, acct.Scopes, now, acct.DefaultTTL, acct.DPoP)
	case in.Failure != nil:
		err = oauth.FailureError(in.Failure)
	default:
		err = &oauth.Error{Code: "invalid_response", Message: "the host resumed the token request with neither a response nor a failure"}
	}
	ent := e.cache[key]
	if err == nil {
		cur, still := e.accounts[acct.Username]
		if !still {
			return fail(unknownUser(acct.Username))
		}
		ent = newEntry(tok, now, acct)
		if !sameCredentials(cur, acct) {
			// A load changed the user while the request was under way:
			// the caller gets the token, the cache does not keep it.
			return Step{Result: ent.result(acct)}
		}
		e.cache[key] = ent
		return Step{Result: ent.result(acct)}
	}
	oerr, _ := err.(*oauth.Error)
	if oerr == nil {
		oerr = &oauth.Error{Code: "invalid_response", Message: err.Error()}
	}
	if acct.DPoP && !retried && oerr.Code == useDPoPNonce && in.Response.Get(dpopNonceHeader) != "" {
		// RFC 9449 §8: the server wants its nonce in the proof; the new
		// one is remembered, so one more request carries it.
		if _, still := e.accounts[acct.Username]; !still {
			return fail(unknownUser(acct.Username))
		}
		return e.requestToken(acct, key, now, true)
	}
	ferr := tokenError(oerr, acct, assertion)
	if f := in.Failure; f != nil && (f.Kind == httpmsg.FailClientCertificate || f.Kind == httpmsg.FailUnsupported) && acct.TLSClient != nil {
		// Name where the certificate or key was written, not the url.
		ferr.Field = acct.TLSCertField
		if f.Field == "tls_client_key" {
			ferr.Field = acct.TLSKeyField
		}
	}
	if ent == nil {
		ent = &entry{}
		e.cache[key] = ent
	}
	ent.lastErr = ferr
	ent.failures++
	delay := backoff(ent.failures, oerr.RetryAfter)
	if ent.token != nil && now.Before(ent.token.Expiry) {
		// Stale-if-error: the old token is still valid, keep serving it
		// until it expires and try again after the back-off.
		ent.useUntil = ent.token.Expiry
		ent.refreshAt = now.Add(delay)
		if ent.refreshAt.After(ent.useUntil) {
			ent.refreshAt = ent.useUntil
		}
		res := ent.result(acct)
		res.LastError = ferr
		return Step{Result: res}
	}
	ent.token = nil
	if oerr.RetryAfter > 0 {
		// The server asked us to wait; callers get the error at once
		// instead of hammering it.
		ent.blockedUntil = now.Add(oerr.RetryAfter)
		ferr.RetryAt = ent.blockedUntil.UnixMilli()
	}
	return fail(ferr)
}

// Invalidate drops every cached token of user, for instance after a
// resource server answered 401 invalid_token.
func (e *Engine) Invalidate(user string) Step {
	a, errStep := e.account(user)
	if a == nil {
		return errStep
	}
	prefix := user + "\x00"
	n := 0
	for k, ent := range e.cache {
		if strings.HasPrefix(k, prefix) {
			e.distrust(k, ent)
			delete(e.cache, k)
			n++
		}
	}
	return Step{Result: InvalidateResult{Dropped: n}}
}

func (e *Engine) account(user string) (*preset.Account, Step) {
	if e.accounts == nil {
		return nil, fail(notLoaded())
	}
	a, ok := e.accounts[user]
	if !ok {
		return nil, fail(unknownUser(user))
	}
	return a, Step{}
}

// cacheKey identifies one token: the user and what the token is for.
func cacheKey(a *preset.Account) string {
	scopes := append([]string(nil), a.Scopes...)
	sort.Strings(scopes)
	res := append([]string(nil), a.Resource...)
	sort.Strings(res)
	return a.Username + "\x00" + strings.Join(scopes, " ") + "\x00" + a.Audience + "\x00" + strings.Join(res, " ")
}

func fail(err *Error) Step { return Step{Error: err} }
