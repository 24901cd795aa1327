package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/proxy"
	"github.com/cctoken/cctoken/internal/watch"
)

const proxyUsage = "usage: cctoken proxy FILE --routes ROUTES.json [--listen 127.0.0.1:8080 | --listen unix:/path] [--metrics ADDR] [--store URL] [--watch] [--access-log]"

// inboundKeyEnv names the variable holding the key callers send when the
// proxy listens off loopback.
const inboundKeyEnv = "CCTOKEN_INBOUND_KEY"

// proxyCmd runs the request-signing proxy (host/proxy) until SIGTERM or
// SIGINT, then lets the requests under way finish.
func (e *cliEnv) proxyCmd(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	routesFile := fs.String("routes", "", "the route table (docs/routes.md)")
	listen := fs.String("listen", "127.0.0.1:8080", "where callers reach the proxy: HOST:PORT, or unix:/path for a socket with mode 0600; off loopback "+inboundKeyEnv+" is required")
	metricsAddr := fs.String("metrics", "", "serve /metrics, /healthz and /readyz on this address")
	watchFiles := fs.Bool("watch", false, "reload the preset and the route table when they change; a version that does not load is refused and the old one keeps serving")
	accessLog := fs.Bool("access-log", false, "log each request to stderr as JSON: route, user, method, status, duration (no path, query, header value or token)")
	upstreamTimeout := fs.Duration("upstream-timeout", 60*time.Second, "how long to wait for an upstream's response headers")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long requests under way may take to finish after SIGTERM or SIGINT")
	e.storeFlags(fs)
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *routesFile == "" {
		return usageError(proxyUsage)
	}
	if *watchFiles && pos[0] == "-" {
		return usageError("cctoken proxy: --watch needs a preset file, not standard input")
	}
	if *upstreamTimeout <= 0 || *shutdownTimeout <= 0 {
		return usageError("cctoken proxy: --upstream-timeout and --shutdown-timeout must be more than 0, like 30s")
	}
	routesText, err := os.ReadFile(*routesFile)
	if err != nil {
		return fmt.Errorf("cctoken proxy: cannot read the route table: %w", err)
	}
	routes, err := proxy.ParseRoutes(routesText)
	if err != nil {
		return fmt.Errorf("cctoken proxy: %s: %w", *routesFile, err)
	}
	key, err := inboundKey(*listen)
	if err != nil {
		return err
	}
	var presetText []byte
	if *watchFiles {
		if presetText, err = e.readFile(pos[0]); err != nil {
			return err
		}
	}
	m := newMetrics()
	e.clientOptions = append(e.clientOptions, host.WithObserver(m))
	c, err := e.client(pos[0])
	if err != nil {
		return err
	}
	defer e.release(c)
	if err := knownUsers(c, routes); err != nil {
		return fmt.Errorf("cctoken proxy: %s: %w", *routesFile, err)
	}

	ln, where, err := listenOn(*listen)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, nil))
	opts := []proxy.Option{proxy.WithUpstream(proxy.NewUpstream(*upstreamTimeout)), proxy.WithEvents(func(ev proxy.Event) {
		m.proxyEvent(ev)
		if *accessLog {
			attrs := []any{"route", ev.Route, "user", ev.User, "method", ev.Method, "status", ev.Status, "duration_ms", float64(ev.Duration.Microseconds()) / 1000}
			if ev.Error != "" {
				attrs = append(attrs, "error", ev.Error)
			}
			logger.Info("request", attrs...)
		}
	})}
	if key != "" {
		opts = append(opts, proxy.WithInboundKey(key))
	}
	h := proxy.New(c, routes, opts...)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	warm(ctx, c, routes)

	if *metricsAddr != "" {
		at, err := serveMetrics(ctx, *metricsAddr, m, func() []string { return routedUsers(h.Routes()) })
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(e.stdout, "metrics on http://%s/metrics\n", at)
	}
	if *watchFiles {
		go watch.File(ctx, pos[0], presetText, func(b []byte) {
			if err := c.Reload(ctx, b); err != nil {
				fmt.Fprintf(e.stderr, "cctoken proxy: %s was not reloaded; the previous version keeps serving: %s\n", pos[0], err)
				return
			}
			if err := knownUsers(c, h.Routes()); err != nil {
				fmt.Fprintf(e.stderr, "cctoken proxy: after reloading %s the route table names a user it lacks: %s\n", pos[0], err)
			}
			fmt.Fprintf(e.stdout, "reloaded %s: %d users\n", pos[0], len(c.Users()))
			warm(ctx, c, h.Routes())
		}, func(err error) { logger.Warn("cctoken proxy: watching the preset", "error", err.Error()) })
		go watch.File(ctx, *routesFile, routesText, func(b []byte) {
			t, err := proxy.ParseRoutes(b)
			if err == nil {
				err = knownUsers(c, t)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "cctoken proxy: %s was not reloaded; the previous table keeps serving: %s\n", *routesFile, err)
				return
			}
			h.SetRoutes(t)
			fmt.Fprintf(e.stdout, "reloaded %s: %d routes\n", *routesFile, len(t.All()))
			warm(ctx, c, t)
		}, func(err error) { logger.Warn("cctoken proxy: watching the routes", "error", err.Error()) })
	}

	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(e.stdout, "listening on %s\n", where)
	select {
	case err := <-served:
		return fmt.Errorf("cctoken proxy: %w", err)
	case <-e.ctx.Done():
	}
	// Stop accepting, let requests under way finish.
	sctx, scancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer scancel()
	err = srv.Shutdown(sctx)
	cancel()
	if err != nil {
		return fmt.Errorf("cctoken proxy: requests still under way after %s were cut off", *shutdownTimeout)
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}

// inboundKey returns the key callers must send: none on loopback or a Unix
// socket unless the environment sets one; off loopback one of at least 16
// characters is required.
func inboundKey(listen string) (string, error) {
	key, set := os.LookupEnv(inboundKeyEnv)
	local := strings.HasPrefix(listen, "unix:")
	if !local {
		h, _, err := net.SplitHostPort(listen)
		if err != nil {
			return "", usageError("cctoken proxy: --listen: give HOST:PORT (like 127.0.0.1:8080) or unix:/path")
		}
		ip := net.ParseIP(h)
		local = h == "localhost" || (ip != nil && ip.IsLoopback())
	}
	switch {
	case set && len(key) < 16:
		return "", usageError("cctoken proxy: " + inboundKeyEnv + " must be at least 16 characters")
	case !set && !local:
		return "", usageError("cctoken proxy: --listen " + listen + " is not loopback: set " + inboundKeyEnv + " to a key of at least 16 characters that callers send in X-Cctoken-Key, or listen on 127.0.0.1 or a unix: socket")
	}
	return key, nil
}

// listenOn opens the listener; a Unix socket is made with mode 0600 (the
// umask is narrowed while it is created, so it is never wider).
func listenOn(listen string) (net.Listener, string, error) {
	if path, ok := strings.CutPrefix(listen, "unix:"); ok {
		if path == "" {
			return nil, "", usageError("cctoken proxy: --listen unix: needs a path, like unix:/run/cctoken.sock")
		}
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(path) // a socket left by an earlier run
		}
		old := syscall.Umask(0o177)
		ln, err := net.Listen("unix", path)
		syscall.Umask(old)
		if err != nil {
			return nil, "", fmt.Errorf("cctoken proxy: --listen: %w", err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, "", fmt.Errorf("cctoken proxy: --listen: %w", err)
		}
		return ln, "unix:" + path, nil
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", fmt.Errorf("cctoken proxy: --listen: %w", err)
	}
	return ln, "http://" + ln.Addr().String(), nil
}

// knownUsers checks that every route names a user of the preset.
func knownUsers(c *host.Client, routes *proxy.Routes) error {
	have := map[string]bool{}
	for _, u := range c.Users() {
		have[u.Username] = true
	}
	for _, r := range routes.All() {
		if !have[r.User] {
			return fmt.Errorf("route %s: user %q is not in the preset", r.Name(), r.User)
		}
	}
	return nil
}

// routedUsers are the users readiness waits for.
func routedUsers(routes *proxy.Routes) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range routes.All() {
		if !seen[r.User] {
			seen[r.User] = true
			out = append(out, r.User)
		}
	}
	return out
}

// warm fetches each route's token in the background, so the first
// requests do not wait and /readyz turns ready.
func warm(ctx context.Context, c *host.Client, routes *proxy.Routes) {
	for _, r := range routes.All() {
		go func() {
			tctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			// A failure is the observer's (metrics, readiness) to report;
			// requests get it as a 502.
			c.Token(tctx, r.User, r.TokenOptions()...)
		}()
	}
}
