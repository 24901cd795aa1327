package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/redisstore"
	"github.com/cctoken/cctoken/internal/watch"
)

// Environment variables of the store: its URL when --store is absent (so
// that a password stays out of the process list of a long-running keep),
// and the deployment's store secret (host.WithStoreSecret).
const (
	storeEnv       = "CCTOKEN_STORE"
	storeSecretEnv = "CCTOKEN_STORE_SECRET"
)

// storeFlags adds --store (and its timeout) to a command.
func (e *cliEnv) storeFlags(fs *flag.FlagSet) {
	fs.StringVar(&e.storeURL, "store", "", "share tokens with other instances through this Redis (redis://HOST:PORT/DB, rediss://, redis+cluster://); default $"+storeEnv)
	fs.DurationVar(&e.storeTimeout, "store-timeout", 50*time.Millisecond, "a slower store answer counts as a miss")
}

// storeOptions opens the store named by --store or $CCTOKEN_STORE, if any,
// with the secret of $CCTOKEN_STORE_SECRET.
func (e *cliEnv) storeOptions() ([]host.Option, func(), error) {
	url, from := e.storeURL, "--store"
	if url == "" {
		url, from = os.Getenv(storeEnv), storeEnv
	}
	if url == "" {
		return nil, func() {}, nil
	}
	if e.storeTimeout <= 0 {
		return nil, nil, usageError("cctoken: --store-timeout must be more than 0, like 50ms")
	}
	st, err := redisstore.Open(url)
	if err != nil {
		return nil, nil, usageError("cctoken: " + from + ": " + err.Error())
	}
	opts := []host.Option{host.WithStore(st), host.WithStoreTimeout(e.storeTimeout)}
	if secret := os.Getenv(storeSecretEnv); secret != "" {
		opts = append(opts, host.WithStoreSecret(secret))
	}
	return opts, func() { st.Close() }, nil
}

// keep keeps every user's token fresh until interrupted: with --store it
// keeps the shared store warm for other instances; with --watch it reloads
// the preset when the file changes. It prints one line per new token
// (user and expiry, never the token) and per reload.
func (e *cliEnv) keep(args []string) error {
	fs := flag.NewFlagSet("keep", flag.ContinueOnError)
	every := fs.Duration("every", time.Second, "how often to look at each user's token")
	watchFile := fs.Bool("watch", false, "reload the preset when the file changes (rotated secrets); a file that does not load is refused and the old one keeps serving")
	metricsAddr := fs.String("metrics", "", "serve /metrics, /healthz and /readyz on this address")
	e.storeFlags(fs)
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken keep FILE [--store URL] [--watch] [--every 1s] [--metrics ADDR]")
	}
	if *every <= 0 {
		return usageError("cctoken keep: --every must be more than 0, like 1s")
	}
	if *watchFile && pos[0] == "-" {
		return usageError("cctoken keep: --watch needs a file, not standard input")
	}
	var text []byte // what --watch compares the file with
	if *watchFile {
		if text, err = e.readFile(pos[0]); err != nil {
			return err
		}
	}
	var m *metrics
	if *metricsAddr != "" {
		m = newMetrics()
		e.clientOptions = append(e.clientOptions, host.WithObserver(m))
	}
	c, err := e.client(pos[0])
	if err != nil {
		return err
	}
	defer e.release(c)
	if m != nil {
		at, err := serveMetrics(e.ctx, *metricsAddr, m, func() []string {
			var users []string
			for _, u := range c.Users() {
				users = append(users, u.Username)
			}
			return users
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "metrics on http://%s/metrics\n", at)
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	if *watchFile {
		go watch.File(e.ctx, pos[0], text, func(b []byte) {
			if err := c.Reload(e.ctx, b); err != nil {
				fmt.Fprintf(e.stderr, "cctoken keep: %s was not reloaded; the previous version keeps serving: %s\n", pos[0], err)
				return
			}
			fmt.Fprintf(e.stdout, "reloaded %s: %d users\n", pos[0], len(c.Users()))
		}, func(err error) { log.Warn("cctoken keep: watching the preset", "error", err.Error()) })
	}
	seen := map[string]time.Time{}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		for _, u := range c.Users() {
			ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
			tok, err := c.Token(ctx, u.Username)
			cancel()
			if e.ctx.Err() != nil {
				return nil
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "%s: %s\n", u.Username, err)
				continue
			}
			if !seen[u.Username].Equal(tok.Expiry) {
				seen[u.Username] = tok.Expiry
				fmt.Fprintf(e.stdout, "%s: token until %s\n", u.Username, tok.Expiry.UTC().Format(time.RFC3339))
			}
		}
		select {
		case <-e.ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
