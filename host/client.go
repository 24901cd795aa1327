// Package host runs the cctoken module in Go programs with wazero.
//
// A Client loads a preset and hands out client-credentials tokens for its
// users. The module decides everything about a token (how to ask for it, how
// long to use it, when to refresh it, how to back off); the Client performs
// the HTTP requests the module asks for, shares one request among concurrent
// callers, and keeps the module's last answer as a memo so that a cached
// token costs no call into wasm.
//
// # Examples
//
// Each example runs in go test against a token endpoint on 127.0.0.1 and
// checks its output; go doc -http shows them with their code:
//
//   - Example: New and Token
//   - ExampleClient_Transport: requests sent as a user
//   - ExampleError: an endpoint's refusal, compared with a Code constant
//   - ExampleLint and ExampleNew_invalidPreset: every problem of a preset
//   - ExampleCheckMetadata: Discovery and CheckMetadata, for a relay
//   - ExampleTokenSource in package host/xoauth2: the golang.org/x/oauth2
//     adapter
//
// # Errors
//
// Failures the module decides are an *Error; its Code is one of the Code
// constants, each documented where it is declared, or the OAuth error a
// token endpoint answered.
package host

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client hands out tokens for the users of one preset document. It is safe
// for concurrent use.
type Client struct {
	inst  *instance
	http  *http.Client
	certs certClients // per client certificate, for mutual TLS
	log   *slog.Logger
	env   func(string) (string, bool)
	store *storeState // nil without WithStore
	// username names the user of an imported document (WithUsername);
	// Reload uses it again.
	username string

	// users and slots are replaced whole by Reload (reload.go). slots
	// holds each user's default token; the cached path reads it with one
	// atomic load and no lock. Tokens asked for with options live in memos.
	users   atomic.Pointer[[]User]
	slots   atomic.Pointer[map[string]*slot]
	reload  sync.Mutex
	badLoad string   // the last refused document's error, logged once
	memos   sync.Map // user + options -> *slot
	flights struct {
		sync.Mutex
		m map[string]*flight
	}
	timeout  time.Duration
	observer Observer // nil without WithObserver
	closed   atomic.Bool
	done     chan struct{} // closed by Close: idle flight workers leave
	workers  flightWorkers
	epoch    time.Time // start of the monotonic clock memos use
}

// User describes one service account of the loaded preset, without its
// secret.
type User struct {
	Username string `json:"username"`
	Preset   int    `json:"preset"`
	// URL is the token endpoint; for a preset that gives an issuer, the
	// issuer until its metadata has been fetched.
	URL        string   `json:"url"`
	Issuer     string   `json:"issuer,omitempty"`
	ClientID   string   `json:"client_id"`
	AuthMethod string   `json:"auth_method"`
	Scopes     []string `json:"scopes,omitempty"`
	Audience   string   `json:"audience,omitempty"`
	Resource   []string `json:"resource,omitempty"`
}

// Option configures a Client.
type Option func(*options)

type options struct {
	cacheDir string
	http     *http.Client
	log      *slog.Logger
	env      func(string) (string, bool)
	timeout  time.Duration
	username string
	observer Observer

	store        Store
	storeTimeout time.Duration
	storeLock    time.Duration
	storeSecret  string
}

// WithCacheDir sets where compiled modules are cached across runs; "" turns
// the cache off. The default is DefaultCacheDir().
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithHTTPClient sets the client token requests go through. Its redirect
// policy is replaced: token requests never follow redirects.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.http = c } }

// WithLogger makes the client log token fetches and failures. Tokens and
// secrets are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithEnv sets how ${env:NAME} references in the preset are resolved; the
// default is os.LookupEnv. Only the names the preset refers to are looked up.
func WithEnv(lookup func(string) (string, bool)) Option { return func(o *options) { o.env = lookup } }

// WithUsername names the user of an imported document that has no
// usernames of its own (a Keboola generic-extractor configuration); the
// default is "keboola". Preset documents ignore it. New, Lint and Convert
// take it.
func WithUsername(name string) Option { return func(o *options) { o.username = name } }

// WithTimeout bounds one token request, from connecting to reading the last
// byte (default 30 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// New loads a preset document (YAML or JSON) and returns a client for its
// users. A document that does not load gives an *Error with code
// invalid_preset listing every issue.
func New(ctx context.Context, preset []byte, opts ...Option) (*Client, error) {
	o := options{cacheDir: DefaultCacheDir(), env: os.LookupEnv, timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	inst, err := instantiate(ctx, o.cacheDir)
	if err != nil {
		return nil, err
	}
	c := &Client{inst: inst, env: o.env, timeout: o.timeout, log: o.log, epoch: time.Now(), username: o.username, observer: o.observer}
	if o.store != nil {
		c.store = &storeState{s: o.store, timeout: o.storeTimeout, lock: o.storeLock, secret: o.storeSecret}
		if c.store.timeout <= 0 {
			c.store.timeout = 50 * time.Millisecond
		}
		if c.store.lock <= 0 {
			c.store.lock = 5 * time.Second
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.http = noRedirects(o.http, o.timeout)
	c.flights.m = map[string]*flight{}
	c.done = make(chan struct{})
	c.workers.jobs = make(chan func())
	var users loadResult
	if err := c.run(ctx, c.loadCall(preset), &users); err != nil {
		inst.close(ctx)
		return nil, err
	}
	slots := make(map[string]*slot, len(users.Users))
	for _, u := range users.Users {
		slots[u.Username] = &slot{}
	}
	c.users.Store(&users.Users)
	c.slots.Store(&slots)
	return c, nil
}

// Users lists the preset's service accounts in document order.
func (c *Client) Users() []User { return append([]User(nil), *c.users.Load()...) }

// Close releases the module instance. Tokens in flight fail with an error.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	close(c.done)
	c.certs.closeIdle()
	return c.inst.close(context.Background())
}

// TokenOption asks for a token other than the user's default one. Each
// distinct combination is fetched and cached on its own.
type TokenOption func(*call)

// WithScopes asks for these scopes instead of the user's.
func WithScopes(scopes ...string) TokenOption { return func(c *call) { c.Scopes = scopes } }

// WithAudience asks for a token for this audience instead of the user's.
func WithAudience(aud string) TokenOption { return func(c *call) { c.Audience = aud } }

// WithResource asks for a token for these resources (RFC 8707) instead of
// the user's.
func WithResource(res ...string) TokenOption { return func(c *call) { c.Resource = res } }

// Token returns a valid token for user. A cached token is returned at once;
// past its refresh point it is still returned while a refresh runs in the
// background; only a caller with no usable token waits, and concurrent
// callers share one request.
func (c *Client) Token(ctx context.Context, user string, opts ...TokenOption) (*Token, error) {
	if c.closed.Load() {
		return nil, errClosed
	}
	// The options struct is made only when there are options, so the
	// cached path allocates nothing.
	key, extra := user, (*call)(nil)
	if len(opts) > 0 {
		extra = &call{}
		for _, opt := range opts {
			opt(extra)
		}
		key = memoKey(user, extra)
	}
	if s := c.slot(key, extra != nil); s != nil {
		if m := s.p.Load(); m != nil {
			now := time.Since(c.epoch) // one monotonic clock read
			if now < m.useUntil {
				if now >= m.refreshAt {
					c.startFlight(key, user, extra, true)
				}
				return m.tok, nil
			}
		}
	}
	if (*c.slots.Load())[user] == nil {
		return nil, &Error{Code: CodeUnknownUser, Field: "user", Message: "no user " + strconvQuote(user) + " in the preset; use one of the usernames it lists"}
	}
	f := c.startFlight(key, user, extra, false)
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Header returns the headers an authenticated request of user carries: its
// Authorization header, its own headers and its cookies.
func (c *Client) Header(ctx context.Context, user string, opts ...TokenOption) (http.Header, error) {
	tok, err := c.Token(ctx, user, opts...)
	if err != nil {
		return nil, err
	}
	return tok.header.Clone(), nil
}

// Invalidate drops every cached token of user, so the next call fetches a
// new one. Use it when a resource server refuses a token.
func (c *Client) Invalidate(ctx context.Context, user string) error {
	c.dropMemos(user)
	return c.run(ctx, call{Op: "invalidate", User: user}, &invalidateResult{})
}

// dropMemos forgets the host's memos of user, after the module dropped
// its tokens.
func (c *Client) dropMemos(user string) {
	prefix := user + "\x00"
	if s := (*c.slots.Load())[user]; s != nil {
		s.p.Store(nil)
	}
	c.memos.Range(func(k, v any) bool {
		if s := k.(string); s == user || strings.HasPrefix(s, prefix) {
			v.(*slot).p.Store(nil)
		}
		return true
	})
}

// flight is one token request shared by every caller that needs it.
type flight struct {
	done chan struct{}
	tok  *Token
	err  error
}

type slot struct{ p atomic.Pointer[memo] }

// memoOf converts the module's answer into a memo on the monotonic clock.
func (c *Client) memoOf(tok *Token, res *tokenResult) *memo {
	now := time.Now()
	mono := now.Sub(c.epoch)
	return &memo{
		tok:       tok,
		refreshAt: mono + time.UnixMilli(res.RefreshAt).Sub(now),
		useUntil:  mono + time.UnixMilli(res.UseUntil).Sub(now),
	}
}

// slot finds the memo slot of key, nil when there is none yet.
func (c *Client) slot(key string, withOptions bool) *slot {
	if !withOptions {
		return (*c.slots.Load())[key]
	}
	if v, ok := c.memos.Load(key); ok {
		return v.(*slot)
	}
	return nil
}

// slotFor finds or makes the memo slot of key.
func (c *Client) slotFor(key string, withOptions bool) *slot {
	if !withOptions {
		return (*c.slots.Load())[key]
	}
	v, _ := c.memos.LoadOrStore(key, &slot{})
	return v.(*slot)
}

type memo struct {
	tok *Token
	// On the client's monotonic clock (time since epoch): the module's wall
	// clock times converted when the memo is stored, so a cached check costs
	// one clock read and a wall clock step cannot stretch a token's life.
	refreshAt time.Duration
	useUntil  time.Duration
}

// startFlight joins the request in flight for key or starts one. refresh
// marks a background refresh-ahead.
func (c *Client) startFlight(key, user string, extra *call, refresh bool) *flight {
	c.flights.Lock()
	if f := c.flights.m[key]; f != nil {
		c.flights.Unlock()
		return f
	}
	f := &flight{done: make(chan struct{})}
	c.flights.m[key] = f
	c.flights.Unlock()

	// The slot this flight fills: a Reload that changes the user replaces
	// it, and then the token fetched with the old settings is not kept.
	target := c.slotFor(key, extra != nil)
	req := call{Op: "token", User: user, Refresh: refresh}
	if extra != nil {
		req.Scopes, req.Audience, req.Resource = extra.Scopes, extra.Audience, extra.Resource
	}
	c.goFlight(func() {
		// Detached from any one caller: the request serves them all and is
		// bounded by the client's timeout instead.
		// With a store, waiting for another instance's fetch can add up
		// to two lock lifetimes.
		bound := c.timeout + 5*time.Second
		if c.store != nil {
			bound += 2 * c.store.lock
		}
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		ctx, done := c.observed(ctx, user, refresh)
		var res tokenResult
		err := c.run(ctx, req, &res)
		if err == nil {
			f.tok = newToken(&res)
			if target != nil && c.slot(key, extra != nil) == target {
				target.p.Store(c.memoOf(f.tok, &res))
			}
			if res.LastError != nil {
				c.log.Warn("cctoken: token refresh failed; serving the cached token", "user", user, "code", res.LastError.Code, "retry_at", time.UnixMilli(res.RefreshAt))
			} else {
				c.log.Debug("cctoken: token fetched", "user", user, "expires_at", f.tok.Expiry, "expiry_source", f.tok.ExpirySource)
			}
		} else {
			f.err = err
			c.log.Warn("cctoken: token request failed", "user", user, "error", err)
		}
		done(f.tok, &res, err)
		c.flights.Lock()
		delete(c.flights.m, key)
		c.flights.Unlock()
		close(f.done)
	})
	return f
}

// flightWorkers keeps up to maxIdleWorkers goroutines that ran a flight
// waiting a while for the next one. A new goroutine's stack grows again
// for every fetch (the module calls and the HTTP exchange run deep), which
// cost about 10 µs of each one.
type flightWorkers struct {
	jobs chan func() // unbuffered: a send succeeds only to an idle worker
	idle atomic.Int32
}

const (
	maxIdleWorkers = 2
	workerIdle     = 30 * time.Second
)

// goFlight runs f on an idle worker, or on a new goroutine.
func (c *Client) goFlight(f func()) {
	select {
	case c.workers.jobs <- f:
	default:
		go c.worker(f)
	}
}

func (c *Client) worker(f func()) {
	var t *time.Timer
	for {
		f()
		if c.workers.idle.Add(1) > maxIdleWorkers {
			c.workers.idle.Add(-1)
			return
		}
		if t == nil {
			t = time.NewTimer(workerIdle)
		} else {
			t.Reset(workerIdle)
		}
		select {
		case f = <-c.workers.jobs:
			c.workers.idle.Add(-1)
		case <-t.C:
			c.workers.idle.Add(-1)
			return
		case <-c.done:
			c.workers.idle.Add(-1)
			t.Stop()
			return
		}
	}
}

// run drives one operation to its end, performing every effect the module
// asks for, and decodes the result into out.
func (c *Client) run(ctx context.Context, req call, out any) error {
	if c.closed.Load() {
		return errClosed
	}
	if c.observer != nil && req.Op != "token" && req.User != "" && ctx.Value(requestCount{}) == nil {
		return c.runObserved(ctx, req, out)
	}
	a, err := c.inst.do(ctx, req)
	for err == nil {
		switch {
		case a.HTTP != nil:
			resp, failure := c.perform(ctx, a.HTTP)
			a, err = c.inst.resumeHTTP(ctx, a.Task, resp, failure)
		case a.Env != nil:
			env := make(map[string]string, len(a.Env))
			for _, name := range a.Env {
				if v, ok := c.env(name); ok {
					env[name] = v
				}
			}
			a, err = c.inst.do(ctx, call{Op: "resume", Task: a.Task, Env: env})
		case a.File != nil:
			reply, failure := readCredentialFile(a.File)
			a, err = c.inst.do(ctx, call{Op: "resume", Task: a.Task, File: reply, Failure: failure})
		case a.Store != nil && c.store != nil:
			reply, failure := c.performStore(ctx, a.Store)
			a, err = c.inst.do(ctx, call{Op: "resume", Task: a.Task, StoreReply: reply, Failure: failure})
		case a.Store != nil:
			// The module asks for a store this client never offered.
			a, err = c.inst.do(ctx, call{Op: "resume", Task: a.Task, Failure: &httpFailure{Kind: "store", Message: "this host has no shared store"}})
		case a.Error != nil:
			return a.Error
		default:
			if out != nil && a.Result != nil {
				return decodeAnswer(a.Result, out)
			}
			return nil
		}
	}
	if c.closed.Load() {
		return errClosed
	}
	return err
}

var errClosed = errors.New("cctoken: client is closed")

// memoKey names the token of user asked for with options: user, a NUL
// (Invalidate finds a user's memos by it), then scopes, audience and
// resources, each length-prefixed so no two option sets share a key; a nil
// list and an empty one differ, as they do for the module.
func memoKey(user string, c *call) string {
	var arr [128]byte
	b := append(arr[:0], user...)
	b = append(b, 0)
	b = appendKeyList(b, c.Scopes)
	b = strconv.AppendInt(b, int64(len(c.Audience)), 10)
	b = append(b, ':')
	b = append(b, c.Audience...)
	b = appendKeyList(b, c.Resource)
	return string(b)
}

func appendKeyList(b []byte, l []string) []byte {
	if l == nil {
		return append(b, '-')
	}
	b = strconv.AppendInt(b, int64(len(l)), 10)
	b = append(b, '[')
	for _, s := range l {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return b
}

// Lint checks a preset document and returns every issue in it (none when
// it is clean). ${env:NAME} references are taken as set.
func Lint(ctx context.Context, preset []byte, opts ...Option) ([]Issue, error) {
	issues, _, err := LintHints(ctx, preset, opts...)
	return issues, err
}

// LintHints is Lint with the hints: not errors, but rules of a provider
// recognised from a token URL that the preset breaks (an Entra ID v2
// endpoint with a scope not ending in /.default, Auth0 without audience).
func LintHints(ctx context.Context, preset []byte, opts ...Option) (issues, hints []Issue, err error) {
	var res lintResult
	err = once(ctx, opts, func(o *options) call { return call{Op: "lint", Text: string(preset), Username: o.username} }, &res)
	return res.Issues, res.Hints, err
}

// Convert turns a Keboola generic-extractor configuration into the
// equivalent preset YAML, with the client secret (and a client id Keboola
// keeps encrypted) replaced by ${env:NAME} references, and lists the
// environment variables that preset reads (names only). A configuration
// cctoken cannot use, or a document that is already a preset, gives an
// *Error with code invalid_preset listing every issue.
func Convert(ctx context.Context, text []byte, opts ...Option) (yaml string, env []string, err error) {
	var res convertResult
	err = once(ctx, opts, func(o *options) call { return call{Op: "convert", Text: string(text), Username: o.username} }, &res)
	return res.YAML, res.Env, err
}

// once runs one call that needs no effects on a fresh instance.
func once(ctx context.Context, opts []Option, mk func(*options) call, out any) error {
	o := options{cacheDir: DefaultCacheDir()}
	for _, opt := range opts {
		opt(&o)
	}
	inst, err := instantiate(ctx, o.cacheDir)
	if err != nil {
		return err
	}
	defer inst.close(ctx)
	a, err := inst.do(ctx, mk(&o))
	if err != nil {
		return err
	}
	if a.Error != nil {
		return a.Error
	}
	return decodeAnswer(a.Result, out)
}
