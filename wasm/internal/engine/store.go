package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
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
	// Secret is the deployment's store secret: mixed into every name and
	// seal, so that only instances given it can find or open a token, and
	// a name tells nothing about a client secret to someone who can list
	// the keys (docs/store-security.md). Empty for none.
	Secret string `json:"secret,omitempty"`
}

// MinStoreSecret is the shortest store secret accepted, in bytes: a secret
// meant to stop guessing must not be guessable itself.
const MinStoreSecret = 16

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
	lock   time.Duration
	secret []byte // the deployment's store secret; nil for none
	// creds and requests cache the keys derived from credentials (HKDF,
	// once per credential) and from token requests (two HMACs of the
	// request's canonical encoding, once per user, endpoint and auth
	// method): the wasm build computes SHA-256 without assembly. A nil
	// request means the user's tokens are not shared. Emptied by every
	// load, since they are cached by username.
	creds    map[string]*storekey.Credential
	requests map[string]*storekey.Request
	// refused holds, per cache key, the token last invalidated: a
	// resource server refused it, so the copy other instances put in the
	// store must not come back.
	refused map[string]string
}

// SetStore turns the shared store on (cfg non-nil) or off for the calls
// that follow; load calls it. A store secret shorter than MinStoreSecret
// is refused and leaves the store as it was.
func (e *Engine) SetStore(cfg *StoreConfig) *Error {
	if cfg == nil {
		e.store = nil
		return nil
	}
	if n := len(cfg.Secret); n > 0 && n < MinStoreSecret {
		return &Error{Code: CodeBadRequest, Field: "store.secret", Message: "the store secret is " + strconv.Itoa(n) +
			" bytes long; give at least 16 bytes of random text (e.g. openssl rand -base64 32) or none"}
	}
	lock := time.Duration(cfg.LockMS) * time.Millisecond
	if lock <= 0 {
		lock = DefaultLock
	}
	e.store = &storeState{lock: lock, refused: map[string]string{}}
	if cfg.Secret != "" {
		e.store.secret = []byte(cfg.Secret)
	}
	e.store.forget()
	return nil
}

// forget drops the keys derived for the loaded users.
func (st *storeState) forget() {
	st.creds = map[string]*storekey.Credential{}
	st.requests = map[string]*storekey.Request{}
}

// credential is what the store names and seals a token with: the client
// secret, or the private key of private_key_jwt or of a client
// certificate given inline. "" means the token is not shared: DPoP-bound
// tokens only work with this instance's own key, and a certificate or key
// in a file is read by the host, so the module can neither derive names
// from it nor tell one certificate from another.
func credential(a *preset.Account) string {
	switch {
	case a.DPoP:
		return ""
	case a.TLSClient != nil && (a.TLSClient.CertFile != "" || a.TLSClient.KeyFile != ""):
		return ""
	case a.AssertionFile != "" || a.CertificateFile != "":
		// Read from a file for every request: the module holds no stable
		// credential to derive names from.
		return ""
	case a.ClientSecret != "":
		return a.ClientSecret
	case a.PrivateKeyText() != "":
		return a.PrivateKeyText()
	case a.TLSClient != nil:
		return a.TLSClient.KeyPEM
	}
	return ""
}

// fetch gets acct's token through the shared store when there is one, and
// straight from the token endpoint otherwise.
func (e *Engine) fetch(acct *preset.Account, key string, refresh bool, now time.Time) Step {
	if e.store == nil {
		return e.requestToken(acct, key, now, false)
	}
	names, ok := e.storeNames(acct)
	if !ok {
		return e.requestToken(acct, key, now, false)
	}
	f := &storeFetch{e: e, acct: acct, key: key, names: names, refresh: refresh, lock: e.store.lock}
	return f.get(0)
}

// storeNames returns the store names of acct's token; false when its
// tokens are not shared. acct is a loaded user as Token prepares it: with
// the caller's scopes, audience and resource, and for a discovered preset
// the token endpoint and auth method (and with it the signing key and
// assertion audience) from the metadata. Everything else comes from the
// load, so the request's keys are cached per username, endpoint and auth
// method until the next load; a per-call override added to TokenRequest
// must join that cache key or the names.
func (e *Engine) storeNames(acct *preset.Account) (storekey.Names, bool) {
	st := e.store
	rk := acct.Username + "\x00" + acct.TokenURL + "\x00" + acct.AuthMethod
	req, ok := st.requests[rk]
	if !ok {
		req = st.request(acct)
		st.requests[rk] = req
	}
	if req == nil {
		return storekey.Names{}, false
	}
	return req.Names(acct.Scopes, acct.Audience, acct.Resource), true
}

// request derives the keys of acct's token request, nil when its tokens
// are not shared.
func (st *storeState) request(acct *preset.Account) *storekey.Request {
	cred := credential(acct)
	if cred == "" {
		return nil
	}
	c := st.creds[cred]
	if c == nil {
		var err error
		if c, err = storekey.NewCredential([]byte(cred), st.secret); err != nil {
			return nil
		}
		st.creds[cred] = c
	}
	req, err := c.Request(storeRequest(acct))
	if err != nil {
		return nil
	}
	return req
}

// storeRequest is the canonical encoding of acct's token request that its
// store names derive from: the request the module would send, built by the
// same code (oauth.StableTokenRequest: no assertion signature, jti, iat or
// exp), with every header, the body, the client certificate and key (by
// fingerprint), and the settings that shaped it, so that whatever can make
// the endpoint issue another token makes another name. Scopes, audience
// and resource are left out here and named per token
// (storekey.Request.Names); DPoP proofs never apply, as DPoP users are not
// shared. TestStoreNameCoversEveryField changes every field of the account
// and checks the name follows.
func storeRequest(acct *preset.Account) []byte {
	a := *acct
	a.Scopes, a.Audience, a.Resource = nil, "", nil
	r := oauth.StableTokenRequest(&a)
	cert := []string{"no certificate", "", "", "", ""}
	if t := r.TLSClient; t != nil {
		cert = []string{"certificate", t.CertFile, storekey.Fingerprint(t.CertPEM), t.KeyFile, storekey.Fingerprint(t.KeyPEM)}
	}
	key, alg, kid := "no key", "", ""
	if a.Key != nil {
		key, alg, kid = "key", a.Key.Alg, a.Key.Kid
	}
	x5t := "no x5t"
	if a.Certificate != nil {
		x5t = a.Certificate.X5tS256
	}
	// With the request, what shaped it beyond what it shows: the same
	// bytes can come from settings that differ (an id and secret that
	// form- and raw-encode alike), and it cannot show the private key.
	parts := []string{"token request", r.Method, r.URL, r.Body,
		cert[0], cert[1], cert[2], cert[3], cert[4],
		a.AuthMethod, a.BasicEncoding, a.AssertionAudience, a.Issuer, storekey.Fingerprint(a.PrivateKeyText()),
		key, alg, kid, x5t, strconv.FormatBool(a.DPoP), "headers"}
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		parts = append(parts, k, r.Header[k])
	}
	return storekey.Encode(parts)
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
	inner := e.tasks[s.Task]
	if inner == nil {
		return after(s)
	}
	e.tasks[s.Task] = func(in Input) Step { return e.finally(inner(in), after) }
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
	return cur == acct || cur.ClientID == acct.ClientID && cur.ClientSecret == acct.ClientSecret &&
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
