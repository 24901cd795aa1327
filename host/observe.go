package host

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Observer learns what a Client does with token endpoints, so a program
// can export metrics or health without the library depending on a metrics
// package. Its methods are called from the goroutine that fetches the
// token and must return quickly. Events never carry a token or a secret.
type Observer interface {
	// TokenFetchStarted is called when a token fetch for user starts
	// (one per fetch, however many callers wait for it).
	TokenFetchStarted(user string)
	// TokenFetchDone is called when that fetch ends.
	TokenFetchDone(TokenFetch)
}

// TokenFetch is the end of one token fetch.
type TokenFetch struct {
	User string
	// Refresh marks a refresh ahead of expiry, made while the cached token
	// was still served.
	Refresh bool
	// Outcome is "ok", or the error code (invalid_client, network,
	// timeout, ...: Error.Code) of a fetch that failed. A refresh that
	// failed while the cached token stays in use has that failure's code.
	Outcome string
	// Requests is how many HTTP requests the fetch sent to the token
	// endpoint (and its issuer's metadata): 0 when the token came from
	// the shared store.
	Requests int
	Duration time.Duration
	// Expiry is when the token the user has now expires; zero when the
	// fetch failed and left none.
	Expiry time.Time
}

// WithObserver makes the client report each token fetch to o.
func WithObserver(o Observer) Option { return func(opts *options) { opts.observer = o } }

// requestCount is the context key under which a fetch counts the HTTP
// requests perform sends for it (a *fetchCounter).
type requestCount struct{}

type fetchCounter struct {
	n atomic.Int32
	// first, when set, is called before the first request is counted: an
	// operation other than token (the module's answer op fetching a new
	// token after invalid_token) becomes a fetch only once it sends one.
	first func()
}

func countRequest(ctx context.Context) {
	if f, ok := ctx.Value(requestCount{}).(*fetchCounter); ok {
		if f.n.Add(1) == 1 && f.first != nil {
			f.first()
		}
	}
}

// runObserved runs an operation other than token for the observer: when
// the module has it send requests (a token fetched inside the answer op),
// they are reported as a fetch of req.User.
func (c *Client) runObserved(ctx context.Context, req call, out any) error {
	start := time.Now()
	f := &fetchCounter{first: func() { c.observer.TokenFetchStarted(req.User) }}
	err := c.run(context.WithValue(ctx, requestCount{}, f), req, out)
	if n := f.n.Load(); n > 0 {
		ev := TokenFetch{User: req.User, Outcome: "ok", Requests: int(n), Duration: time.Since(start)}
		var he *Error
		switch {
		case errors.As(err, &he):
			ev.Outcome = he.Code
		case err != nil:
			ev.Outcome = "error"
		}
		// The new token's expiry is not in this operation's result; the
		// next Token call (a memo miss) reports it.
		c.observer.TokenFetchDone(ev)
	}
	return err
}

// observed wraps one fetch for the client's observer; without one it
// costs nothing.
func (c *Client) observed(ctx context.Context, user string, refresh bool) (context.Context, func(*Token, *tokenResult, error)) {
	o := c.observer
	if o == nil {
		return ctx, func(*Token, *tokenResult, error) {}
	}
	o.TokenFetchStarted(user)
	start := time.Now()
	f := &fetchCounter{}
	return context.WithValue(ctx, requestCount{}, f), func(tok *Token, res *tokenResult, err error) {
		ev := TokenFetch{User: user, Refresh: refresh, Outcome: "ok", Requests: int(f.n.Load()), Duration: time.Since(start)}
		if tok != nil {
			ev.Expiry = tok.Expiry
		}
		var he *Error
		switch {
		case errors.As(err, &he):
			ev.Outcome = he.Code
		case err != nil:
			ev.Outcome = "error"
		case res != nil && res.LastError != nil:
			ev.Outcome = res.LastError.Code
		}
		o.TokenFetchDone(ev)
	}
}
