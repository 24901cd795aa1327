package engine

import (
	"crypto/rand"
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// entry is the cache slot of one (user, scopes, audience, resource).
type entry struct {
	token     *oauth.Token
	refreshAt time.Time // from here the host refreshes in the background
	useUntil  time.Time // after this callers wait for a new token

	headers map[string]string // what requests carry, made on first use

	failures     int
	lastErr      *Error
	blockedUntil time.Time // no token and the server said Retry-After
}

func newEntry(tok *oauth.Token, now time.Time, a *preset.Account) *entry {
	useUntil := tok.Expiry.Add(-a.RefreshSkew)
	if !useUntil.After(now) {
		// A token shorter-lived than the skew is still worth using once
		// rather than fetching again on every call: keep it for half its life.
		useUntil = now.Add(tok.Expiry.Sub(now) / 2)
	}
	life := useUntil.Sub(now)
	refreshAt := now.Add(time.Duration(float64(life) * a.RefreshAhead))
	if refreshAt.After(useUntil) {
		refreshAt = useUntil
	}
	return &entry{token: tok, refreshAt: refreshAt, useUntil: useUntil}
}

func (e *entry) result(a *preset.Account) TokenResult {
	t := e.token
	if e.headers == nil {
		// The same for every result of this entry: an entry lives as long
		// as its account stays the same (load keeps it only then), and
		// whoever changes a result's headers copies them first (Sign).
		e.headers = requestHeaders(t, a)
	}
	return TokenResult{
		User:         a.Username,
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		ExpiresAt:    t.Expiry.UnixMilli(),
		ExpirySource: t.ExpirySource,
		Scopes:       t.Scopes,
		RefreshAt:    e.refreshAt.UnixMilli(),
		UseUntil:     e.useUntil.UnixMilli(),
		Headers:      e.headers,
	}
}

// requestHeaders is what an authenticated request carries: the token, the
// user's own headers and its cookies.
func requestHeaders(t *oauth.Token, a *preset.Account) map[string]string {
	h := make(map[string]string, len(a.Headers)+2)
	if len(a.Headers) > 0 {
		for k, v := range a.Headers {
			h[k] = v // already canonical: the preset loader does that
		}
	}
	h["Authorization"] = t.TokenType + " " + t.AccessToken
	if len(a.Cookies) > 0 {
		names := make([]string, 0, len(a.Cookies))
		for n := range a.Cookies {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = n + "=" + a.Cookies[n]
		}
		h["Cookie"] = strings.Join(parts, "; ")
	}
	return h
}

// backoff is how long to wait before the n-th retry after a failure: an
// exponential series from 1 s capped at 60 s, with up to 20% jitter so that
// many instances do not retry in step; the server's Retry-After wins when it
// asks for longer.
func backoff(n int, retryAfter time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	d := time.Second << min(n-1, 6)
	if d > time.Minute {
		d = time.Minute
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err == nil {
		d -= time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(d/5))
	}
	if retryAfter > d {
		d = retryAfter
	}
	return d
}
