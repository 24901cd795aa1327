package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/redisstore"
	"github.com/cctoken/cctoken/internal/redistest"
	"github.com/cctoken/cctoken/internal/tokentest"
)

func preset(url, secret string) []byte {
	return []byte(`preset:
- type: oauth_client_credentials
  url: ` + url + `
  refresh_skew: 1s
  users:
  - username: svc
    client_id: svc-id
    client_secret: ` + secret + `
    scopes: [read]
`)
}

func open(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	st, err := redisstore.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestStoreOperations(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	ctx := context.Background()
	if _, found, err := st.Get(ctx, "k"); found || err != nil {
		t.Fatalf("Get of a missing key: %v %v", found, err)
	}
	if err := st.Set(ctx, "k", "v", time.Second); err != nil {
		t.Fatal(err)
	}
	if v, found, err := st.Get(ctx, "k"); v != "v" || !found || err != nil {
		t.Fatalf("Get = %q %v %v", v, found, err)
	}
	if pttl, _ := srv.Do("PTTL", "k"); pttl == "-1" || pttl == "-2" {
		t.Fatalf("Set left no expiry: PTTL %s", pttl)
	}
	if ok, err := st.SetNX(ctx, "lock", "me", 300*time.Millisecond); !ok || err != nil {
		t.Fatalf("first SetNX: %v %v", ok, err)
	}
	if ok, err := st.SetNX(ctx, "lock", "you", time.Second); ok || err != nil {
		t.Fatalf("second SetNX took a held lock: %v %v", ok, err)
	}
	if err := st.DeleteIf(ctx, "lock", "you"); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := st.Get(ctx, "lock"); v != "me" {
		t.Fatalf("DeleteIf with another value released the lock: %q", v)
	}
	if err := st.DeleteIf(ctx, "lock", "me"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := st.Get(ctx, "lock"); found {
		t.Fatal("DeleteIf did not release the lock")
	}
	st.SetNX(ctx, "lock2", "me", 100*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	if ok, _ := st.SetNX(ctx, "lock2", "you", time.Second); !ok {
		t.Fatal("an expired lock could not be taken")
	}
	p := st.WithPrefix("app1:")
	p.Set(ctx, "x", "1", time.Second)
	if v, _ := srv.Do("GET", "app1:x"); v != "1" {
		t.Fatalf("prefix: %q", v)
	}

	for _, bad := range []string{"", "127.0.0.1:6379", "http://127.0.0.1:6379", "redis://:hunter2@[::1"} {
		if _, err := redisstore.Open(bad); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v", bad, err)
		}
	}
}

// TestClientsShareTokens runs two clients against one real Redis: the
// second takes the first's token from the store; a client with a wrong
// secret gets invalid_client from the endpoint, never the shared token; a
// dump of Redis shows no token and no secret.
func TestClientsShareTokens(t *testing.T) {
	srv := redistest.Start(t)
	ts := tokentest.Start(time.Minute, map[string]string{"svc-id": "right-SECRET-canary"})
	defer ts.Close()
	ctx := context.Background()
	mk := func(secret string) *host.Client {
		c, err := host.New(ctx, preset(ts.TokenURL(), secret), host.WithStore(open(t, srv.URL())))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := mk("right-SECRET-canary"), mk("right-SECRET-canary")
	ta, err := a.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if ta.AccessToken != tb.AccessToken || len(ts.Hits()) != 1 {
		t.Fatalf("second client: same token %v, %d endpoint hits; want the shared token and 1 hit", ta.AccessToken == tb.AccessToken, len(ts.Hits()))
	}
	w := mk("wrong-secret")
	_, err = w.Token(ctx, "svc")
	var he *host.Error
	if !errors.As(err, &he) || he.Code != "invalid_client" {
		t.Fatalf("wrong secret: %v, want invalid_client", err)
	}
	if len(ts.Hits()) != 2 {
		t.Fatalf("wrong secret made %d endpoint hits, want 1", len(ts.Hits())-1)
	}
	dumpHasNoSecrets(t, srv, "right-SECRET-canary", "wrong-secret", "svc-id")
}

// dumpHasNoSecrets reads every key and value in Redis (SCAN and GET) and
// fails when one shows a token or any of secrets.
func dumpHasNoSecrets(t *testing.T, srv *redistest.Server, secrets ...string) {
	t.Helper()
	keys, err := srv.Do("KEYS", "*")
	if err != nil {
		t.Fatal(err)
	}
	if keys == "" {
		t.Fatal("Redis is empty: nothing was shared")
	}
	for _, k := range strings.Split(keys, "\n") {
		v, _ := srv.Do("GET", k)
		for _, bad := range append(secrets, tokentest.Canary) {
			if strings.Contains(k, bad) || strings.Contains(v, bad) {
				t.Fatalf("Redis key %q shows %q", k, bad)
			}
		}
	}
}

// slowProxy forwards TCP to target, holding every chunk for delay.
func slowProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				defer dst.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						time.Sleep(delay)
						if _, werr := dst.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}
			wg.Add(2)
			go pipe(u, c)
			go pipe(c, u)
		}
	}()
	return ln.Addr().String()
}

// TestSlowStoreIsAMiss puts a proxy that delays every answer by 200 ms
// between the client and Redis: with the default 50 ms store timeout each
// client fetches on its own, quickly, and logs the slow store once.
func TestSlowStoreIsAMiss(t *testing.T) {
	srv := redistest.Start(t)
	ts := tokentest.Start(time.Minute, map[string]string{"svc-id": "s3cret"})
	defer ts.Close()
	slow := slowProxy(t, srv.Addr, 200*time.Millisecond)
	ctx := context.Background()
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), nil))
	for i := range 2 {
		c, err := host.New(ctx, preset(ts.TokenURL(), "s3cret"), host.WithStore(open(t, "redis://"+slow+"/0")), host.WithLogger(log))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := c.Token(ctx, "svc"); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("client %d waited %v on a slow store", i, d)
		}
		if c.Invalidate(ctx, "svc"); true {
			if _, err := c.Token(ctx, "svc"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(ts.Hits()); n != 4 {
		t.Fatalf("%d endpoint hits, want 4: every fetch on its own", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "shared store answered too late"); n != 2 {
		t.Fatalf("logged the slow store %d times, want once per client:\n%s", n, logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)

// TestPasswordRedacted: the password of the store URL appears in no error,
// whether the message quotes it as written, decoded or encoded.
func TestPasswordRedacted(t *testing.T) {
	const pw = "p@ss/w:rd CANARY%"
	written := "p%40ss%2Fw%3Ard%20CANARY%25"
	forms := []string{pw, written, strings.ToLower(written), "p%40ss%2Fw%3Ard+CANARY%25", "p@ss%2Fw:rd%20CANARY%25", "CANARY"}
	check := func(what, msg string) {
		t.Helper()
		for _, f := range forms {
			if strings.Contains(msg, f) {
				t.Errorf("%s shows the password (as %q): %s", what, f, msg)
			}
		}
	}
	// go-redis quotes the bad value of an option: here the password, decoded.
	for _, raw := range []string{
		"redis://user:" + written + "@127.0.0.1:6379/0?dial_timeout=" + written,
		"redis+cluster://user:" + written + "@127.0.0.1:6379?addr=127.0.0.1:7000&read_timeout=" + written,
		"redis://user:" + written + "@127.0.0.1:6379/" + written,
	} {
		_, err := redisstore.Open(raw)
		if err == nil {
			t.Fatalf("Open accepted %s", raw)
		}
		check("Open's error", err.Error())
		if !strings.Contains(err.Error(), "xxxxx") && !strings.Contains(err.Error(), "not usable") {
			t.Errorf("Open's error says nothing useful: %s", err)
		}
	}
	// Errors of operations: the server wants another password.
	srv := redistest.Start(t)
	if _, err := srv.Do("CONFIG", "SET", "requirepass", "another-password"); err != nil {
		t.Fatal(err)
	}
	st := open(t, "redis://default:"+written+"@"+srv.Addr+"/0")
	_, _, err := st.Get(context.Background(), "k")
	if err == nil {
		t.Fatal("a password the server does not know was accepted")
	}
	check("Get's error", err.Error())
	for _, msg := range redisstore.RedactForTest("redis://u:"+written+"@h:1/0", "as written "+written+", decoded "+pw+", lower "+strings.ToLower(written)+", query-escaped "+forms[3]+", path-escaped "+forms[4]) {
		check("a message", msg)
	}
}
