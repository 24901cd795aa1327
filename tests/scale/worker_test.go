package scale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/redisstore"
	"github.com/cctoken/cctoken/internal/watch"
)

// worker is one instance of a service: a host.Client with the Redis store,
// a few goroutines asking for both users' tokens until its time is up, the
// preset watched when SCALE_WATCH is set. It prints a report as JSON and
// logs (warnings and reloads) to stderr.
func worker() int {
	env := func(k string) int { n, _ := strconv.Atoi(os.Getenv(k)); return n }
	text, err := os.ReadFile(os.Getenv("SCALE_PRESET"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st, err := redisstore.Open(os.Getenv("SCALE_STORE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	pid := strconv.Itoa(os.Getpid())
	ctx := context.Background()
	c, err := host.New(ctx, text, host.WithStore(st), host.WithStoreLock(time.Duration(env("SCALE_LOCK_MS"))*time.Millisecond),
		host.WithLogger(log), host.WithHTTPClient(&http.Client{Transport: tagged{pid}}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer c.Close()
	runCtx, cancel := context.WithTimeout(ctx, time.Duration(env("SCALE_RUN_MS"))*time.Millisecond)
	defer cancel()
	if os.Getenv("SCALE_WATCH") != "" {
		go watch.File(runCtx, os.Getenv("SCALE_PRESET"), text, func(b []byte) { c.Reload(ctx, b) }, nil)
	}
	var (
		mu  sync.Mutex
		rep = report{PID: os.Getpid(), Codes: map[string]int{}, Final: map[string]string{}}
		wg  sync.WaitGroup

		readyOnce sync.Once
	)
	pause := time.Duration(env("SCALE_PAUSE_MS")) * time.Millisecond
	for range env("SCALE_GOROUTINES") {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				for _, u := range []string{"u1", "u2"} {
					tok, err := c.Token(ctx, u)
					mu.Lock()
					rep.Calls++
					if err != nil {
						rep.Errors++
						var he *host.Error
						if errors.As(err, &he) {
							rep.Codes[he.Code]++
						} else {
							rep.Codes[err.Error()]++
						}
					} else {
						rep.Final[u] = fingerprint(tok.AccessToken)
						if len(rep.Final) == 2 {
							readyOnce.Do(func() { os.WriteFile(os.Getenv("SCALE_READY"), nil, 0o600) }) // tells the test this process runs
						}
					}
					mu.Unlock()
				}
				time.Sleep(pause)
			}
		}()
	}
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

// tagged marks token requests with the worker's pid, so the endpoint can
// tell which process holds a request.
type tagged struct{ pid string }

func (t tagged) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Worker", t.pid)
	return http.DefaultTransport.RoundTrip(r)
}
