// Package explorer is the server behind `cctoken explore`: it serves the API
// explorer page, the browser bundle and the module on a loopback address,
// and offers the page a same-origin relay for the token endpoints and APIs
// that do not allow cross-origin requests.
//
// # Routes
//
// Every route needs the per-launch secret (below); the printed URL is
// http://127.0.0.1:PORT/?token=SECRET.
//
//	GET  /, /index.html              the page
//	GET  /js/dist/cctoken.bundle.js  the JavaScript glue, bundled
//	GET  /host/embed/cctoken.wasm    the module
//	GET  /preset                     the preset given on the command line (404 without one)
//	GET  /relay                      what the relay allows: {"relay":1,"allowed_origins":[…],"token_urls":[…],"metadata_urls":[…],"preset":bool}
//	POST /relay/preset               {"text":"…"}: register the token URLs (and issuers) of the preset the page loaded
//	POST /relay                      {"method","url","headers":{…},"body"|"body_base64"}: forward one request
//
// # The relay is not an open proxy
//
// POST /relay forwards a request only when its target is
//
//   - a token URL (the `url` of a preset) of the preset given on the command
//     line or of a preset the page registered with POST /relay/preset, and
//     the method is POST; the preset is loaded by the module itself, so the
//     URLs are exactly the ones the module would send token requests to; or
//   - one of the metadata URLs of such a preset's `issuer` (RFC 8414
//     discovery), and the method is GET; the module gives them (the ABI's
//     discovery op), so they are exactly the URLs it fetches; or
//   - a token URL learned from such metadata, and the method is POST; or
//   - on an origin allowed with --allow-origin (scheme, host and port equal).
//
// A token URL is learned when the relay forwards a GET to an issuer's
// metadata URL and the module accepts the answer as that issuer's metadata
// (the ABI's metadata op: the checks a token call makes before it uses
// metadata); the relay then allows the token_endpoint it yields. The relay
// makes no protocol decision of its own. Learned token URLs share the bound
// of registered ones.
//
// So a token_endpoint with plain http:// is learned only on a loopback host,
// or with insecure: true, as for a preset's url: otherwise the relay would
// send a client secret unencrypted to wherever the metadata points.
//
// Anything else is refused with 403 and a JSON error. Every route checks
// that the Host header names the explorer itself on a loopback address
// (against DNS rebinding), and every POST must come from the explorer's own
// page: an Origin header equal to http://HOST, Sec-Fetch-Site (when sent)
// same-origin, and a JSON content type, which a cross-site form cannot send.
//
// # The per-launch secret
//
// The Host and Origin checks keep web pages out, not other processes or
// users of the machine, which can reach the port. So every route, static
// files included, also wants the secret New draws (256 bits from
// crypto/rand), either in the query as ?token=SECRET (the URL `cctoken
// explore` prints, and the page's import of the bundle) or in the header
// X-Cctoken-Explorer-Token (the page's fetches). It is compared in constant
// time; without it the answer is 403 secret_required, saying to open the
// printed URL. No cookie carries it: browsers send a cookie of 127.0.0.1 to
// every port of that host, so it would reach any other local server the
// browser visits. docs/explorer-security.md has the reasons.
//
// The relay answers 200 with an envelope for every response the target gave,
// whatever its status:
//
//	{"status":401,"status_text":"Unauthorized","headers":{"content-type":"…"},"body_base64":"…"}
//
// and an error status with {"error":CODE,"message":…} for its own failures:
// 400 bad_request, 403 forbidden_target or forbidden_origin, 502
// upstream_unreachable or too_large, 504 upstream_timeout. Redirects are
// not followed; the 3xx comes back in the envelope.
//
// The relay logs one line per forwarded request (method, scheme, host,
// path, status, time) and never a query string, a header value or a body.
package explorer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cctoken/cctoken"
	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/embed"
)

// Limits of the relay.
const (
	maxRelayRequest  = 4 << 20  // the JSON a page posts to /relay or /relay/preset
	maxRelayResponse = 16 << 20 // a target's response body
	relayTimeout     = 30 * time.Second
	maxModuleBody    = 1 << 20 // what a host passes the module of an answer
	// maxRegistered bounds the token URLs pages may register or the relay
	// may learn from metadata, and separately the issuers pages may
	// register; the oldest go first. The command line preset's URLs and
	// issuers are kept regardless.
	maxRegistered = 64
)

// SecretHeader is the request header the page sends the per-launch
// secret in; SecretParam the query parameter that carries it in URLs.
const (
	SecretHeader = "X-Cctoken-Explorer-Token"
	SecretParam  = "token"
)

// Server serves the explorer. It is an http.Handler.
type Server struct {
	secret   string          // the per-launch secret, base64url
	secretH  [32]byte        // its SHA-256, what requests are compared with
	origins  map[string]bool // allowed API origins, normalized
	client   *http.Client
	log      *slog.Logger
	files    map[string]asset
	loadSema chan struct{} // one preset load at a time

	mu         sync.Mutex
	preset     []byte          // the command line preset, or nil; SetPreset replaces it
	fixed      []string        // its token URLs, normalized
	fixedIss   []issuer        // its issuers
	hosts      map[string]bool // Host values accepted; nil: any loopback name
	registered []string        // token URLs registered by pages or learned, oldest first
	regIss     []issuer        // issuers registered by pages, oldest first
}

// issuer is a discovered preset's authorization server as the module
// describes it: the issuer as the preset gives it, the preset's insecure
// setting (both decide which metadata the module accepts) and the
// canonical URLs the module fetches the metadata from.
type issuer struct {
	name     string
	insecure bool
	meta     string // the canonical metadata URLs, joined by "\n" (comparable)
}

func newIssuer(in host.Issuer) (issuer, bool) {
	var meta []string
	for _, m := range in.MetadataURLs {
		cu, ok := canonicalURL(m)
		if !ok {
			return issuer{}, false
		}
		meta = append(meta, cu)
	}
	return issuer{name: in.Issuer, insecure: in.Insecure, meta: strings.Join(meta, "\n")}, len(meta) > 0
}

// metaURLs is the canonical metadata URLs.
func (i issuer) metaURLs() []string { return strings.Split(i.meta, "\n") }

type asset struct {
	body  []byte
	ctype string
	csp   string
	// gzip marks a body that is gzip-compressed: it is sent as it is to a
	// client that accepts gzip, and decompressed for one that does not.
	gzip bool
}

// Option configures a Server.
type Option func(*Server)

// WithLogger makes the server log relayed requests (never their headers,
// query strings or bodies). The default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithHosts pins the Host header values the server accepts (host:port, as
// a browser sends it). Without it any loopback name is accepted; Serve pins
// the listener's address.
func WithHosts(hosts ...string) Option {
	return func(s *Server) {
		s.hosts = map[string]bool{}
		for _, h := range hosts {
			s.hosts[strings.ToLower(h)] = true
		}
	}
}

// WithTransport sets the transport the relay forwards requests with (the
// default is http.DefaultTransport's settings, without proxies from the
// environment).
func WithTransport(rt http.RoundTripper) Option { return func(s *Server) { s.client.Transport = rt } }

// New makes the explorer. preset, when not nil, is a preset document whose
// token URLs the relay allows and that the page offers on start; it must
// load (${env:NAME} references need not be set: the server never resolves
// them). allowedOrigins are the API origins the relay may forward to, like
// https://api.example.com or http://127.0.0.1:8080.
func New(preset []byte, allowedOrigins []string, opts ...Option) (*Server, error) {
	s := &Server{
		origins:  map[string]bool{},
		log:      slog.New(slog.DiscardHandler),
		loadSema: make(chan struct{}, 1),
		client: &http.Client{
			Timeout: relayTimeout,
			Transport: &http.Transport{
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          16,
				IdleConnTimeout:       60 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: relayTimeout,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("cannot draw the explorer's secret: %v", err)
	}
	s.secret = base64.RawURLEncoding.EncodeToString(raw[:])
	s.secretH = sha256.Sum256([]byte(s.secret))
	for _, o := range allowedOrigins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		s.origins[n] = true
	}
	for _, opt := range opts {
		opt(s)
	}
	if preset != nil {
		urls, issuers, err := s.tokenURLs(context.Background(), preset)
		if err != nil {
			return nil, err
		}
		s.preset = bytes.Clone(preset)
		s.fixed = urls
		s.fixedIss = issuers
	}
	var err error
	if s.files, err = loadAssets(); err != nil {
		return nil, err
	}
	return s, nil
}

// Secret is the per-launch secret every request must carry.
func (s *Server) Secret() string { return s.secret }

// URL is the address to open in a browser for a server listening on addr
// (host:port): the page, with the secret.
func (s *Server) URL(addr string) string {
	return "http://" + addr + "/?" + SecretParam + "=" + s.secret
}

// hasSecret reports whether r carries the per-launch secret, in the header
// or the query. Both sides are hashed first, so the comparison takes the
// same time whatever was sent.
func (s *Server) hasSecret(r *http.Request) bool {
	given := r.Header.Get(SecretHeader)
	if given == "" {
		given = r.URL.Query().Get(SecretParam)
	}
	sum := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(sum[:], s.secretH[:]) == 1 && given != ""
}

// SetPreset replaces the command line preset, for `cctoken explore
// --watch`: the page gets the new one when it (re)loads, and the relay
// allows the new preset's token URLs and issuers instead of the old ones.
// A document that does not load is refused and the old one stays.
func (s *Server) SetPreset(ctx context.Context, preset []byte) error {
	urls, issuers, err := s.tokenURLs(ctx, preset)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.preset = bytes.Clone(preset)
	s.fixed = urls
	s.fixedIss = issuers
	return nil
}

func loadAssets() (map[string]asset, error) {
	page, err := fs.ReadFile(cctoken.WebAssets, "index.html")
	if err != nil {
		return nil, err
	}
	bundle, err := fs.ReadFile(cctoken.WebAssets, "js/dist/cctoken.bundle.js")
	if err != nil {
		return nil, err
	}
	html := asset{body: page, ctype: "text/html; charset=utf-8", csp: pageCSP(page)}
	return map[string]asset{
		"/":                          html,
		"/index.html":                html,
		"/js/dist/cctoken.bundle.js": {body: bundle, ctype: "text/javascript; charset=utf-8"},
		"/host/embed/cctoken.wasm":   {body: embed.Gzip, ctype: "application/wasm", gzip: true},
	}, nil
}

var inlineBlock = regexp.MustCompile(`(?s)<(script|style)\b[^>]*>(.*?)</(?:script|style)>`)

// pageCSP allows the page's own inline script and style by hash, scripts
// and the module from its own origin, and connections anywhere (the page
// calls the token endpoints and the URLs its user types).
func pageCSP(page []byte) string {
	var scripts, styles []string
	for _, m := range inlineBlock.FindAllSubmatch(page, -1) {
		if len(bytes.TrimSpace(m[2])) == 0 {
			continue
		}
		sum := sha256.Sum256(m[2])
		h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if string(m[1]) == "script" {
			scripts = append(scripts, h)
		} else {
			styles = append(styles, h)
		}
	}
	return "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' " + strings.Join(scripts, " ") +
		"; style-src 'self' " + strings.Join(styles, " ") +
		"; connect-src *; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// Serve serves the explorer on ln until ctx is done. It pins the Host
// header to ln's address.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		port := fmt.Sprint(tcp.Port)
		pinned := map[string]bool{
			net.JoinHostPort(tcp.IP.String(), port): true,
			net.JoinHostPort("localhost", port):     true,
		}
		s.mu.Lock()
		s.hosts = pinned
		s.mu.Unlock()
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		<-done
		return nil
	}
}

// Listen listens on addr, which must be a loopback address: an IP in
// 127.0.0.0/8, ::1, or localhost (which listens on 127.0.0.1).
func Listen(addr string) (net.Listener, error) {
	h, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: %v", addr, err)
	}
	if strings.EqualFold(h, "localhost") {
		h = "127.0.0.1"
	}
	ip := net.ParseIP(h)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--addr %q is not a loopback address: the explorer relays requests with your tokens and only listens on 127.0.0.1, ::1 or localhost", addr)
	}
	return net.Listen("tcp", net.JoinHostPort(ip.String(), port))
}

// NormalizeOrigin checks that o is an origin (scheme://host[:port], http or
// https, nothing else) and returns it lower-cased without a default port.
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(o, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("--allow-origin %q: want an origin like https://api.example.com or http://127.0.0.1:8080 (scheme, host and port, no path)", o)
	}
	n, ok := originOf(u)
	if !ok {
		return "", fmt.Errorf("--allow-origin %q: the scheme must be http or https", o)
	}
	return n, nil
}

// originOf is u's origin, normalized; ok is false for schemes other than
// http and https.
func originOf(u *url.URL) (string, bool) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Hostname() == "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if port == "" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return scheme + "://" + host, true
	}
	return scheme + "://" + net.JoinHostPort(host, port), true
}

// canonicalURL is what two spellings of a token URL are compared by: the
// origin, the escaped path and the query; no user info, no fragment.
func canonicalURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	o, ok := originOf(u)
	if !ok {
		return "", false
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	return o + p, true
}

// tokenURLs loads a preset with the module and returns its token URLs,
// canonical, and the issuers of its discovered presets (whose URL is the
// issuer until the metadata is fetched, never a token URL). ${env:NAME}
// references get a placeholder value: the URLs never come from the
// environment, and the server never reads a secret.
func (s *Server) tokenURLs(ctx context.Context, text []byte) ([]string, []issuer, error) {
	select {
	case s.loadSema <- struct{}{}:
		defer func() { <-s.loadSema }()
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := host.New(ctx, text, host.WithEnv(func(string) (string, bool) { return "unresolved", true }))
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	var urls []string
	var issuers []issuer
	for _, u := range c.Users() {
		if u.Issuer != "" {
			continue // its URL is the issuer until the metadata is known
		}
		if cu, ok := canonicalURL(u.URL); ok && !slices.Contains(urls, cu) {
			urls = append(urls, cu)
		}
	}
	discovered, err := c.Discovery(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range discovered {
		if iss, ok := newIssuer(d); ok && !slices.Contains(issuers, iss) {
			issuers = append(issuers, iss)
		}
	}
	return urls, issuers, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !s.hostAllowed(r.Host) {
		writeError(w, http.StatusForbidden, "forbidden_origin",
			"the explorer only answers requests addressed to itself on a loopback address; open the URL cctoken explore printed")
		return
	}
	if !s.hasSecret(r) {
		writeError(w, http.StatusForbidden, "secret_required",
			"this explorer answers only requests that carry its per-launch secret: open the URL cctoken explore printed when it started (http://"+r.Host+"/?"+SecretParam+"=…)")
		return
	}
	switch r.URL.Path {
	case "/relay":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.info(w)
		case http.MethodPost:
			if s.samePage(w, r) {
				s.relay(w, r)
			}
		default:
			methodNotAllowed(w, "GET, POST")
		}
		return
	case "/relay/preset":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		if s.samePage(w, r) {
			s.register(w, r)
		}
		return
	case "/preset":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, "forbidden_origin", "the preset is only given to the explorer's own page")
			return
		}
		s.mu.Lock()
		preset := s.preset
		s.mu.Unlock()
		if preset == nil {
			writeError(w, http.StatusNotFound, "no_preset", "cctoken explore was started without a preset file")
			return
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(preset)
		return
	}
	a, ok := s.files[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such page")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	h.Set("Content-Type", a.ctype)
	if a.csp != "" {
		h.Set("Content-Security-Policy", a.csp)
	}
	body := a.body
	if a.gzip {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header) {
			h.Set("Content-Encoding", "gzip")
		} else if plain, err := embed.Binary(); err != nil {
			writeError(w, http.StatusInternalServerError, "module", "the embedded module is damaged; reinstall cctoken")
			return
		} else {
			body = plain
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// acceptsGzip reports whether a request's Accept-Encoding allows gzip (a
// "gzip" coding with a q-value other than 0).
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || strings.HasPrefix(q, "q=0.") && strings.Trim(q[4:], "0") == "" {
				return false
			}
			return true
		}
	}
	return false
}

// hostAllowed reports whether a Host header names this server.
func (s *Server) hostAllowed(hostport string) bool {
	hostport = strings.ToLower(hostport)
	s.mu.Lock()
	pinned := s.hosts
	s.mu.Unlock()
	if pinned != nil {
		return pinned[hostport]
	}
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// samePage checks that a POST comes from the explorer's own page, and
// answers 403 (or 415) when not.
func (s *Server) samePage(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !strings.EqualFold(origin, "http://"+r.Host) {
		writeError(w, http.StatusForbidden, "forbidden_origin",
			"the relay only takes requests from the explorer's own page (Origin http://"+r.Host+")")
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		writeError(w, http.StatusForbidden, "forbidden_origin", "the relay only takes same-origin requests")
		return false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "send the relay a JSON body with Content-Type: application/json")
		return false
	}
	return true
}

func (s *Server) info(w http.ResponseWriter) {
	origins := make([]string, 0, len(s.origins))
	for o := range s.origins {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	s.mu.Lock()
	hasPreset := s.preset != nil
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"relay":           1,
		"allowed_origins": origins,
		"token_urls":      s.allowedTokenURLs(),
		"metadata_urls":   s.metadataURLs(),
		"preset":          hasPreset,
	})
}

// issuers is the command line preset's issuers, then the registered ones.
func (s *Server) issuers() []issuer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(slices.Clip(s.fixedIss), s.regIss...)
}

// metadataURLs is the canonical metadata URLs the relay sends GETs to.
func (s *Server) metadataURLs() []string {
	out := []string{}
	for _, iss := range s.issuers() {
		for _, m := range iss.metaURLs() {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// issuersAt is the issuers whose metadata may be at the canonical URL cu
// (two spellings of an issuer, with and without a terminating "/", share
// their RFC 8414 URL).
func (s *Server) issuersAt(cu string) []issuer {
	var out []issuer
	for _, iss := range s.issuers() {
		if slices.Contains(iss.metaURLs(), cu) && !slices.Contains(out, iss) {
			out = append(out, iss)
		}
	}
	return out
}

// addTokenURLs adds token URLs to the registered ones, keeping the bound.
func (s *Server) addTokenURLs(urls []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range urls {
		if slices.Contains(s.fixed, u) {
			continue
		}
		s.registered = slices.DeleteFunc(s.registered, func(x string) bool { return x == u })
		s.registered = append(s.registered, u)
	}
	if n := len(s.registered) - maxRegistered; n > 0 {
		s.registered = slices.Delete(s.registered, 0, n)
	}
}

// learn asks the module whether a metadata answer fetched for one of
// issuers is metadata it would use, and allows the token endpoint it
// yields; it says what it learned ("" for nothing).
func (s *Server) learn(ctx context.Context, issuers []issuer, status int, header http.Header, body []byte) string {
	for _, iss := range issuers {
		md, err := host.CheckMetadata(ctx, iss.name, iss.insecure, status, header, body)
		if err != nil {
			continue
		}
		u, err := url.Parse(md.TokenEndpoint)
		cu, ok := canonicalURL(md.TokenEndpoint)
		if err != nil || !ok {
			continue
		}
		s.addTokenURLs([]string{cu})
		return redacted(u)
	}
	return ""
}

func (s *Server) allowedTokenURLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string{}, s.fixed...)
	for _, u := range s.registered {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text *string `json:"text"`
	}
	if err := readJSON(r, &in); err != nil || in.Text == nil {
		writeError(w, http.StatusBadRequest, "bad_request", `send {"text": "<the preset document>"}`)
		return
	}
	urls, issuers, err := s.tokenURLs(r.Context(), []byte(*in.Text))
	if err != nil {
		var he *host.Error
		if errors.As(err, &he) && he.Code == host.CodeInvalidPreset {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
				"error": host.CodeInvalidPreset, "message": "the preset does not load; fix it first", "issues": he.Issues,
			})
			return
		}
		writeError(w, http.StatusInternalServerError, "internal", "the preset could not be loaded")
		return
	}
	s.addTokenURLs(urls)
	metaURLs := []string{}
	s.mu.Lock()
	for _, iss := range issuers {
		metaURLs = append(metaURLs, iss.metaURLs()...)
		if slices.Contains(s.fixedIss, iss) {
			continue
		}
		s.regIss = slices.DeleteFunc(s.regIss, func(x issuer) bool { return x == iss })
		s.regIss = append(s.regIss, iss)
	}
	if n := len(s.regIss) - maxRegistered; n > 0 {
		s.regIss = slices.Delete(s.regIss, 0, n)
	}
	s.mu.Unlock()
	if urls == nil {
		urls = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"token_urls": urls, "metadata_urls": metaURLs})
}

type relayRequest struct {
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       *string           `json:"body"`
	BodyBase64 *string           `json:"body_base64"`
}

// Request headers the relay never forwards: they belong to the connection
// or are set by the relay's own client.
var dropHeaders = map[string]bool{
	"Host": true, "Connection": true, "Content-Length": true, "Transfer-Encoding": true,
	"Keep-Alive": true, "Proxy-Authorization": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Upgrade": true, "Expect": true, "Accept-Encoding": true,
}

func (s *Server) relay(w http.ResponseWriter, r *http.Request) {
	var in relayRequest
	if err := readJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", `send {"method": "…", "url": "…", "headers": {…}, "body": "…"}: `+err.Error())
		return
	}
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	method := strings.ToUpper(in.Method)
	if method == http.MethodConnect || method == "TRACE" || !validToken(method) {
		writeError(w, http.StatusBadRequest, "bad_request", "the method "+fmt.Sprintf("%q", in.Method)+" cannot be relayed")
		return
	}
	target, err := url.Parse(in.URL)
	if err != nil || !target.IsAbs() {
		writeError(w, http.StatusBadRequest, "bad_request", "url must be an absolute http:// or https:// URL")
		return
	}
	if ok, why := s.allowed(method, target, in.URL); !ok {
		writeError(w, http.StatusForbidden, "forbidden_target", why)
		return
	}
	// The issuers whose metadata this GET fetches, if any: the answer may
	// teach the relay a token URL.
	var issuers []issuer
	if method == http.MethodGet {
		if cu, ok := canonicalURL(in.URL); ok {
			issuers = s.issuersAt(cu)
		}
	}
	var body []byte
	switch {
	case in.Body != nil && in.BodyBase64 != nil:
		writeError(w, http.StatusBadRequest, "bad_request", "send body or body_base64, not both")
		return
	case in.Body != nil:
		body = []byte(*in.Body)
	case in.BodyBase64 != nil:
		if body, err = base64.StdEncoding.DecodeString(*in.BodyBase64); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "body_base64 is not base64")
			return
		}
	}
	target.Fragment, target.RawFragment = "", ""
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(r.Context(), method, target.String(), rb)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the request cannot be built")
		return
	}
	for k, v := range in.Headers {
		ck := http.CanonicalHeaderKey(strings.TrimSpace(k))
		if ck == "" || dropHeaders[ck] || strings.HasPrefix(ck, "Sec-") || !validToken(ck) || strings.ContainsAny(v, "\r\n\x00") {
			continue
		}
		out.Header.Set(ck, v)
	}
	if out.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", "cctoken-explore")
	}
	start := time.Now()
	resp, err := s.client.Do(out)
	where := redacted(target)
	if err != nil {
		s.log.Info("relay failed", "method", method, "target", where, "elapsed", time.Since(start).Round(time.Millisecond))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			writeError(w, http.StatusGatewayTimeout, "upstream_timeout", "no answer from "+where+" within "+relayTimeout.String())
			return
		}
		writeError(w, http.StatusBadGateway, "upstream_unreachable", "cannot reach "+where+": "+transportReason(err))
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRelayResponse+1))
	if err != nil {
		writeError(w, http.StatusBadGateway, "upstream_unreachable", "the answer from "+where+" broke off")
		return
	}
	if len(data) > maxRelayResponse {
		writeError(w, http.StatusBadGateway, "too_large", fmt.Sprintf("the answer from %s is larger than %d MiB", where, maxRelayResponse>>20))
		return
	}
	s.log.Info("relay", "method", method, "target", where, "status", resp.StatusCode, "elapsed", time.Since(start).Round(time.Millisecond))
	// A host gives the module at most 1 MiB of an answer (wasm/ABI.md):
	// larger metadata is never the module's.
	if len(issuers) > 0 && len(data) <= maxModuleBody {
		if learned := s.learn(r.Context(), issuers, resp.StatusCode, resp.Header, data); learned != "" {
			s.log.Info("relay learned a token URL from metadata", "metadata", where, "token_url", learned)
		}
	}
	headers := make(map[string]string, len(resp.Header))
	for k, vs := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":      resp.StatusCode,
		"status_text": http.StatusText(resp.StatusCode),
		"headers":     headers,
		"body_base64": base64.StdEncoding.EncodeToString(data),
	})
}

// allowed decides whether the relay may forward method to target, and
// says why not.
func (s *Server) allowed(method string, target *url.URL, raw string) (bool, string) {
	origin, ok := originOf(target)
	if !ok || target.User != nil {
		return false, "the relay only forwards to http:// and https:// URLs without user info"
	}
	if s.origins[origin] {
		return true, ""
	}
	cu, ok := canonicalURL(raw)
	if ok && method == http.MethodGet && len(s.issuersAt(cu)) > 0 {
		return true, ""
	}
	if ok && slices.Contains(s.allowedTokenURLs(), cu) {
		if method == http.MethodPost {
			return true, ""
		}
		return false, "the relay only sends POST requests to the token URL " + cu
	}
	return false, "the relay does not forward to " + origin + ": it only forwards to the token URLs of the preset the page loaded " +
		"(and GETs of its issuer's metadata) and to origins allowed on the command line; to call this API through the relay, restart with " +
		"cctoken explore --allow-origin " + origin
}

// redacted is a target for logs and messages: no user info, no query.
func redacted(u *url.URL) string {
	o, _ := originOf(u)
	return o + u.EscapedPath()
}

// transportReason is a short reason for a failed request, without the URL
// (which may carry a query) that Go's errors repeat.
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRelayRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("one JSON object only")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+allow)
}
