// Package devserver is the embedded development authorization server behind
// cctoken-demo (host/cmd/cctoken-demo; the installed cctoken command does not
// link it): a real OAuth 2.0 server (github.com/ory/fosite) issuing
// opaque HMAC access tokens through the client credentials grant, plus a small
// protected API that validates them.
//
// Everything lives in memory and listens on 127.0.0.1 only. It is meant for
// demonstrations and tests, not for production use. Nothing is logged; in
// particular secrets and tokens never are.
package devserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// Paths served by the server.
const (
	TokenPath  = "/oauth2/token"
	WhoamiPath = "/api/whoami"
)

// DefaultTokenTTL is the access token lifetime used when Start gets zero.
const DefaultTokenTTL = time.Hour

// realm names the protected API in WWW-Authenticate challenges.
const realm = "cctoken-demo"

// Client is a confidential client registered at the server. It may
// authenticate with client_secret_basic (credentials form-urlencoded, then
// base64, as RFC 6749 §2.3.1 requires) or with client_secret_post.
type Client struct {
	ID     string
	Secret string
	// Scopes the client may request. A token request without a scope
	// parameter is granted all of them.
	Scopes []string
}

// Server is a running development authorization server.
type Server struct {
	// BaseURL is http://127.0.0.1:PORT.
	BaseURL string
	// TokenURL is the token endpoint (client_credentials grant).
	TokenURL string
	// APIURL is the protected sample API, /api/whoami.
	APIURL string

	provider      fosite.OAuth2Provider
	httpServer    *http.Server
	tokenRequests atomic.Int64
	closeOnce     sync.Once
	closeErr      error
	stopWatch     chan struct{}
}

// Start registers clients and serves the token endpoint and the sample API on
// 127.0.0.1 at a free port. tokenTTL is the access token lifetime (zero means
// DefaultTokenTTL). The server stops when ctx is done or Close is called.
func Start(ctx context.Context, clients []Client, tokenTTL time.Duration) (*Server, error) {
	if len(clients) == 0 {
		return nil, errors.New("devserver: no clients")
	}
	if tokenTTL < 0 {
		return nil, fmt.Errorf("devserver: negative token lifetime %v", tokenTTL)
	}
	if tokenTTL == 0 {
		tokenTTL = DefaultTokenTTL
	}

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("devserver: generating HMAC secret: %w", err)
	}

	hasher := sha256Hasher{}
	store := storage.NewMemoryStore()
	for _, c := range clients {
		if c.ID == "" || c.Secret == "" {
			return nil, errors.New("devserver: client ID and secret must not be empty")
		}
		if _, dup := store.Clients[c.ID]; dup {
			return nil, fmt.Errorf("devserver: duplicate client %q", c.ID)
		}
		hashed, _ := hasher.Hash(ctx, []byte(c.Secret))
		// A plain fosite.DefaultClient, not an OpenID Connect client: fosite
		// only enforces token_endpoint_auth_method for the latter, so this
		// client may use client_secret_basic as well as client_secret_post.
		store.Clients[c.ID] = &fosite.DefaultClient{
			ID:         c.ID,
			Secret:     hashed,
			GrantTypes: []string{"client_credentials"},
			Scopes:     append([]string(nil), c.Scopes...),
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	base := "http://" + ln.Addr().String()

	config := &fosite.Config{
		AccessTokenLifespan: tokenTTL,
		GlobalSecret:        secret,
		ScopeStrategy:       fosite.ExactScopeStrategy,
		ClientSecretsHasher: hasher,
		TokenURL:            base + TokenPath,
	}
	provider := compose.Compose(
		config,
		store,
		compose.NewOAuth2HMACStrategy(config),
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
	)

	s := &Server{
		BaseURL:   base,
		TokenURL:  base + TokenPath,
		APIURL:    base + WhoamiPath,
		provider:  provider,
		stopWatch: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.handleToken)
	mux.HandleFunc(WhoamiPath, s.handleWhoami)
	s.httpServer = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go func() { _ = s.httpServer.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.stopWatch:
		}
	}()
	return s, nil
}

// Close stops the server and drops all issued tokens.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopWatch)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.httpServer.Shutdown(ctx); err != nil {
			s.closeErr = s.httpServer.Close()
		}
	})
	return s.closeErr
}

// TokenRequests is the number of requests the token endpoint has received,
// successful or not.
func (s *Server) TokenRequests() int {
	return int(s.tokenRequests.Load())
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.tokenRequests.Add(1)
	ctx := r.Context()

	ar, err := s.provider.NewAccessRequest(ctx, r, new(fosite.DefaultSession))
	if err != nil {
		// RFC 6749 §5.2: a failed HTTP Basic authentication gets a challenge.
		if errors.Is(err, fosite.ErrInvalidClient) && r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
		}
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	requested := ar.GetRequestedScopes()
	if len(requested) == 0 {
		requested = ar.GetClient().GetScopes()
	}
	for _, scope := range requested {
		ar.GrantScope(scope)
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// WhoamiResponse is the body of a successful /api/whoami call.
type WhoamiResponse struct {
	ClientID  string   `json:"client_id"`
	Scopes    []string `json:"scopes"`
	ExpiresAt int64    `json:"expires_at"`
	// Headers holds the request's X-* headers (canonical names) and values.
	Headers map[string][]string `json:"headers"`
	// Cookies holds the names, never the values, of the request's cookies.
	Cookies []string `json:"cookies"`
}

func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token, ok := bearerToken(r)
	if !ok {
		// RFC 6750 §3.1: no error code when the request carried no token.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error_description": "a bearer access token is required",
		})
		return
	}

	use, ar, err := s.provider.IntrospectToken(r.Context(), token, fosite.AccessToken, new(fosite.DefaultSession))
	if err != nil || use != fosite.AccessToken {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token", error_description="the access token is invalid or expired"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error":             "invalid_token",
			"error_description": "the access token is invalid or expired",
		})
		return
	}

	out := WhoamiResponse{
		ClientID:  ar.GetClient().GetID(),
		Scopes:    append([]string{}, ar.GetGrantedScopes()...),
		ExpiresAt: ar.GetSession().GetExpiresAt(fosite.AccessToken).Unix(),
		Headers:   map[string][]string{},
		Cookies:   []string{},
	}
	for name, values := range r.Header {
		if len(name) > 2 && strings.EqualFold(name[:2], "x-") {
			out.Headers[name] = values
		}
	}
	seen := map[string]bool{}
	for _, c := range r.Cookies() {
		if !seen[c.Name] {
			seen[c.Name] = true
			out.Cookies = append(out.Cookies, c.Name)
		}
	}
	sort.Strings(out.Cookies)
	writeJSON(w, http.StatusOK, out)
}

// bearerToken extracts the token of an "Authorization: Bearer" header
// (RFC 6750 §2.1; the scheme is case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sha256Hasher stores client secrets as SHA-256 digests and compares them in
// constant time. fosite's default BCrypt hasher costs hundreds of
// milliseconds per token request and rejects secrets over 72 bytes; the
// secrets here are generated or typed for a local demo and live only in
// memory, so a fast digest is enough.
type sha256Hasher struct{}

func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return sum[:], nil
}

func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	sum := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, sum[:]) != 1 {
		return errors.New("client secret mismatch")
	}
	return nil
}
