package host

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Store is a key-value store shared by many instances of a program, through
// which they share tokens (see docs/store.md). The
// module decides what to read, lock and write; a Store only performs it.
// Keys and values are opaque text: names derived from the credential and
// encrypted tokens. A Redis implementation is in package host/redisstore.
type Store interface {
	// Get returns the value of key; found is false when there is none.
	Get(ctx context.Context, key string) (value string, found bool, err error)
	// Set sets key to value, expiring after ttl.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// SetNX sets key to value, expiring after ttl, only if key is absent,
	// and reports whether it did (a lock: Redis SET NX PX).
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// DeleteIf deletes key if it still holds value (releasing a lock this
	// instance took, never one another instance took after it expired).
	DeleteIf(ctx context.Context, key, value string) error
}

// WithStore shares tokens with other instances through s: a token this
// instance needs is looked up there before it is fetched, only one instance
// fetches it while the others wait for it, and refreshes go through it too.
// A store that fails or answers slower than the store timeout counts as a
// miss; callers never see its errors.
func WithStore(s Store) Option { return func(o *options) { o.store = s } }

// WithStoreTimeout bounds each store operation (default 50 ms); a slower
// answer is a miss.
func WithStoreTimeout(d time.Duration) Option { return func(o *options) { o.storeTimeout = d } }

// WithStoreLock sets how long the lock an instance takes to fetch a token
// lives (default 5 s): instances waiting for its token fetch on their own
// once it has expired, so a holder that dies delays them at most this long.
func WithStoreLock(d time.Duration) Option { return func(o *options) { o.storeLock = d } }

// WithStoreSecret mixes a deployment secret into the name and the sealing
// of every token in the store: only instances given the same secret find
// or open them, and someone who can list the store's keys cannot test
// guesses of a client secret against the names (docs/store-security.md).
// Give every instance of one deployment the same random text of at least
// 16 bytes (e.g. openssl rand -base64 32); New refuses a shorter one.
// Changing it makes every instance fetch anew once.
func WithStoreSecret(secret string) Option { return func(o *options) { o.storeSecret = secret } }

type storeConfig struct {
	LockMS int64  `json:"lock_ms,omitempty"`
	Secret string `json:"secret,omitempty"`
}

type storeOp struct {
	Op      string `json:"op"`
	Key     string `json:"key"`
	Value   string `json:"value,omitempty"`
	TTLMS   int64  `json:"ttl_ms,omitempty"`
	DelayMS int64  `json:"delay_ms,omitempty"`
}

type storeReply struct {
	Found bool   `json:"found,omitempty"`
	Value string `json:"value,omitempty"`
	OK    bool   `json:"ok,omitempty"`
}

// storeLogInterval is how often store failures are logged at most.
const storeLogInterval = time.Minute

// storeState is the client's side of the shared store.
type storeState struct {
	s       Store
	timeout time.Duration
	lock    time.Duration
	secret  string

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

// performStore waits the delay the module asked for, then runs op within
// the store timeout. A failure or a late answer goes back as a failure,
// which the module counts as a miss.
func (c *Client) performStore(ctx context.Context, op *storeOp) (*storeReply, *httpFailure) {
	st := c.store
	if op.DelayMS > 0 {
		t := time.NewTimer(time.Duration(op.DelayMS) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &httpFailure{Kind: "canceled", Message: "the store wait was canceled"}
		}
	}
	sctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	// The operation runs on its own goroutine so that a store that ignores
	// its context still cannot hold the caller past the timeout.
	type outcome struct {
		r   storeReply
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		ttl := time.Duration(op.TTLMS) * time.Millisecond
		switch op.Op {
		case "get":
			o.r.Value, o.r.Found, o.err = st.s.Get(sctx, op.Key)
		case "put":
			o.err = st.s.Set(sctx, op.Key, op.Value, ttl)
		case "lock":
			o.r.OK, o.err = st.s.SetNX(sctx, op.Key, op.Value, ttl)
		case "unlock":
			o.err = st.s.DeleteIf(sctx, op.Key, op.Value)
		default:
			o.err = errors.New("unknown store operation " + strconvQuote(op.Op))
		}
		done <- o
	}()
	var (
		r   storeReply
		err error
	)
	select {
	case o := <-done:
		r, err = o.r, o.err
		if err == nil && sctx.Err() != nil {
			err = sctx.Err() // an answer after the deadline is still late
		}
	case <-sctx.Done():
		err = sctx.Err()
	}
	if err != nil {
		kind := "store"
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || sctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
			kind = "timeout"
		}
		c.storeFailed(op.Op, kind, err)
		return nil, &httpFailure{Kind: kind, Message: "the shared store failed"}
	}
	return &r, nil
}

// storeFailed logs a store failure, at most once per storeLogInterval,
// with how many were left out since the last line.
func (c *Client) storeFailed(op, kind string, err error) {
	st := c.store
	st.mu.Lock()
	now := time.Now()
	if !st.lastLog.IsZero() && now.Sub(st.lastLog) < storeLogInterval {
		st.suppressed++
		st.mu.Unlock()
		return
	}
	n := st.suppressed
	st.lastLog, st.suppressed = now, 0
	st.mu.Unlock()
	msg := "cctoken: shared store failed; fetching tokens without it"
	if kind == "timeout" {
		msg = "cctoken: shared store answered too late; fetching tokens without it"
	}
	c.log.Warn(msg, "op", op, "error", err.Error(), "timeout", st.timeout, "not_logged_since_last", n)
}
