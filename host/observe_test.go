package host

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type recorder struct {
	mu      sync.Mutex
	started []string
	done    []TokenFetch
}

func (r *recorder) TokenFetchStarted(user string) {
	r.mu.Lock()
	r.started = append(r.started, user)
	r.mu.Unlock()
}

func (r *recorder) TokenFetchDone(f TokenFetch) {
	r.mu.Lock()
	r.done = append(r.done, f)
	r.mu.Unlock()
}

func (r *recorder) last(t *testing.T) TokenFetch {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.done) == 0 || len(r.started) != len(r.done) {
		t.Fatalf("started %d fetches, %d done", len(r.started), len(r.done))
	}
	return r.done[len(r.done)-1]
}

func TestObserverSeesEachFetch(t *testing.T) {
	srv := newTokenServer(t, jsonToken("tok-CANARY-1", 3600))
	rec := &recorder{}
	c := newClient(t, presetFor(srv.URL, ""), WithObserver(rec))
	ctx := context.Background()

	tok, err := c.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // cached: no more fetches
		if _, err := c.Token(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
	}
	f := rec.last(t)
	if len(rec.done) != 1 || f.User != "svc" || f.Outcome != "ok" || f.Requests != 1 || !f.Expiry.Equal(tok.Expiry) || f.Duration <= 0 || f.Refresh {
		t.Fatalf("events %+v", rec.done)
	}

	// A refused secret: the OAuth error is the outcome, and no expiry.
	srv.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client"}`))
	})
	c.Invalidate(ctx, "svc")
	if _, err := c.Token(ctx, "svc"); err == nil {
		t.Fatal("want an error")
	}
	f = rec.last(t)
	if f.Outcome != "invalid_client" || f.Requests != 1 || !f.Expiry.IsZero() {
		t.Fatalf("failed fetch %+v", f)
	}

	// Nothing listens: the outcome is the transport failure's code.
	srv.Close()
	c.Invalidate(ctx, "svc")
	_, err = c.Token(ctx, "svc")
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("got %v", err)
	}
	if f = rec.last(t); f.Outcome != he.Code || f.Outcome != "network" {
		t.Fatalf("unreachable fetch %+v (error code %s)", f, he.Code)
	}
	for _, f := range rec.done {
		if strings.Contains(f.Outcome+f.User, "CANARY") {
			t.Fatalf("event carries a secret or token: %+v", f)
		}
	}
}
