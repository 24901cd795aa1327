package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memStore is a Store in memory, shared by clients of one test.
type memStore struct {
	mu   sync.Mutex
	vals map[string]string
	exp  map[string]time.Time
	ops  []string
}

func newMemStore() *memStore {
	return &memStore{vals: map[string]string{}, exp: map[string]time.Time{}}
}

func (m *memStore) get(k string) (string, bool) {
	v, ok := m.vals[k]
	if ok && time.Now().After(m.exp[k]) {
		delete(m.vals, k)
		return "", false
	}
	return v, ok
}

func (m *memStore) Get(_ context.Context, k string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "get")
	v, ok := m.get(k)
	return v, ok, nil
}

func (m *memStore) Set(_ context.Context, k, v string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "put")
	m.vals[k], m.exp[k] = v, time.Now().Add(ttl)
	return nil
}

func (m *memStore) SetNX(_ context.Context, k, v string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "lock")
	if _, held := m.get(k); held {
		return false, nil
	}
	m.vals[k], m.exp[k] = v, time.Now().Add(ttl)
	return true, nil
}

func (m *memStore) DeleteIf(_ context.Context, k, v string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, "unlock")
	if cur, _ := m.get(k); cur == v {
		delete(m.vals, k)
	}
	return nil
}

func TestClientsShareThroughAStore(t *testing.T) {
	srv := newTokenServer(t, jsonToken("shared-tok", 3600))
	st := newMemStore()
	a := newClient(t, presetFor(srv.URL, ""), WithStore(st))
	b := newClient(t, presetFor(srv.URL, ""), WithStore(st))
	for _, c := range []*Client{a, b, a, b} {
		if tok, err := c.Token(context.Background(), "svc"); err != nil || tok.AccessToken != "shared-tok" {
			t.Fatalf("token: %v", err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d token requests for two clients sharing a store, want 1", n)
	}
	if got := strings.Join(st.ops, ","); got != "get,lock,get,put,unlock,get" {
		t.Fatalf("store operations %s", got)
	}
	for k, v := range st.vals {
		if strings.Contains(k+v, "shared-tok") || strings.Contains(k+v, "CANARY") {
			t.Fatalf("the store shows a token or the secret: %q", k)
		}
	}
}

// TestStoreSecret: clients share tokens only with the same store secret,
// and New refuses a short one without showing it.
func TestStoreSecret(t *testing.T) {
	srv := newTokenServer(t, jsonToken("shared-tok", 3600))
	st := newMemStore()
	for i, secret := range []string{"deployment-one-0123456789", "deployment-one-0123456789", "deployment-two-0123456789", ""} {
		c := newClient(t, presetFor(srv.URL, ""), WithStore(st), WithStoreSecret(secret))
		if _, err := c.Token(context.Background(), "svc"); err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 1, 2, 3}[i]; srv.hits.Load() != want {
			t.Fatalf("client %d: %d token requests, want %d", i, srv.hits.Load(), want)
		}
	}
	_, err := New(context.Background(), []byte(presetFor(srv.URL, "")), WithStore(st), WithStoreSecret("short-CANARY"))
	var he *Error
	if !errors.As(err, &he) || he.Field != "store.secret" || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("short store secret: %v", err)
	}
}

// hangingStore never answers and ignores its context.
type hangingStore struct{}

func (hangingStore) Get(context.Context, string) (string, bool, error)        { select {} }
func (hangingStore) Set(context.Context, string, string, time.Duration) error { select {} }
func (hangingStore) SetNX(context.Context, string, string, time.Duration) (bool, error) {
	select {}
}
func (hangingStore) DeleteIf(context.Context, string, string) error { select {} }

type failingStore struct{ hangingStore }

func (failingStore) Get(context.Context, string) (string, bool, error) {
	return "", false, errors.New("connection refused")
}

func TestStoreFaultsAreMisses(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok", 3600))
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	for _, st := range []Store{hangingStore{}, failingStore{}} {
		c := newClient(t, presetFor(srv.URL, ""), WithStore(st), WithStoreTimeout(30*time.Millisecond), WithLogger(log))
		for range 3 {
			start := time.Now()
			if _, err := c.Token(context.Background(), "svc"); err != nil {
				t.Fatalf("%T: %v", st, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("%T held the caller %v", st, d)
			}
			c.Invalidate(context.Background(), "svc")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "answered too late"); n != 1 {
		t.Errorf("hanging store logged %d times, want once:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "shared store failed"); n != 1 {
		t.Errorf("failing store logged %d times, want once:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestReload(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok", 3600))
	two := func(secretB string) []byte {
		return presetFor(srv.URL, `  - username: other
    client_id: other-id
    client_secret: `+secretB+`
`)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	c := newClient(t, two("b-SECRET-1"), WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
	ctx := context.Background()
	for _, u := range []string{"svc", "other"} {
		if _, err := c.Token(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Token(ctx, u, WithScopes("x")); err != nil {
			t.Fatal(err)
		}
	}
	if srv.hits.Load() != 4 {
		t.Fatal(srv.hits.Load())
	}
	if err := c.Reload(ctx, two("b-SECRET-2")); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"svc", "other"} {
		c.Token(ctx, u)
		c.Token(ctx, u, WithScopes("x"))
	}
	if n := srv.hits.Load(); n != 6 {
		t.Fatalf("after rotating other's secret: %d token requests, want 6 (only other's two tokens again)", n)
	}
	// A broken document is refused, logged once, and the old one serves.
	for range 3 {
		err := c.Reload(ctx, []byte("preset:\n- type: oauth_client_credentials\n  users: []\n"))
		var he *Error
		if !errors.As(err, &he) || he.Code != "invalid_preset" {
			t.Fatalf("broken reload: %v", err)
		}
	}
	if _, err := c.Token(ctx, "other"); err != nil || srv.hits.Load() != 6 {
		t.Fatalf("after a refused reload: %v, %d requests", err, srv.hits.Load())
	}
	// Users removed are gone, new ones appear.
	if err := c.Reload(ctx, presetFor(srv.URL, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(ctx, "other"); err == nil {
		t.Fatal("a removed user still has tokens")
	}
	if len(c.Users()) != 1 {
		t.Fatalf("users %v", c.Users())
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "was refused"); n != 1 {
		t.Errorf("the refused document was logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("a secret in the log:\n%s", logs.String())
	}
}

// TestInvalidateWithStore: a token refused by a resource server is not
// taken back from the store; the new one is shared.
func TestInvalidateWithStore(t *testing.T) {
	var n atomic.Int64
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		jsonToken(fmt.Sprintf("tok-%d", n.Add(1)), 3600)(w, r)
	})
	st := newMemStore()
	a := newClient(t, presetFor(srv.URL, ""), WithStore(st))
	b := newClient(t, presetFor(srv.URL, ""), WithStore(st))
	ctx := context.Background()
	ta, _ := a.Token(ctx, "svc")
	tb, _ := b.Token(ctx, "svc")
	if ta == nil || tb == nil || ta.AccessToken != tb.AccessToken {
		t.Fatal("not shared")
	}
	a.Invalidate(ctx, "svc")
	ta2, err := a.Token(ctx, "svc")
	if err != nil || ta2.AccessToken == ta.AccessToken {
		t.Fatalf("after invalidate: %v, same token %v", err, ta2 != nil && ta2.AccessToken == ta.AccessToken)
	}
	b.Invalidate(ctx, "svc")
	if tb2, _ := b.Token(ctx, "svc"); tb2 == nil || tb2.AccessToken != ta2.AccessToken || srv.hits.Load() != 2 {
		t.Fatalf("second client after invalidate: %d requests", srv.hits.Load())
	}
}

// TestReloadDuringFetch: a token request under way when Reload changes the
// user serves its callers, but the token is not kept.
func TestReloadDuringFetch(t *testing.T) {
	arrived, release := make(chan struct{}, 4), make(chan struct{})
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		jsonToken("tok", 3600)(w, r)
	})
	ctx := context.Background()
	c := newClient(t, presetFor(srv.URL, ""))
	done := make(chan error)
	go func() { _, err := c.Token(ctx, "svc"); done <- err }()
	<-arrived
	rotated := bytes.Replace(presetFor(srv.URL, ""), []byte("svc-secret-CANARY"), []byte("svc-secret-2-CANARY"), 1)
	if err := c.Reload(ctx, rotated); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the caller of the request under way: %v", err)
	}
	if _, err := c.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("%d token requests, want 2: the token fetched with the old secret must not be kept", n)
	}
}
