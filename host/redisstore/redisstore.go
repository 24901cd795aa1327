// Package redisstore is a host.Store on Redis (or Valkey, or a Redis
// Cluster), for sharing tokens among many instances of a program.
//
// The module names every token and its fetch lock with the same Redis
// Cluster hash tag (cctoken:{…}:token and cctoken:{…}:lock), so both live in
// one slot. Values are sealed by the module; the store sees no token and no
// secret.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Store performs the module's store effects on Redis.
type Store struct {
	c      redis.UniversalClient
	prefix string
	hide   []string // the forms of the URL's password, kept out of errors
}

// New wraps a go-redis client (a *redis.Client, *redis.ClusterClient or
// *redis.Ring).
func New(c redis.UniversalClient) *Store { return &Store{c: c} }

// WithPrefix puts prefix before every key, to keep several applications
// apart in one database. The hash tag inside each key is kept.
func (s *Store) WithPrefix(prefix string) *Store { return &Store{c: s.c, prefix: prefix, hide: s.hide} }

// Open connects to the store at rawURL: redis://[user:password@]host:port[/db]
// or rediss:// for TLS, as go-redis parses them; redis+cluster:// (or
// rediss+cluster://) with one or more addr= parameters for a Redis Cluster.
// Timeouts are short and there are no retries: the host already counts a
// late or failed answer as a miss.
func Open(rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("redisstore: the store URL must look like redis://127.0.0.1:6379/0 (or rediss://, redis+cluster://)")
	}
	hide := passwordForms(rawURL, u)
	off := &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	quiet.Do(func() { redis.SetLogger(silent{}) })
	switch u.Scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: the store URL is not usable: %s", redact(err.Error(), hide))
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
		opt.MaxRetries = -1
		opt.ContextTimeoutEnabled = true
		opt.DisableIdentity = true
		opt.MaintNotificationsConfig = off
		return &Store{c: redis.NewClient(opt), hide: hide}, nil
	case "redis+cluster", "rediss+cluster":
		plain := strings.Replace(rawURL, "+cluster", "", 1)
		opt, err := redis.ParseClusterURL(plain)
		if err != nil {
			return nil, fmt.Errorf("redisstore: the store URL is not usable: %s", redact(err.Error(), hide))
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
		opt.MaxRetries = -1
		opt.ContextTimeoutEnabled = true
		opt.DisableIdentity = true
		opt.MaintNotificationsConfig = off
		return &Store{c: redis.NewClusterClient(opt), hide: hide}, nil
	}
	return nil, fmt.Errorf("redisstore: the store URL scheme %q is not supported; use redis://, rediss:// or redis+cluster://", redact(u.Scheme, hide))
}

// go-redis logs every failed dial on its own; the host already logs store
// failures, once a minute. Its logger is process-wide, so Open silences it
// once; programs that want its lines can set their own after Open.
var quiet sync.Once

type silent struct{}

func (silent) Printf(context.Context, string, ...any) {}

// passwordForms lists every form the password of rawURL can take in a
// message: as written in the URL, decoded, and encoded the ways Go's url
// package and others encode it. Longest first, so that a form containing
// another is replaced whole.
func passwordForms(rawURL string, u *url.URL) []string {
	p, ok := u.User.Password()
	if !ok || p == "" {
		return nil
	}
	forms := []string{p, url.QueryEscape(p), url.PathEscape(p), strings.TrimPrefix(url.UserPassword("", p).String(), ":")}
	// As written: between the first ':' of the userinfo and its '@'.
	if _, rest, ok := strings.Cut(rawURL, "://"); ok {
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end] // the authority
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, written, ok := strings.Cut(rest[:at], ":"); ok {
				forms = append(forms, written)
			}
		}
	}
	for _, f := range forms[:len(forms):len(forms)] {
		forms = append(forms, strings.ToLower(f), strings.ToUpper(f)) // %2f as well as %2F
	}
	var out []string
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// redact replaces every form of the password in msg.
func redact(msg string, hide []string) string {
	for _, f := range hide {
		msg = strings.ReplaceAll(msg, f, "xxxxx")
	}
	return msg
}

// redacted is an error whose message has the password taken out; the
// original stays reachable for errors.Is and errors.As (timeouts).
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// scrub takes the password out of err's message, if it is there.
func (s *Store) scrub(err error) error {
	if err == nil || len(s.hide) == 0 {
		return err
	}
	if msg := redact(err.Error(), s.hide); msg != err.Error() {
		return &redacted{msg: msg, err: err}
	}
	return err
}

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }

// Get returns the value of key.
func (s *Store) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := s.c.Get(ctx, s.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.scrub(err)
	}
	return v, true, nil
}

// Set sets key with an expiry (SET PX).
func (s *Store) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	return s.scrub(s.c.Set(ctx, s.prefix+key, value, ttl).Err())
}

// SetNX takes a lock: SET key value NX PX ttl.
func (s *Store) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	err := s.c.SetArgs(ctx, s.prefix+key, value, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil, s.scrub(err)
}

// unlock deletes the key only while it holds this instance's value.
var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// DeleteIf releases a lock this instance holds.
func (s *Store) DeleteIf(ctx context.Context, key, value string) error {
	return s.scrub(unlock.Run(ctx, s.c, []string{s.prefix + key}, value).Err())
}
