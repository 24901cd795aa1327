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
// requests perform sends for it.
type requestCount struct{}

func countRequest(ctx context.Context) {
	if n, ok := ctx.Value(requestCount{}).(*atomic.Int32); ok {
		n.Add(1)
	}
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
	n := new(atomic.Int32)
	return context.WithValue(ctx, requestCount{}, n), func(tok *Token, res *tokenResult, err error) {
		ev := TokenFetch{User: user, Refresh: refresh, Outcome: "ok", Requests: int(n.Load()), Duration: time.Since(start)}
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
