package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
	"github.com/cctoken/cctoken/wasm/internal/storekey"
)

// The shared store (ABI.md, "Shared store"). A host that has a store shared
// by many instances says so in load; from then on a token the engine would
// fetch is first looked up in the store, one instance takes a short lock and
// fetches while the others wait for its token to appear, and the fetched
// token is put back, sealed, for the others. Every store answer that is an
// error (or too late, which the host reports as a failure) counts as a miss:
// the instance then fetches on its own, as it would without a store.

// StoreConfig is load's "store": present when the host has a shared store.
type StoreConfig struct {
	// LockMS is how long a fetch lock lives (default 5000). Instances
	// waiting for another's fetch give up waiting after it.
	LockMS int64 `json:"lock_ms,omitempty"`
}

// DefaultLock is a fetch lock's lifetime unless the host sets lock_ms.
const DefaultLock = 5 * time.Second

// StoreOp is a store effect: get, put (with ttl_ms), lock (set value if the
// key is absent, with ttl_ms) or unlock (delete the key if it still holds
// value). DelayMS asks the host to wait that long before performing it.
type StoreOp struct {
	Op      string `json:"op"`
	Key     string `json:"key"`
	Value   string `json:"value,omitempty"`
	TTLMS   int64  `json:"ttl_ms,omitempty"`
	DelayMS int64  `json:"delay_ms,omitempty"`
}

// StoreReply is the host's answer to a store effect: Found and Value for
// get, OK for lock (true when this call took the lock).
type StoreReply struct {
	Found bool   `json:"found,omitempty"`
	Value string `json:"value,omitempty"`
	OK    bool   `json:"ok,omitempty"`
}

// storeState is the engine's side of the shared store.
type storeState struct {
	lock time.Duration
	// creds and names cache what is derived from credentials (HKDF, once
	// per credential) and store names (an HMAC, once per token): the wasm
	// build computes SHA-256 without assembly. Emptied by every load.
	creds map[string]*storekey.Credential
	names map[string]storekey.Names
	// refused holds, per cache key, the token last invalidated: a
	// resource server refused it, so the copy other instances put in the
	// store must not come back.
	refused map[string]string
}

// SetStore turns the shared store on (cfg non-nil) or off for the calls
// that follow; load calls it.
func (e *Engine) SetStore(cfg *StoreConfig) {
	if cfg == nil {
		e.store = nil
		return
	}
	lock := time.Duration(cfg.LockMS) * time.Millisecond
	if lock <= 0 {
		lock = DefaultLock
	}
	e.store = &storeState{lock: lock, creds: map[string]*storekey.Credential{}, names: map[string]storekey.Names{}, refused: map[string]string{}}
}

// credential is what the store names and seals a token with: the client
// secret, or the private key of private_key_jwt or of a client
// certificate given inline. nil means the token is not shared: DPoP-bound
// tokens only work with this instance's own key, and a certificate key in
// a file is read by the host, so the module has no secret to derive from.
func credential(a *preset.Account) []byte {
	switch {
	case a.DPoP:
		return nil
	case a.ClientSecret != "":
		return []byte(a.ClientSecret)
	case a.PrivateKeyText() != "":
		return []byte(a.PrivateKeyText())
	case a.TLSClient != nil && a.TLSClient.KeyPEM != "":
		return []byte(a.TLSClient.KeyPEM)
	}
	return nil
}

// fetch gets acct's token through the shared store when there is one, and
// straight from the token endpoint otherwise.
func (e *Engine) fetch(acct *preset.Account, key string, refresh bool, now time.Time) Step {
	cred := credential(acct)
	if e.store == nil || cred == nil {
		return e.requestToken(acct, key, now, false)
	}
	nk := key + "\x00" + acct.TokenURL + "\x00" + acct.ClientID + "\x00" + string(cred)
	names, ok := e.store.names[nk]
	if !ok {
		c := e.store.creds[string(cred)]
		if c == nil {
			var err error
			if c, err = storekey.NewCredential(cred); err != nil {
				return e.requestToken(acct, key, now, false)
			}
			e.store.creds[string(cred)] = c
		}
		names = c.Names(storekey.What{
			Endpoint: acct.TokenURL, ClientID: acct.ClientID, Scopes: acct.Scopes, Audience: acct.Audience, Resource: acct.Resource,
		})
		e.store.names[nk] = names
	}
	f := &storeFetch{e: e, acct: acct, key: key, names: names, refresh: refresh, lock: e.store.lock}
	return f.get(0)
}

// storeFetch is one token call going through the store.
type storeFetch struct {
	e       *Engine
	acct    *preset.Account
	key     string
	names   storekey.Names
	refresh bool
	lock    time.Duration

	waiting  bool      // another instance holds the lock; polling for its token
	deadline time.Time // stop polling then and try the lock again
	polls    int
	rounds   int // lock attempts so far
}

func (f *storeFetch) effect(op StoreOp, then func(Input) Step) Step {
	return f.e.wait(Step{Store: &op}, then)
}

// get, tryLock and recheck are not inlined: each is called from several
// closures, and inlined copies cost about 3 kB of the gzipped module.
//
//go:noinline
func (f *storeFetch) get(delay time.Duration) Step {
	return f.effect(StoreOp{Op: "get", Key: f.names.Token, DelayMS: delay.Milliseconds()}, func(in Input) Step {
		if in.Store == nil {
			// A failure (or no answer at all): the store is no help now.
			return f.e.requestToken(f.acct, f.key, f.e.now(), false)
		}
		if in.Store.Found {
			if s, ok := f.adopt(in.Store.Value); ok {
				return s
			}
		}
		if f.waiting && f.e.now().Before(f.deadline) {
			return f.get(f.nextDelay())
		}
		return f.tryLock()
	})
}

// nextDelay spaces the polls of a waiting instance: 10 ms doubling to
// 250 ms.
func (f *storeFetch) nextDelay() time.Duration {
	f.polls++
	d := 10 * time.Millisecond << min(f.polls-1, 5)
	return min(d, 250*time.Millisecond)
}

// adopt takes a token from the store when it is one this instance can use:
// it opens with this credential, is still in its usable life and, for a
// refresh, is newer than the cached one.
func (f *storeFetch) adopt(value string) (Step, bool) {
	rec, err := f.names.Open(value)
	if err != nil {
		return Step{}, false
	}
	if f.e.store.refused[f.key] == rec.AccessToken {
		return Step{}, false
	}
	now := f.e.now()
	tok := &oauth.Token{AccessToken: rec.AccessToken, TokenType: rec.TokenType, Expiry: rec.Expiry,
		Lifetime: rec.Expiry.Sub(rec.Obtained), ExpirySource: rec.ExpirySource, Scopes: rec.Scopes}
	ent := newEntry(tok, rec.Obtained, f.acct)
	if !now.Before(ent.useUntil) {
		return Step{}, false
	}
	if old := f.e.cache[f.key]; f.refresh && old != nil && old.token != nil && !rec.Expiry.After(old.token.Expiry) {
		return Step{}, false
	}
	if _, still := f.e.accounts[f.acct.Username]; !still {
		return fail(unknownUser(f.acct.Username)), true
	}
	f.e.cache[f.key] = ent
	return Step{Result: ent.result(f.acct)}, true
}

//go:noinline
func (f *storeFetch) tryLock() Step {
	f.rounds++
	owner := lockOwner()
	return f.effect(StoreOp{Op: "lock", Key: f.names.Lock, Value: owner, TTLMS: f.lock.Milliseconds()}, func(in Input) Step {
		switch {
		case in.Store == nil:
			return f.e.requestToken(f.acct, f.key, f.e.now(), false)
		case in.Store.OK:
			return f.recheck(owner)
		}
		now := f.e.now()
		if old := f.e.cache[f.key]; f.refresh && old != nil && old.token != nil && now.Before(old.useUntil) {
			// Another instance is refreshing: keep serving the cached
			// token and look for the new one shortly.
			old.refreshAt = now.Add(min(f.lock/10, 250*time.Millisecond))
			return Step{Result: old.result(f.acct)}
		}
		if f.rounds > 2 {
			// Two lock lifetimes without a token: fetch on our own.
			return f.e.requestToken(f.acct, f.key, f.e.now(), false)
		}
		f.waiting, f.polls, f.deadline = true, 0, now.Add(f.lock)
		return f.get(f.nextDelay())
	})
}

// recheck looks at the store once more after taking the lock: another
// instance may have put the token and released its lock between this
// instance's get and its lock, and fetching again would cost a request.
//
//go:noinline
func (f *storeFetch) recheck(owner string) Step {
	return f.effect(StoreOp{Op: "get", Key: f.names.Token}, func(in Input) Step {
		if in.Store != nil && in.Store.Found {
			if s, ok := f.adopt(in.Store.Value); ok {
				return f.effect(StoreOp{Op: "unlock", Key: f.names.Lock, Value: owner}, func(Input) Step { return s })
			}
		}
		return f.fetchHolding(owner)
	})
}

// fetchHolding sends the token request while holding the lock, then puts
// the token in the store and releases the lock.
func (f *storeFetch) fetchHolding(owner string) Step {
	return f.e.finally(f.e.requestToken(f.acct, f.key, f.e.now(), false), func(s Step) Step {
		unlock := func() Step {
			return f.effect(StoreOp{Op: "unlock", Key: f.names.Lock, Value: owner}, func(Input) Step { return s })
		}
		res, ok := s.Result.(TokenResult)
		ent := f.e.cache[f.key]
		if !ok || res.LastError != nil || ent == nil || ent.token == nil {
			return unlock()
		}
		ttl := ent.token.Expiry.Sub(f.e.now())
		value, err := f.names.Seal(storekey.Record{
			AccessToken: ent.token.AccessToken, TokenType: ent.token.TokenType, ExpirySource: ent.token.ExpirySource,
			Scopes: ent.token.Scopes, Expiry: ent.token.Expiry, Obtained: ent.token.Expiry.Add(-ent.token.Lifetime),
		})
		if err != nil || ttl < time.Millisecond {
			return unlock()
		}
		return f.effect(StoreOp{Op: "put", Key: f.names.Token, Value: value, TTLMS: ttl.Milliseconds()}, func(Input) Step { return unlock() })
	})
}

// finally runs after on the final step (a result or an error) of s,
// however many effects s still goes through.
func (e *Engine) finally(s Step, after func(Step) Step) Step {
	if s.Task == 0 {
		return after(s)
	}
	t := e.tasks[s.Task]
	if t == nil {
		return after(s)
	}
	inner := t.resume
	t.resume = func(in Input) Step { return e.finally(inner(in), after) }
	return s
}

// distrust remembers an invalidated token so that the store cannot hand
// it back.
func (e *Engine) distrust(key string, ent *entry) {
	if e.store != nil && ent != nil && ent.token != nil {
		e.store.refused[key] = ent.token.AccessToken
	}
}

// lockOwner is a fresh random lock value, so that an instance only ever
// releases a lock it took itself.
func lockOwner() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// carryOver keeps the cache entries of users that are the same in the new
// load as in the old one and lists them; everything else is dropped.
func (e *Engine) carryOver(old map[string]*preset.Account, oldCache map[string]*entry) []string {
	var kept []string
	for _, name := range e.order {
		prev := old[name]
		if prev == nil || !sameAccount(prev, e.accounts[name]) || prev.DPoP {
			// A DPoP-bound token needs the user's DPoP key, which load
			// makes anew.
			continue
		}
		kept = append(kept, name)
		prefix := name + "\x00"
		for k, ent := range oldCache {
			if strings.HasPrefix(k, prefix) {
				e.cache[k] = ent
			}
		}
	}
	return kept
}

// sameCredentials reports whether a token fetched for acct (a copy of an
// account, possibly with other scopes, audience or resource, or with
// discovered endpoint and method) may be cached for cur: same account in
// the same load or a load that left it unchanged.
func sameCredentials(cur, acct *preset.Account) bool {
	return cur.ClientID == acct.ClientID && cur.ClientSecret == acct.ClientSecret &&
		cur.PrivateKeyText() == acct.PrivateKeyText() && sameTLSClient(cur.TLSClient, acct.TLSClient) &&
		cur.Issuer == acct.Issuer && (cur.TokenURL == "" || cur.TokenURL == acct.TokenURL)
}

// sameAccount reports whether two loads describe the same account: same
// credentials, endpoint and everything else a token or its headers depend
// on. Only the position in the document may differ. The parsed signing
// key is compared through the private_key text it came from; everything
// else through its JSON form (map keys sorted, so it is canonical), which
// takes in fields added to Account later without a change here and costs
// the module no reflection code beyond what encoding/json already has.
func sameAccount(a, b *preset.Account) bool {
	x, y := *a, *b
	x.Preset, x.Index, x.PresetName, x.Key = 0, 0, "", nil
	y.Preset, y.Index, y.PresetName, y.Key = 0, 0, "", nil
	jx, errx := json.Marshal(&x)
	jy, erry := json.Marshal(&y)
	return errx == nil && erry == nil && a.PrivateKeyText() == b.PrivateKeyText() && bytes.Equal(jx, jy)
}

func sameTLSClient(a, b *httpmsg.TLSClient) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
