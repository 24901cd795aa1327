package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/proxy"
)

// metrics turns the library's events (host.Observer, proxy.Event) into
// Prometheus metrics and readiness. Labels are usernames, outcome codes,
// route names from the route table and status classes: never a token, a
// secret, a query or a header value.
type metrics struct {
	reg           *prometheus.Registry
	tokenRequests *prometheus.CounterVec
	tokenDuration *prometheus.HistogramVec
	proxyRequests *prometheus.CounterVec
	proxyDuration *prometheus.HistogramVec

	mu    sync.Mutex
	users map[string]*userState
}

// userState is what readiness and the expiry gauge need of one user.
type userState struct {
	expiry  time.Time // of the current token; zero when none
	outcome string    // of the last fetch; "" before the first ends
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		tokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cctoken_token_requests_total",
			Help: "HTTP requests sent to token endpoints (and issuer metadata), by user and the outcome of the fetch they were part of (ok or the error code).",
		}, []string{"user", "outcome"}),
		tokenDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cctoken_token_request_duration_seconds",
			Help:    "How long token fetches that sent requests took, by user.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"user"}),
		proxyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cctoken_proxy_requests_total",
			Help: "Requests the proxy answered, by route (host and path from the route table; (none) when unrouted) and status class.",
		}, []string{"route", "status_class"}),
		proxyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cctoken_proxy_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		users: map[string]*userState{},
	}
	m.reg.MustRegister(m.tokenRequests, m.tokenDuration, m.proxyRequests, m.proxyDuration, expiryCollector{m},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// TokenFetchStarted is part of host.Observer.
func (m *metrics) TokenFetchStarted(string) {}

// TokenFetchDone is part of host.Observer.
func (m *metrics) TokenFetchDone(f host.TokenFetch) {
	if f.Requests > 0 {
		m.tokenRequests.WithLabelValues(f.User, f.Outcome).Add(float64(f.Requests))
		m.tokenDuration.WithLabelValues(f.User).Observe(f.Duration.Seconds())
	}
	m.mu.Lock()
	s := m.users[f.User]
	if s == nil {
		s = &userState{}
		m.users[f.User] = s
	}
	s.outcome = f.Outcome
	if !f.Expiry.IsZero() {
		s.expiry = f.Expiry
	}
	m.mu.Unlock()
}

// proxyEvent records one answer of the proxy.
func (m *metrics) proxyEvent(e proxy.Event) {
	route := e.Route
	if route == "" {
		route = "(none)"
	}
	m.proxyRequests.WithLabelValues(route, strconv.Itoa(e.Status/100)+"xx").Inc()
	m.proxyDuration.WithLabelValues(route).Observe(e.Duration.Seconds())
}

// expiryCollector reports the seconds left on each user's token when
// scraped, so the figure is current without a ticker.
type expiryCollector struct{ m *metrics }

var expiryDesc = prometheus.NewDesc("cctoken_token_expiry_seconds",
	"Seconds left on each user's current token (negative once expired).", []string{"user"}, nil)

func (c expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- expiryDesc }

func (c expiryCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for user, s := range c.m.users {
		if !s.expiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, time.Until(s.expiry).Seconds(), user)
		}
	}
}

// unready lists the users (of those given) that are not ready, with why:
// a user is ready when it has a usable token, or when its token endpoint
// answered the last attempt (a refusal is the preset's problem, not one a
// restart fixes).
func (m *metrics) unready(users []string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	now := time.Now()
	for _, u := range users {
		s := m.users[u]
		switch {
		case s == nil || s.outcome == "":
			out = append(out, u+": no token yet")
		case s.expiry.After(now):
		case unanswered(s.outcome):
			out = append(out, u+": "+s.outcome)
		}
	}
	sort.Strings(out)
	return out
}

// unanswered tells the outcomes where the token endpoint did not answer.
func unanswered(outcome string) bool {
	switch outcome {
	case "network", "timeout", "canceled", "too_large", "error", "client_certificate":
		return true
	}
	return false
}

// serveMetrics serves /metrics, /healthz and /readyz on addr until ctx
// ends; users gives the users readiness looks at. It returns the address
// it listens on.
func serveMetrics(ctx context.Context, addr string, m *metrics, users func() []string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", usageError("cctoken: --metrics: " + err.Error())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if bad := m.unready(users()); len(bad) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %s\n", strings.Join(bad, "; "))
			return
		}
		fmt.Fprintln(w, "ready")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("cctoken: metrics server:", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	return ln.Addr().String(), nil
}
