package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cctoken/cctoken/internal/redistest"
	"github.com/cctoken/cctoken/internal/tokentest"
)

func storePreset(url, secret string) string {
	return "preset:\n- type: oauth_client_credentials\n  url: " + url + "\n  users:\n  - username: svc\n    client_id: svc-id\n    client_secret: " + secret + "\n"
}

// TestStoreFlag: two token commands with --store share one token request;
// a bad --store is a usage error that shows no password.
func TestStoreFlag(t *testing.T) {
	r := redistest.Start(t)
	ts := tokentest.Start(time.Hour, map[string]string{"svc-id": "svc-CANARY-SECRET"})
	defer ts.Close()
	file := writeFile(t, "p.yaml", storePreset(ts.TokenURL(), "svc-CANARY-SECRET"))
	var toks []string
	for range 2 {
		// A generous timeout: this asserts sharing, which a store answer
		// slowed past the default 50 ms by a busy machine would turn into
		// a miss (by design).
		res := cctoken(t, "", "token", file, "--store", r.URL(), "--store-timeout", "5s")
		if res.code != 0 {
			t.Fatalf("token --store: %d %s", res.code, res.stderr)
		}
		toks = append(toks, strings.TrimSpace(res.stdout))
	}
	if toks[0] != toks[1] || len(ts.Hits()) != 1 {
		t.Fatalf("two commands with one store: same token %v, %d token requests; want the same token and 1", toks[0] == toks[1], len(ts.Hits()))
	}
	if res := cctoken(t, "", "validate", file, "--store", r.URL(), "--store-timeout", "5s"); res.code != 0 || len(ts.Hits()) != 1 {
		t.Fatalf("validate --store: %d %s, %d requests", res.code, res.stderr, len(ts.Hits()))
	}
	for _, bad := range []string{"http://x", "redis://:pass-CANARY-SECRET@[::1"} {
		res := cctoken(t, "", "token", file, "--store", bad)
		if res.code != 2 || !strings.Contains(res.stderr, "--store") {
			t.Errorf("--store %q: exit %d, %s", bad, res.code, res.stderr)
		}
	}
	// A store that is down costs nothing but its timeout.
	r.Stop()
	if res := cctoken(t, "", "token", file, "--store", r.URL()); res.code != 0 {
		t.Fatalf("token with the store down: %d %s", res.code, res.stderr)
	}
}

// TestStoreEnv: $CCTOKEN_STORE stands for --store (its errors name it and
// show no password), and $CCTOKEN_STORE_SECRET keeps deployments apart.
func TestStoreEnv(t *testing.T) {
	r := redistest.Start(t)
	ts := tokentest.Start(time.Hour, map[string]string{"svc-id": "svc-CANARY-SECRET"})
	defer ts.Close()
	file := writeFile(t, "p.yaml", storePreset(ts.TokenURL(), "svc-CANARY-SECRET"))
	token := func(want int) string {
		t.Helper()
		res := cctoken(t, "", "token", file, "--store-timeout", "5s") // see TestStoreFlag
		if res.code != 0 || len(ts.Hits()) != want {
			t.Fatalf("token with $%s=%q: exit %d %s; %d token requests, want %d", storeEnv, os.Getenv(storeEnv), res.code, res.stderr, len(ts.Hits()), want)
		}
		return strings.TrimSpace(res.stdout)
	}
	t.Setenv(storeEnv, r.URL())
	first := token(1)
	if second := token(1); second != first {
		t.Fatal("a second command with $CCTOKEN_STORE did not take the stored token")
	}
	t.Setenv(storeSecretEnv, "deployment-two-0123456789")
	token(2) // another deployment finds nothing
	token(2) // and shares with itself
	t.Setenv(storeSecretEnv, "CANARY-SECRET")
	if res := cctoken(t, "", "token", file); res.code != 2 || !strings.Contains(res.stderr, storeSecretEnv) {
		t.Fatalf("short secret: exit %d, %s", res.code, res.stderr)
	}
	t.Setenv(storeSecretEnv, "")
	t.Setenv(storeEnv, "redis://:pass%2FCANARY-SECRET@127.0.0.1:6379/0?dial_timeout=pass%2FCANARY-SECRET")
	if res := cctoken(t, "", "validate", file); res.code != 2 || !strings.Contains(res.stderr, storeEnv) {
		t.Fatalf("bad $%s: exit %d, %s", storeEnv, res.code, res.stderr)
	}
	// --store wins over the variable.
	if res := cctoken(t, "", "token", file, "--store", r.URL(), "--store-timeout", "5s"); res.code != 0 || strings.TrimSpace(res.stdout) != first {
		t.Fatalf("--store with a bad $%s: exit %d %s", storeEnv, res.code, res.stderr)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestKeepWatch runs `cctoken keep --watch --store`, rotates the secret in
// the file, then breaks the file.
func TestKeepWatch(t *testing.T) {
	r := redistest.Start(t)
	ts := tokentest.Start(time.Hour, map[string]string{"svc-id": "old-CANARY-SECRET"})
	defer ts.Close()
	file := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(file, []byte(storePreset(ts.TokenURL(), "old-CANARY-SECRET")), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"keep", file, "--watch", "--store", r.URL(), "--every", "100ms"}, strings.NewReader(""), &stdout, &stderr)
	}()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("%s did not happen; stdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
		}
	}
	waitUntil("the first token", func() bool { return strings.Contains(stdout.String(), "svc: token until") })
	ts.SetSecret("svc-id", "new-CANARY-SECRET")
	os.WriteFile(file, []byte(storePreset(ts.TokenURL(), "new-CANARY-SECRET")), 0o600)
	waitUntil("the reload", func() bool { return strings.Contains(stdout.String(), "reloaded") })
	waitUntil("a token with the new secret", func() bool { return len(ts.Granted(time.Time{})) == 1 && ts.Granted(time.Time{})["svc-id"] == 2 })
	os.WriteFile(file, []byte("preset: [\n"), 0o600)
	waitUntil("the refusal", func() bool { return strings.Contains(stderr.String(), "was not reloaded") })
	time.Sleep(300 * time.Millisecond)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("keep exited %d: %s", code, stderr.String())
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, "CANARY-SECRET") || strings.Contains(out, tokentest.Canary) {
		t.Fatalf("keep printed a secret or a token:\n%s", out)
	}
	if n := strings.Count(stderr.String(), "was not reloaded"); n != 1 {
		t.Fatalf("the broken file was reported %d times:\n%s", n, stderr.String())
	}
	if strings.Contains(stderr.String(), "svc:") {
		t.Fatalf("a token call failed while the broken file was in place:\n%s", stderr.String())
	}
}
