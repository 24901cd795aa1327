package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// memStore performs store effects the way ABI.md describes, on a map and
// the engine's fake clock, and counts token requests.
type memStore struct {
	c       *clock
	vals    map[string]string
	expires map[string]time.Time
	down    bool
	hits    int
	ops     []string
}

func newMemStore(c *clock) *memStore {
	return &memStore{c: c, vals: map[string]string{}, expires: map[string]time.Time{}}
}

func (m *memStore) live(k string) (string, bool) {
	v, ok := m.vals[k]
	if ok && !m.c.t.Before(m.expires[k]) {
		delete(m.vals, k)
		return "", false
	}
	return v, ok
}

// drive runs s to its end, performing every effect; tokens come from body.
func (m *memStore) drive(t *testing.T, e *Engine, s Step, body func() string) Step {
	t.Helper()
	for i := 0; s.Task != 0; i++ {
		if i > 200 {
			t.Fatal("more than 200 effects")
		}
		switch {
		case s.HTTP != nil:
			m.hits++
			m.ops = append(m.ops, "http")
			s = e.Resume(s.Task, Input{Response: ok(body())})
		case s.Store != nil:
			op := s.Store
			m.ops = append(m.ops, op.Op)
			m.c.add(time.Duration(op.DelayMS) * time.Millisecond)
			if m.down {
				s = e.Resume(s.Task, Input{Failure: &httpmsg.Failure{Kind: "store", Message: "connection refused"}})
				continue
			}
			var r StoreReply
			switch op.Op {
			case "get":
				r.Value, r.Found = m.live(op.Key)
			case "put":
				m.vals[op.Key], m.expires[op.Key] = op.Value, m.c.t.Add(time.Duration(op.TTLMS)*time.Millisecond)
			case "lock":
				if _, held := m.live(op.Key); !held {
					m.vals[op.Key], m.expires[op.Key] = op.Value, m.c.t.Add(time.Duration(op.TTLMS)*time.Millisecond)
					r.OK = true
				}
			case "unlock":
				if v, _ := m.live(op.Key); v == op.Value {
					delete(m.vals, op.Key)
				}
			default:
				t.Fatalf("unknown store op %q", op.Op)
			}
			s = e.Resume(s.Task, Input{Store: &r})
		default:
			t.Fatalf("unexpected effect %+v", s)
		}
	}
	return s
}

const storeDoc = `preset:
- type: oauth_client_credentials
  url: https://auth.example.com/token
  refresh_skew: 1s
  users:
  - username: svc
    client_id: id-svc
    client_secret: SECRET
    scopes: [read]
  - username: other
    client_id: id-other
    client_secret: other-secret
`

func storeEngine(t *testing.T, c *clock, secret string) *Engine {
	t.Helper()
	e := New(c.now)
	e.SetStore(&StoreConfig{LockMS: 2000})
	if s := e.Load([]byte(strings.Replace(storeDoc, "SECRET", secret, 1))); s.Error != nil {
		t.Fatal(s.Error)
	}
	return e
}

func TestStoreSharesOneFetch(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	n := 0
	body := func() string {
		n++
		return `{"access_token":"tok-` + strings.Repeat("x", n) + `","token_type":"Bearer","expires_in":60}`
	}
	a, b := storeEngine(t, c, "s3cret"), storeEngine(t, c, "s3cret")
	s := st.drive(t, a, a.Token(TokenRequest{User: "svc"}), body)
	if s.Error != nil || st.hits != 1 || strings.Join(st.ops, ",") != "get,lock,get,http,put,unlock" {
		t.Fatalf("first fetch: %+v, ops %v", s.Error, st.ops)
	}
	first := s.Result.(TokenResult)
	st.ops = nil
	s = st.drive(t, b, b.Token(TokenRequest{User: "svc"}), body)
	if got := s.Result.(TokenResult); got.AccessToken != first.AccessToken || got.RefreshAt != first.RefreshAt || got.UseUntil != first.UseUntil {
		t.Fatalf("second instance got %+v, want the first's token and schedule %+v", got, first)
	}
	if st.hits != 1 || strings.Join(st.ops, ",") != "get" {
		t.Fatalf("second instance: %d hits, ops %v", st.hits, st.ops)
	}
	// No value in the store shows the token or the secret.
	for k, v := range st.vals {
		if strings.Contains(k+v, "tok-") || strings.Contains(k+v, "s3cret") || strings.Contains(k, "id-svc") {
			t.Fatalf("store shows a token or secret: %q = %q", k, v)
		}
	}
	// Another secret finds nothing and fetches on its own.
	w := storeEngine(t, c, "wrong")
	st.ops = nil
	st.drive(t, w, w.Token(TokenRequest{User: "svc"}), body)
	if st.hits != 2 || st.ops[0] != "get" || st.ops[3] != "http" {
		t.Fatalf("wrong secret: %d hits, ops %v", st.hits, st.ops)
	}

	// Refresh-ahead: the first refresher fetches and puts; the other one
	// then takes the new token from the store.
	c.add(time.Duration(first.RefreshAt-c.t.UnixMilli())*time.Millisecond + time.Millisecond)
	s = st.drive(t, a, a.Token(TokenRequest{User: "svc", Refresh: true}), body)
	if st.hits != 3 {
		t.Fatalf("refresh: %d hits", st.hits)
	}
	fresh := s.Result.(TokenResult)
	st.ops = nil
	s = st.drive(t, b, b.Token(TokenRequest{User: "svc", Refresh: true}), body)
	if got := s.Result.(TokenResult); got.AccessToken != fresh.AccessToken || st.hits != 3 {
		t.Fatalf("second refresher: %d hits, ops %v", st.hits, st.ops)
	}
}

func TestStoreWaitsForTheLockHolder(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	body := func() string { return `{"access_token":"tok","token_type":"Bearer","expires_in":60}` }
	a, b := storeEngine(t, c, "s3cret"), storeEngine(t, c, "s3cret")
	// a takes the lock and stops at its HTTP request.
	s := a.Token(TokenRequest{User: "svc"})
	s = a.Resume(s.Task, Input{Store: &StoreReply{}})
	lock := s.Store
	if lock == nil || lock.Op != "lock" || lock.TTLMS != 2000 {
		t.Fatalf("want a lock of 2000 ms, got %+v", s)
	}
	st.vals[lock.Key], st.expires[lock.Key] = lock.Value, c.t.Add(2*time.Second)
	s = a.Resume(s.Task, Input{Store: &StoreReply{OK: true}})
	if s.Store == nil || s.Store.Op != "get" {
		t.Fatalf("lock holder should look at the store again: %+v", s)
	}
	s = a.Resume(s.Task, Input{Store: &StoreReply{}})
	if s.HTTP == nil {
		t.Fatalf("lock holder: %+v", s)
	}
	// b waits, polling, and takes the token as soon as a puts it.
	sb := b.Token(TokenRequest{User: "svc"})
	sb = b.Resume(sb.Task, Input{Store: &StoreReply{}}) // get: miss
	sb = b.Resume(sb.Task, Input{Store: &StoreReply{}}) // lock: taken
	if sb.Store == nil || sb.Store.Op != "get" || sb.Store.DelayMS <= 0 {
		t.Fatalf("waiter should poll with a delay: %+v", sb)
	}
	st.drive(t, a, a.Resume(s.Task, Input{Response: ok(body())}), body)
	sb = st.drive(t, b, sb, body)
	if sb.Result == nil || st.hits != 0 {
		t.Fatalf("waiter: %+v, %d hits", sb, st.hits)
	}

	// A holder that never comes back: the waiter fetches once the lock has
	// expired, within about one lock lifetime.
	c2 := &clock{t: c.t.Add(time.Hour)}
	st2 := newMemStore(c2)
	x, y := storeEngine(t, c2, "s3cret"), storeEngine(t, c2, "s3cret")
	s = x.Token(TokenRequest{User: "svc"})
	s = x.Resume(s.Task, Input{Store: &StoreReply{}})
	st2.vals[s.Store.Key], st2.expires[s.Store.Key] = s.Store.Value, c2.t.Add(2*time.Second)
	start := c2.t
	sy := st2.drive(t, y, y.Token(TokenRequest{User: "svc"}), body)
	if sy.Result == nil || st2.hits != 1 {
		t.Fatalf("after a dead holder: %+v, %d hits", sy, st2.hits)
	}
	if waited := c2.t.Sub(start); waited < 2*time.Second || waited > 3*time.Second {
		t.Fatalf("waited %v for a dead holder's 2 s lock", waited)
	}
}

func TestStoreDownIsAMiss(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	st.down = true
	e := storeEngine(t, c, "s3cret")
	s := st.drive(t, e, e.Token(TokenRequest{User: "svc"}), func() string {
		return `{"access_token":"tok","token_type":"Bearer","expires_in":60}`
	})
	if s.Result == nil || strings.Join(st.ops, ",") != "get,http" {
		t.Fatalf("store down: %+v, ops %v", s, st.ops)
	}
	// Cached now: no store effect.
	if s := e.Token(TokenRequest{User: "svc"}); s.Task != 0 || s.Result == nil {
		t.Fatalf("cached token asked for effects: %+v", s)
	}
	// Without the store flag in load there are no store effects at all.
	plain := New(c.now)
	plain.Load([]byte(storeDoc))
	if s := plain.Token(TokenRequest{User: "svc"}); s.HTTP == nil {
		t.Fatalf("no store: %+v", s)
	}
}

func TestReloadKeepsUnchangedUsers(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := New(c.now)
	e.Load([]byte(storeDoc))
	for _, u := range []string{"svc", "other"} {
		s := e.Token(TokenRequest{User: u})
		e.Resume(s.Task, Input{Response: ok(`{"access_token":"tok","token_type":"Bearer","expires_in":60}`)})
	}
	s := e.Load([]byte(strings.Replace(storeDoc, "other-secret", "rotated", 1)))
	if got := s.Result.(UsersResult).Kept; len(got) != 1 || got[0] != "svc" {
		t.Fatalf("kept %v, want [svc]", got)
	}
	if s := e.Token(TokenRequest{User: "svc"}); s.Result == nil {
		t.Fatalf("unchanged user lost its token: %+v", s)
	}
	if s := e.Token(TokenRequest{User: "other"}); s.HTTP == nil {
		t.Fatalf("rotated user kept its token: %+v", s)
	}
	// A document that does not load keeps everything.
	if s := e.Load([]byte("preset: [")); s.Error == nil {
		t.Fatal("broken document loaded")
	}
	if s := e.Token(TokenRequest{User: "svc"}); s.Result == nil {
		t.Fatalf("a refused load dropped a token: %+v", s)
	}
}

// TestStoreRecheckAfterLock: a token put between this instance's get and
// its lock is used, not fetched again.
func TestStoreRecheckAfterLock(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	body := func() string { return `{"access_token":"tok","token_type":"Bearer","expires_in":60}` }
	a, b := storeEngine(t, c, "s3cret"), storeEngine(t, c, "s3cret")
	sb := b.Token(TokenRequest{User: "svc"})
	sb = b.Resume(sb.Task, Input{Store: &StoreReply{}}) // b's get: miss
	st.drive(t, a, a.Token(TokenRequest{User: "svc"}), body)
	if st.hits != 1 {
		t.Fatal(st.hits)
	}
	st.ops = nil
	sb = st.drive(t, b, sb, body) // b's lock, then the second look
	if sb.Result == nil || st.hits != 1 || strings.Join(st.ops, ",") != "lock,get,unlock" {
		t.Fatalf("b: %+v, %d hits, ops %v", sb, st.hits, st.ops)
	}
}

// TestStoreAfterInvalidate: a token a resource server refused (invalidate)
// is not taken from the store again; a new one is fetched and shared.
func TestStoreAfterInvalidate(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	n := 0
	body := func() string {
		n++
		return `{"access_token":"tok-` + strings.Repeat("x", n) + `","token_type":"Bearer","expires_in":60}`
	}
	a, b := storeEngine(t, c, "s3cret"), storeEngine(t, c, "s3cret")
	first := st.drive(t, a, a.Token(TokenRequest{User: "svc"}), body).Result.(TokenResult)
	st.drive(t, b, b.Token(TokenRequest{User: "svc"}), body)
	a.Invalidate("svc")
	st.ops = nil
	got := st.drive(t, a, a.Token(TokenRequest{User: "svc"}), body).Result.(TokenResult)
	if got.AccessToken == first.AccessToken || st.hits != 2 || strings.Join(st.ops, ",") != "get,lock,get,http,put,unlock" {
		t.Fatalf("after invalidate: same token %v, %d hits, ops %v", got.AccessToken == first.AccessToken, st.hits, st.ops)
	}
	// b, refused the old token too, takes the new one from the store.
	b.Invalidate("svc")
	if got2 := st.drive(t, b, b.Token(TokenRequest{User: "svc"}), body).Result.(TokenResult); got2.AccessToken != got.AccessToken || st.hits != 2 {
		t.Fatalf("second instance after invalidate: %d hits", st.hits)
	}
}

// TestReloadDuringFetch: a token fetched with the old secret, answered after
// a load changed the user, goes to the caller and not into the cache.
func TestReloadDuringFetch(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := New(c.now)
	e.Load([]byte(storeDoc))
	s := e.Token(TokenRequest{User: "other"})
	e.Load([]byte(strings.Replace(storeDoc, "other-secret", "rotated", 1)))
	if r := e.Resume(s.Task, Input{Response: ok(`{"access_token":"old","token_type":"Bearer","expires_in":60}`)}); r.Result == nil {
		t.Fatalf("the caller should get the token: %+v", r)
	}
	if s := e.Token(TokenRequest{User: "other"}); s.HTTP == nil {
		t.Fatalf("a token fetched with the old secret was cached: %+v", s)
	}
	// Unchanged users cache as before.
	s = e.Token(TokenRequest{User: "svc", Scopes: []string{"x"}})
	e.Load([]byte(strings.Replace(storeDoc, "other-secret", "rotated", 1)))
	e.Resume(s.Task, Input{Response: ok(`{"access_token":"t","token_type":"Bearer","expires_in":60}`)})
	if s := e.Token(TokenRequest{User: "svc", Scopes: []string{"x"}}); s.Result == nil {
		t.Fatalf("unchanged user's token not cached: %+v", s)
	}
}
