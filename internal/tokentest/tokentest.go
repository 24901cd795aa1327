// Package tokentest is a small client-credentials token endpoint for tests
// on 127.0.0.1: it checks client_secret_basic credentials against a table
// that tests may change (secret rotation), issues short-lived tokens that
// carry a canary, counts requests per client, and can hold a request until
// its client goes away (a lock holder killed mid-fetch).
package tokentest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Canary starts every access token the server issues, so tests can look
// for tokens where none may be (a store dump, logs).
const Canary = "tok-CANARY-"

// Hit is one token request.
type Hit struct {
	Client string
	At     time.Time
	Token  string // the token issued; "" when refused
	Worker string // the X-Worker header, when the client sent one
}

// Server is the endpoint.
type Server struct {
	*httptest.Server
	Lifetime time.Duration

	mu      sync.Mutex
	secrets map[string]string
	hits    []Hit
	n       int
	hold    map[string]bool // client -> hold its next request
	held    chan Hit
}

// Start starts a server that knows the given client_id -> secret pairs.
func Start(lifetime time.Duration, secrets map[string]string) *Server {
	s := &Server{Lifetime: lifetime, secrets: map[string]string{}, hold: map[string]bool{}, held: make(chan Hit, 16)}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// TokenURL is the token endpoint's URL.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// SetSecret changes a client's secret (rotation).
func (s *Server) SetSecret(client, secret string) {
	s.mu.Lock()
	s.secrets[client] = secret
	s.mu.Unlock()
}

// HoldNext makes the next request of client wait until its connection
// closes; Held receives it when it arrives.
func (s *Server) HoldNext(client string) {
	s.mu.Lock()
	s.hold[client] = true
	s.mu.Unlock()
}

// Held delivers held requests.
func (s *Server) Held() <-chan Hit { return s.held }

// Hits returns the requests so far (granted and refused).
func (s *Server) Hits() []Hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Hit(nil), s.hits...)
}

// Granted counts granted requests per client, from since on.
func (s *Server) Granted(since time.Time) map[string]int {
	out := map[string]int{}
	for _, h := range s.Hits() {
		if h.Token != "" && !h.At.Before(since) {
			out[h.Client]++
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/token" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	hit := Hit{Client: id, At: time.Now(), Worker: r.Header.Get("X-Worker")}
	s.mu.Lock()
	want, known := s.secrets[id]
	hold := s.hold[id]
	delete(s.hold, id)
	s.mu.Unlock()
	if hold {
		s.held <- hit
		<-r.Context().Done()
		s.mu.Lock()
		s.hits = append(s.hits, hit)
		s.mu.Unlock()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok || !known || secret != want || r.Form.Get("grant_type") != "client_credentials" {
		s.mu.Lock()
		s.hits = append(s.hits, hit)
		s.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
		return
	}
	s.mu.Lock()
	s.n++
	hit.Token = fmt.Sprintf("%s%s-%d", Canary, id, s.n)
	s.hits = append(s.hits, hit)
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": hit.Token, "token_type": "Bearer",
		"expires_in": int(s.Lifetime.Seconds()),
	})
}
