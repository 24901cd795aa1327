package proxy

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cctoken/cctoken/host"
)

// KeyHeader carries the inbound key callers send when the handler has one.
const KeyHeader = "X-Cctoken-Key"

// ReplayLimit is the largest request body kept in memory so that the
// module may have the request sent again (a retry after invalid_token or a
// DPoP nonce, a same-origin redirect); larger bodies, and bodies of unknown
// length, stream through once. The edge worker's limit.
const ReplayLimit = 1 << 20

// Request headers a caller may not choose or that concern only the hop to
// the proxy (RFC 9110 §7.6.1), as the edge worker drops them.
var dropRequest = []string{
	"Authorization", "Cookie", "Dpop", KeyHeader, "Connection", "Keep-Alive", "Proxy-Authorization",
	"Proxy-Authenticate", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
}

// Response headers that concern only the hop from the upstream.
var dropResponse = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Trailer"}

// Event is one request the handler answered, for metrics and access logs.
// It holds no token, secret, query string or header value.
type Event struct {
	Route    string // Route.Name(); "" when no route matched or the key was wrong
	User     string
	Method   string
	Status   int
	Error    string // the error code of an answer the handler made itself
	Duration time.Duration
}

// Option configures a Handler.
type Option func(*Handler)

// WithInboundKey makes callers send key in X-Cctoken-Key (compared in
// constant time); "" means no key is asked for.
func WithInboundKey(key string) Option {
	return func(h *Handler) { h.key = sha256.Sum256([]byte(key)); h.hasKey = key != "" }
}

// WithUpstream sets the transport upstream requests go through (default: an
// http.Transport with HTTP/2 and the timeouts of NewUpstream(60s)).
func WithUpstream(rt http.RoundTripper) Option { return func(h *Handler) { h.base = rt } }

// WithEvents makes the handler report each answer to f.
func WithEvents(f func(Event)) Option { return func(h *Handler) { h.events = f } }

// NewUpstream is a transport for upstream requests: HTTP/1.1 or HTTP/2
// (ALPN), bounded dialing and TLS handshakes, and at most header of wait
// for an upstream's response headers (0: no bound).
func NewUpstream(header time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // the route's origin is the only destination
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: header,
	}
}

// Handler signs and forwards requests by a route table. It is safe for
// concurrent use; SetRoutes swaps the table without dropping requests.
type Handler struct {
	client *host.Client
	base   http.RoundTripper
	key    [32]byte
	hasKey bool
	events func(Event)
	table  atomic.Pointer[table]
}

// table is a route table with each route's transport, made once.
type table struct {
	routes *Routes
	rts    map[*Route]http.RoundTripper
}

// New returns a handler that sends requests as the routes' users of c.
func New(c *host.Client, routes *Routes, opts ...Option) *Handler {
	h := &Handler{client: c}
	for _, o := range opts {
		o(h)
	}
	if h.base == nil {
		h.base = NewUpstream(60 * time.Second)
	}
	h.SetRoutes(routes)
	return h
}

// SetRoutes replaces the route table; requests under way finish with the
// old one.
func (h *Handler) SetRoutes(routes *Routes) {
	t := &table{routes: routes, rts: make(map[*Route]http.RoundTripper, len(routes.list))}
	for _, r := range routes.list {
		t.rts[r] = h.client.Transport(r.User, h.base, r.TokenOptions()...)
	}
	h.table.Store(t)
}

// Routes returns the table in use.
func (h *Handler) Routes() *Routes { return h.table.Load().routes }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ev := Event{Method: r.Method}
	ev.Status, ev.Error = h.serve(w, r, &ev)
	if h.events != nil {
		ev.Duration = time.Since(start)
		h.events(ev)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, ev *Event) (int, string) {
	if h.hasKey {
		given := sha256.Sum256([]byte(r.Header.Get(KeyHeader)))
		if r.Header.Get(KeyHeader) == "" || subtle.ConstantTimeCompare(given[:], h.key[:]) != 1 {
			w.Header().Set("WWW-Authenticate", "CctokenKey")
			return answer(w, http.StatusUnauthorized, "unauthorized", "send the proxy's inbound key in X-Cctoken-Key", "")
		}
	}
	t := h.table.Load()
	route := t.routes.Match(r.Host, r.URL.EscapedPath())
	if route == nil {
		return answer(w, http.StatusForbidden, "no_route", "no route for this host and path: the proxy forwards only to the upstream origins in its route table", "")
	}
	ev.Route, ev.User = route.Name(), route.User
	target := route.Upstream(r.URL.EscapedPath(), r.URL.RawQuery)
	if target == nil {
		return answer(w, http.StatusForbidden, "origin_not_allowed", "the request would leave the route's upstream origin", "")
	}
	out, err := outbound(r, target)
	if err != nil {
		return answer(w, http.StatusBadRequest, "bad_request", "the request body could not be read", "")
	}
	resp, err := t.rts[route].RoundTrip(out)
	if err != nil {
		var he *host.Error
		if errors.As(err, &he) {
			return tokenFailure(w, he, route.User)
		}
		return answer(w, http.StatusBadGateway, "upstream_unreachable", "the upstream did not answer", "")
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		from := target
		if resp.Request != nil && resp.Request.URL != nil {
			from = resp.Request.URL
		}
		if next, err := from.Parse(loc); err == nil && !route.SameOrigin(next) {
			// Not followed: the caller must stay on the route. The module
			// already kept the credentials from the other origin.
			return answer(w, http.StatusForbidden, "redirect_not_allowed", "the upstream redirected to another origin; the proxy sends tokens only to the route's upstream origin and did not follow", "")
		}
	}
	passBack(w, r, resp)
	return resp.StatusCode, ""
}

// outbound is the request as it goes upstream: the caller's credentials
// and hop-by-hop headers removed, the body kept for a replay when small.
func outbound(r *http.Request, target *url.URL) (*http.Request, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), nil)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, v := range r.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			listed[textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	out.Header = make(http.Header, len(r.Header))
	for k, vs := range r.Header {
		if listed[k] {
			continue
		}
		out.Header[k] = append([]string(nil), vs...)
	}
	for _, k := range dropRequest {
		out.Header.Del(k)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return out, nil
	}
	if r.ContentLength > 0 && r.ContentLength <= ReplayLimit {
		b, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
		if err != nil {
			return nil, err
		}
		out.ContentLength = int64(len(b))
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		return out, nil
	}
	// Streamed once: the transport does not send it again.
	out.Body, out.ContentLength = io.NopCloser(r.Body), r.ContentLength
	return out, nil
}

// passBack writes the upstream's answer, streaming its body (flushed as it
// comes when its length is unknown, for event streams).
func passBack(w http.ResponseWriter, r *http.Request, resp *http.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	for _, v := range resp.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, k := range dropResponse {
		h.Del(k)
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if resp.ContentLength >= 0 {
		io.Copy(w, resp.Body)
		return
	}
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

func answer(w http.ResponseWriter, status int, code, description, user string) (int, string) {
	body := map[string]any{"error": code, "error_description": description}
	if user != "" {
		body["user"] = user
	}
	writeJSON(w, status, body)
	return status, code
}

func writeJSON(w http.ResponseWriter, status int, body map[string]any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// tokenFailure is the 502 for a token that cannot be had: the OAuth error
// (or network, timeout, ...) as the module reported it, which holds no
// token or secret.
func tokenFailure(w http.ResponseWriter, err *host.Error, user string) (int, string) {
	code := err.Code
	if code == "" {
		code = "token_error"
	}
	msg := err.Message
	if msg == "" {
		msg = "the token request failed"
	}
	body := map[string]any{"error": code, "error_description": msg, "user": user}
	if err.Status != 0 {
		body["token_endpoint_status"] = err.Status
	}
	writeJSON(w, http.StatusBadGateway, body)
	return http.StatusBadGateway, code
}
