// Package scale runs many real OS processes of the Go host against one
// real redis-server and one token endpoint, and checks that they share one
// token request per token lifetime, that faults of the store never reach a
// caller, that a preset reloads while load runs, and (isolation_test.go,
// with real cctoken processes) that users who differ only in params,
// headers or cookies never get each other's tokens.
//
// The worker processes are this test binary run again with
// CCTOKEN_SCALE_WORKER set (see worker_test.go).
package scale

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/internal/redistest"
	"github.com/cctoken/cctoken/internal/tokentest"
)

func TestMain(m *testing.M) {
	if os.Getenv("CCTOKEN_SCALE_WORKER") != "" {
		os.Exit(worker())
	}
	warmCompilationCache()
	os.Exit(m.Run())
}

// warmCompilationCache compiles the module once into the cache the workers
// use (host's default), before any test starts them: a worker compiling on
// its own takes seconds on a busy machine, holding a fetch lock longer
// than the 2 s tokens here allow and making the fetch counts meaningless.
func warmCompilationCache() {
	doc := []byte("preset:\n- type: oauth_client_credentials\n  url: http://127.0.0.1:9/token\n  users:\n  - {username: warm, client_id: warm, client_secret: warm}\n")
	if c, err := host.New(context.Background(), doc); err == nil {
		c.Close()
	}
}

// Token lifetime and schedule of the presets here: tokens live 2 s, are
// used until 100 ms before expiry and refreshed after 90% of that, so one
// instance alone fetches every (2 s - 100 ms) * 0.9 = 1.71 s.
const (
	lifetime = 2 * time.Second
	interval = 1710 * time.Millisecond
)

func writePreset(t testing.TB, path, url string, secrets map[string]string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "preset:\n- type: oauth_client_credentials\n  url: %s\n  refresh_skew: 100ms\n  refresh_ahead: 0.9\n  users:\n", url)
	for _, u := range []string{"u1", "u2"} {
		fmt.Fprintf(&b, "  - username: %s\n    client_id: %s-id\n    client_secret: %s\n", u, u, secrets[u])
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // replaced whole, as deployments do
		t.Fatal(err)
	}
}

// report is what a worker prints when its time is up.
type report struct {
	PID    int               `json:"pid"`
	Calls  int               `json:"calls"`
	Errors int               `json:"errors"`
	Codes  map[string]int    `json:"codes"`
	Final  map[string]string `json:"final"` // user -> sha256 of the last token, 12 hex digits
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	ready          string // a file the worker creates once it has its first token
}

type workerConfig struct {
	preset, store string
	run           time.Duration
	lockMS        int
	watch         bool
	goroutines    int
	pause         time.Duration
}

func spawn(t testing.TB, c workerConfig) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{}), ready: filepath.Join(t.TempDir(), "ready")}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(),
		"CCTOKEN_SCALE_WORKER=1",
		"SCALE_PRESET="+c.preset,
		"SCALE_STORE="+c.store,
		"SCALE_RUN_MS="+strconv.Itoa(int(c.run.Milliseconds())),
		"SCALE_LOCK_MS="+strconv.Itoa(c.lockMS),
		"SCALE_GOROUTINES="+strconv.Itoa(max(c.goroutines, 1)),
		"SCALE_PAUSE_MS="+strconv.Itoa(int(c.pause.Milliseconds())),
		"SCALE_READY="+p.ready,
	)
	if c.watch {
		p.cmd.Env = append(p.cmd.Env, "SCALE_WATCH=1")
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitReady waits until every worker has got its first token, so that a
// test's fault starts when all of them are running, however slowly a busy
// machine starts processes.
func waitReady(t *testing.T, procs []*proc, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, p := range procs {
		for {
			if _, err := os.Stat(p.ready); err == nil {
				break
			}
			select {
			case <-p.done:
				t.Fatalf("worker exited before its first token:\n%s", p.stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker not ready within %v", within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// wait waits for the worker's report; a worker that fails or prints no
// report fails the test with its stderr.
func (p *proc) wait(t *testing.T, within time.Duration) report {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("worker %d did not finish within %v; stderr:\n%s", p.cmd.Process.Pid, within, p.stderr.String())
	}
	var r report
	if err := json.Unmarshal(p.stdout.Bytes(), &r); err != nil || p.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("worker %d: exit %d, report %q (%v); stderr:\n%s", p.cmd.Process.Pid, p.cmd.ProcessState.ExitCode(), p.stdout.String(), err, p.stderr.String())
	}
	if strings.Contains(p.stdout.String()+p.stderr.String(), tokentest.Canary) {
		t.Fatalf("worker %d printed a token", r.PID)
	}
	return r
}

func fingerprint(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:6])
}

type setup struct {
	redis  *redistest.Server
	ts     *tokentest.Server
	preset string
}

func start(t *testing.T, life time.Duration) *setup {
	t.Helper()
	s := &setup{redis: redistest.Start(t)}
	s.ts = tokentest.Start(life, map[string]string{"u1-id": "u1-SECRET-one", "u2-id": "u2-SECRET-two"})
	t.Cleanup(s.ts.Close)
	s.preset = filepath.Join(t.TempDir(), "preset.yaml")
	writePreset(t, s.preset, s.ts.TokenURL(), map[string]string{"u1": "u1-SECRET-one", "u2": "u2-SECRET-two"})
	return s
}

// checkShared fails when a user's granted requests from since exceed one
// per token interval elapsed plus one.
func checkShared(t *testing.T, ts *tokentest.Server, since time.Time, elapsed time.Duration, what string) {
	t.Helper()
	bound := int(elapsed/interval) + 1
	got := ts.Granted(since)
	for _, u := range []string{"u1-id", "u2-id"} {
		t.Logf("%s: %s: %d token requests in %v (%.2f token lifetimes; bound %d)", what, u, got[u], elapsed.Round(time.Millisecond), float64(elapsed)/float64(lifetime), bound)
		if got[u] > bound {
			t.Errorf("%s: %s made %d token requests in %v, more than one per %v plus one (%d)", what, u, got[u], elapsed, interval, bound)
		}
		if got[u] == 0 && what != "after restart" {
			t.Errorf("%s: no token request for %s at all", what, u)
		}
	}
}

// TestProcessesShareOneFetchPerLifetime: 8 processes, bounded load, 8 s.
// Also a ninth process with a wrong secret, which gets invalid_client and
// never the shared token, and a dump of Redis that shows no token or secret.
func TestProcessesShareOneFetchPerLifetime(t *testing.T) {
	s := start(t, lifetime)
	wrong := filepath.Join(t.TempDir(), "wrong.yaml")
	writePreset(t, wrong, s.ts.TokenURL(), map[string]string{"u1": "u1-WRONG", "u2": "u2-WRONG"})
	begin := time.Now()
	var procs []*proc
	for range 8 {
		procs = append(procs, spawn(t, workerConfig{preset: s.preset, store: s.redis.URL(), run: 8 * time.Second, lockMS: 2000, goroutines: 3, pause: 5 * time.Millisecond}))
	}
	bad := spawn(t, workerConfig{preset: wrong, store: s.redis.URL(), run: 8 * time.Second, lockMS: 2000, pause: 200 * time.Millisecond})
	calls := 0
	for _, p := range procs {
		r := p.wait(t, 30*time.Second)
		if r.Errors != 0 || r.Calls == 0 {
			t.Errorf("worker %d: %d calls, %d errors %v", r.PID, r.Calls, r.Errors, r.Codes)
		}
		calls += r.Calls
	}
	elapsed := time.Since(begin)
	t.Logf("8 processes made %d token calls", calls)
	checkShared(t, s.ts, begin, elapsed, "8 processes")
	rb := bad.wait(t, 30*time.Second)
	if rb.Errors == 0 || rb.Errors != rb.Codes["invalid_client"] || rb.Errors != rb.Calls || len(rb.Final) != 0 {
		t.Errorf("wrong secret: %d calls, %d errors %v, tokens %v; want invalid_client every time and no token", rb.Calls, rb.Errors, rb.Codes, rb.Final)
	}
	dump(t, s.redis, "u1-SECRET-one", "u2-SECRET-two", "u1-WRONG", "u2-WRONG", "u1-id", "u2-id")
}

// dump reads every key in Redis (SCAN, then GET of each) and fails when a
// key or a value shows a token or one of secrets.
func dump(t *testing.T, r *redistest.Server, secrets ...string) {
	t.Helper()
	out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(r.Port), "--scan").Output()
	if err != nil {
		t.Fatalf("redis-cli --scan: %v", err)
	}
	keys := strings.Fields(string(out))
	if len(keys) == 0 {
		t.Fatal("Redis holds no key: nothing was shared")
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "cctoken:{") {
			t.Errorf("unexpected key %q", k)
		}
		v, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(r.Port), "GET", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(secrets, tokentest.Canary, "Bearer") {
			if strings.Contains(k, s) || strings.Contains(string(v), s) {
				t.Errorf("Redis key %q or its value shows %q", k, s)
			}
		}
	}
}

// TestRedisStopAndRestart stops Redis while 4 processes run (they fetch on
// their own, callers see no error) and starts it again (sharing resumes).
func TestRedisStopAndRestart(t *testing.T) {
	s := start(t, lifetime)
	var procs []*proc
	for range 4 {
		procs = append(procs, spawn(t, workerConfig{preset: s.preset, store: s.redis.URL(), run: 10 * time.Second, lockMS: 2000, goroutines: 2, pause: 5 * time.Millisecond}))
	}
	waitReady(t, procs, 30*time.Second)
	time.Sleep(1500 * time.Millisecond)
	s.redis.Stop()
	down := time.Now()
	time.Sleep(2500 * time.Millisecond)
	s.redis.Restart()
	up := time.Now()
	for _, p := range procs {
		if r := p.wait(t, 30*time.Second); r.Errors != 0 {
			t.Errorf("worker %d: %d errors %v while Redis was down or back", r.PID, r.Errors, r.Codes)
		}
		if n := strings.Count(p.stderr.String(), "msg=\"cctoken: shared store"); n != 1 {
			t.Errorf("worker logged the failing store %d times, want once:\n%s", n, p.stderr.String())
		}
	}
	end := time.Now()
	downHits := 0
	for _, h := range s.ts.Hits() {
		if h.Token != "" && h.At.After(down) && h.At.Before(up) {
			downHits++
		}
	}
	t.Logf("while Redis was down (%v): %d token requests", up.Sub(down).Round(time.Millisecond), downHits)
	if downHits < 3 {
		t.Errorf("while Redis was down only %d token requests: the processes should have fetched on their own", downHits)
	}
	// Once every process has passed one refresh point after the restart,
	// they share again.
	since := up.Add(interval + 300*time.Millisecond)
	checkShared(t, s.ts, since, end.Sub(since), "after restart")
}

// TestLockHolderKilled SIGKILLs the process that holds the fetch lock while
// its token request hangs: another process fetches once the lock expires and
// no caller fails.
func TestLockHolderKilled(t *testing.T) {
	s := start(t, lifetime)
	s.ts.HoldNext("u1-id")
	var procs []*proc
	for range 4 {
		procs = append(procs, spawn(t, workerConfig{preset: s.preset, store: s.redis.URL(), run: 5 * time.Second, lockMS: 1000, goroutines: 2, pause: 5 * time.Millisecond}))
	}
	var held tokentest.Hit
	select {
	case held = <-s.ts.Held():
	case <-time.After(20 * time.Second):
		t.Fatal("no token request arrived")
	}
	var victim *proc
	for _, p := range procs {
		if strconv.Itoa(p.cmd.Process.Pid) == held.Worker {
			victim = p
		}
	}
	if victim == nil {
		t.Fatalf("the held request came from %q, not one of the workers", held.Worker)
	}
	victim.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	<-victim.done
	for _, p := range procs {
		if p == victim {
			continue
		}
		if r := p.wait(t, 30*time.Second); r.Errors != 0 || r.Final["u1"] == "" {
			t.Errorf("worker %d: %d errors %v, u1 token %q", r.PID, r.Errors, r.Codes, r.Final["u1"])
		}
	}
	var first time.Time
	n := 0
	for _, h := range s.ts.Hits() {
		if h.Client == "u1-id" && h.Token != "" {
			if n == 0 {
				first = h.At
			}
			n++
		}
	}
	t.Logf("lock holder killed %v after its request; next u1 fetch %v after the request", killed.Sub(held.At).Round(time.Millisecond), first.Sub(held.At).Round(time.Millisecond))
	if first.Sub(held.At) < 900*time.Millisecond {
		t.Errorf("u1 fetched %v after the held request, before the 1 s lock expired", first.Sub(held.At))
	}
	if first.Sub(held.At) > 3*time.Second {
		t.Errorf("u1 fetched only %v after the held request: waiters should fetch once the 1 s lock expires", first.Sub(held.At))
	}
	checkShared(t, s.ts, held.At, time.Since(held.At), "after the kill")
	if t.Failed() {
		for _, h := range s.ts.Hits() {
			t.Logf("request of %s at %v (granted %v) from worker %s", h.Client, h.At.Sub(held.At).Round(time.Millisecond), h.Token != "", h.Worker)
		}
	}
}

// TestHotReloadWhileLoadRuns rotates u2's secret in the watched file while 4
// processes run, then writes a broken file.
func TestHotReloadWhileLoadRuns(t *testing.T) {
	s := start(t, time.Minute) // no refresh during the test
	var procs []*proc
	for range 4 {
		procs = append(procs, spawn(t, workerConfig{preset: s.preset, store: s.redis.URL(), run: 7 * time.Second, lockMS: 2000, watch: true, goroutines: 2, pause: 5 * time.Millisecond}))
	}
	// Rotate only once every worker runs (and so watches the file) with
	// the first secret; a busy machine starts them slowly.
	waitReady(t, procs, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	rotated := time.Now()
	s.ts.SetSecret("u2-id", "u2-SECRET-rotated")
	writePreset(t, s.preset, s.ts.TokenURL(), map[string]string{"u1": "u1-SECRET-one", "u2": "u2-SECRET-rotated"})
	time.Sleep(2500 * time.Millisecond)
	if err := os.WriteFile(s.preset, []byte("preset: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var u1, u2 []string
	for _, h := range s.ts.Hits() {
		switch {
		case h.Client == "u1-id" && h.Token != "":
			u1 = append(u1, fingerprint(h.Token))
		case h.Client == "u2-id" && h.Token != "":
			u2 = append(u2, fingerprint(h.Token))
		}
	}
	for _, p := range procs {
		r := p.wait(t, 30*time.Second)
		if r.Errors != 0 {
			t.Errorf("worker %d: %d errors %v", r.PID, r.Errors, r.Codes)
		}
		if len(u1) != 1 || r.Final["u1"] != u1[0] {
			t.Errorf("worker %d: u1 (unchanged) should keep its one token: issued %v, worker has %s", r.PID, u1, r.Final["u1"])
		}
		if len(u2) != 2 || r.Final["u2"] != u2[1] {
			t.Errorf("worker %d: u2 (rotated) should have the one token fetched with the new secret: issued %v, worker has %s", r.PID, u2, r.Final["u2"])
		}
		if n := strings.Count(p.stderr.String(), "the new preset was refused"); n != 1 {
			t.Errorf("worker %d logged the broken file %d times, want once:\n%s", r.PID, n, p.stderr.String())
		}
		if strings.Contains(p.stderr.String(), "SECRET") {
			t.Errorf("worker %d logged a secret:\n%s", r.PID, p.stderr.String())
		}
	}
	for _, h := range s.ts.Hits() {
		if h.Client == "u2-id" && h.Token == "" && h.At.After(rotated) {
			t.Errorf("a token request with the old u2 secret after the rotation")
		}
	}
}

func writePresetTB(tb testing.TB, path, url string) {
	writePreset(tb, path, url, map[string]string{"u1": "u1-SECRET-one", "u2": "u2-SECRET-two"})
}

func spawnTB(tb testing.TB, c workerConfig) *proc { return spawn(tb, c) }

func mustRead(tb testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
