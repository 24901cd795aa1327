package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

const doc = `preset:
- type: oauth_client_credentials
  url: https://auth.example.com/token
  refresh_skew: 30s
  users:
  - username: a
    client_id: id-a
    client_secret: ${env:SECRET_A}
    scopes: [read]
    headers: {X-Team: red}
    cookies: {tenant: acme}
  - username: b
    client_id: id-b
    client_secret: secret-b-CANARY
`

type clock struct{ t time.Time }

func (c *clock) now() time.Time        { return c.t }
func (c *clock) add(d time.Duration)   { c.t = c.t.Add(d) }
func ok(body string) *httpmsg.Response { return resp(200, body) }
func resp(status int, body string) *httpmsg.Response {
	return &httpmsg.Response{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: body}
}

func loaded(t *testing.T) (*Engine, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := New(c.now)
	s := e.Load([]byte(doc))
	if len(s.Env) != 1 || s.Env[0] != "SECRET_A" {
		t.Fatalf("load asked for env %v, want [SECRET_A]", s.Env)
	}
	s = e.Resume(s.Task, Input{Env: map[string]string{"SECRET_A": "secret-a-CANARY"}})
	if s.Error != nil {
		t.Fatalf("load: %v", s.Error.Message)
	}
	if u := s.Result.(UsersResult); len(u.Users) != 2 || u.Users[0].Username != "a" {
		t.Fatalf("users = %+v", u)
	}
	return e, c
}

// fetch runs a token op that must ask for HTTP, answers it, and returns the step.
func fetch(t *testing.T, e *Engine, req TokenRequest, answer Input) Step {
	t.Helper()
	s := e.Token(req)
	if s.HTTP == nil {
		t.Fatalf("token %+v did not ask for HTTP: %+v", req, s)
	}
	return e.Resume(s.Task, answer)
}

func TestTokenFetchCacheAndHeaders(t *testing.T) {
	e, c := loaded(t)
	s := e.Token(TokenRequest{User: "a"})
	if s.HTTP == nil {
		t.Fatal("cold token should ask for HTTP")
	}
	if s.HTTP.Header["Authorization"] == "" || !strings.Contains(s.HTTP.Body, "grant_type=client_credentials") {
		t.Fatalf("request = %+v", s.HTTP)
	}
	s = e.Resume(s.Task, Input{Response: ok(`{"access_token":"tok-1","token_type":"bearer","expires_in":300}`)})
	r, isTok := s.Result.(TokenResult)
	if !isTok {
		t.Fatalf("resume = %+v", s)
	}
	want := map[string]string{"Authorization": "Bearer tok-1", "X-Team": "red", "Cookie": "tenant=acme"}
	for k, v := range want {
		if r.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, r.Headers[k], v)
		}
	}
	start := c.t
	if got := time.UnixMilli(r.UseUntil); !got.Equal(start.Add(270 * time.Second)) {
		t.Errorf("use_until = %v, want expiry - skew", got)
	}
	if got := time.UnixMilli(r.RefreshAt); !got.Equal(start.Add(216 * time.Second)) {
		t.Errorf("refresh_at = %v, want 80%% of 270s", got)
	}
	c.add(100 * time.Second)
	if s := e.Token(TokenRequest{User: "a"}); s.HTTP != nil || s.Result.(TokenResult).AccessToken != "tok-1" {
		t.Fatalf("warm token should come from the cache: %+v", s)
	}
	// Another scope set is another token.
	if s := e.Token(TokenRequest{User: "a", Scopes: []string{"write"}}); s.HTTP == nil {
		t.Fatal("a different scope set must not reuse the cached token")
	}
	// Refresh before refresh_at returns the cache; after it, fetches.
	if s := e.Token(TokenRequest{User: "a", Refresh: true}); s.HTTP != nil {
		t.Fatal("refresh before refresh_at should serve the cache")
	}
	c.add(120 * time.Second)
	if s := e.Token(TokenRequest{User: "a", Refresh: true}); s.HTTP == nil {
		t.Fatal("refresh after refresh_at should fetch")
	}
	c.add(60 * time.Second) // past use_until
	if s := e.Token(TokenRequest{User: "a"}); s.HTTP == nil {
		t.Fatal("past use_until the token must be fetched again")
	}
}

func TestStaleIfErrorAndBackoff(t *testing.T) {
	e, c := loaded(t)
	fetch(t, e, TokenRequest{User: "b"}, Input{Response: ok(`{"access_token":"tok-1","token_type":"Bearer","expires_in":100}`)})
	c.add(60 * time.Second) // past refresh_at (56 s)
	s := fetch(t, e, TokenRequest{User: "b", Refresh: true}, Input{Response: &httpmsg.Response{Status: 503, Header: map[string]string{"Retry-After": "20"}}})
	r, isTok := s.Result.(TokenResult)
	if !isTok || r.AccessToken != "tok-1" || r.LastError == nil {
		t.Fatalf("failed refresh should serve the old token with last_error: %+v", s)
	}
	if r.LastError.Status != 503 {
		t.Errorf("last_error status = %d", r.LastError.Status)
	}
	if got := time.UnixMilli(r.RefreshAt).Sub(c.t); got != 20*time.Second {
		t.Errorf("retry in %v, want Retry-After 20s", got)
	}
	if got := time.UnixMilli(r.UseUntil); !got.Equal(time.UnixMilli(r.ExpiresAt)) {
		t.Errorf("use_until = %v, want the real expiry", got)
	}
	// After expiry with the endpoint still down, the caller gets the error.
	c.add(50 * time.Second)
	s = fetch(t, e, TokenRequest{User: "b"}, Input{Failure: &httpmsg.Failure{Kind: "network", Message: "connection refused"}})
	if s.Error == nil || s.Error.Code != "network" {
		t.Fatalf("expired token and endpoint down: %+v", s)
	}
}

func TestRetryAfterBlocksColdCallers(t *testing.T) {
	e, c := loaded(t)
	s := fetch(t, e, TokenRequest{User: "b"}, Input{Response: &httpmsg.Response{Status: 429, Header: map[string]string{"Retry-After": "10"}}})
	if s.Error == nil || s.Error.RetryAt != c.t.Add(10*time.Second).UnixMilli() {
		t.Fatalf("429: %+v", s.Error)
	}
	if s := e.Token(TokenRequest{User: "b"}); s.HTTP != nil || s.Error == nil {
		t.Fatal("within Retry-After the engine must not ask for a request")
	}
	c.add(11 * time.Second)
	if s := e.Token(TokenRequest{User: "b"}); s.HTTP == nil {
		t.Fatal("after Retry-After the engine should try again")
	}
}

func TestErrorsNeverCarrySecrets(t *testing.T) {
	e, _ := loaded(t)
	answers := []Input{
		{Response: resp(401, `{"error":"invalid_client","error_description":"bad secret secret-b-CANARY"}`)},
		{Response: resp(400, `{"error":"invalid_scope","error_uri":"https://x/secret-b-CANARY"}`)},
		{Response: resp(500, `<html>secret-b-CANARY</html>`)},
		{Response: ok(`{"access_token":"tok","token_type":"mac"}`)},
		// A server echoing the Basic credentials and the form-encoded secret.
		{Response: resp(400, `{"error":"invalid_request","error_description":"got Basic aWQtYjpzZWNyZXQtYi1DQU5BUlk= and secret-b-CANARY"}`)},
	}
	for _, in := range answers {
		s := fetch(t, e, TokenRequest{User: "b"}, in)
		if s.Error == nil {
			t.Fatalf("answer %+v should fail", in.Response)
		}
		all := s.Error.Message + s.Error.Description + s.Error.URI
		if strings.Contains(all, "CANARY") || strings.Contains(all, "aWQtYjpzZWNyZXQtYi1DQU5BUlk") {
			t.Errorf("error leaks the secret: %q", all)
		}
	}
}

func TestInvalidateAndUnknown(t *testing.T) {
	e, _ := loaded(t)
	fetch(t, e, TokenRequest{User: "a"}, Input{Response: ok(`{"access_token":"t","token_type":"Bearer"}`)})
	if r := e.Invalidate("a").Result.(InvalidateResult); r.Dropped != 1 {
		t.Fatalf("dropped %d", r.Dropped)
	}
	if s := e.Token(TokenRequest{User: "a"}); s.HTTP == nil {
		t.Fatal("after invalidate the token must be fetched again")
	}
	for _, s := range []Step{e.Token(TokenRequest{User: "zed"}), e.Invalidate("zed")} {
		if s.Error == nil || s.Error.Code != CodeUnknownUser {
			t.Errorf("unknown user: %+v", s)
		}
	}
	if s := e.Resume(999, Input{}); s.Error == nil || s.Error.Code != CodeUnknownTask {
		t.Errorf("unknown task: %+v", s)
	}
	if s := New(nil).Token(TokenRequest{User: "a"}); s.Error == nil || s.Error.Code != CodeNotLoaded {
		t.Errorf("not loaded: %+v", s)
	}
}

func TestLoadFailureKeepsOldPreset(t *testing.T) {
	e, _ := loaded(t)
	s := e.Load([]byte("preset:\n- type: saml\n"))
	if s.Error == nil || s.Error.Code != CodeInvalidPreset || len(s.Error.Issues) == 0 {
		t.Fatalf("bad preset: %+v", s)
	}
	if u := e.Users().Result.(UsersResult); len(u.Users) != 2 {
		t.Fatalf("old preset lost: %+v", u)
	}
}

func TestChallenge(t *testing.T) {
	e := New(nil)
	cases := []struct {
		status int
		www    string
		want   bool
	}{
		{401, `Bearer realm="api", error="invalid_token", error_description="expired"`, true},
		{401, `Bearer realm="api"`, false},
		{403, `Bearer error="invalid_token"`, false},
		{401, `Bearer error="insufficient_scope"`, false},
	}
	for _, c := range cases {
		if got := e.Challenge(ChallengeRequest{Status: c.status, WWWAuth: c.www}).Result.(ChallengeResult).Invalidate; got != c.want {
			t.Errorf("Challenge(%d, %q) = %v, want %v", c.status, c.www, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 7: time.Minute, 30: time.Minute} {
		got := backoff(n, 0)
		if got > want || got < want*8/10 {
			t.Errorf("backoff(%d) = %v, want within 20%% below %v", n, got, want)
		}
	}
	if got := backoff(1, 90*time.Second); got != 90*time.Second {
		t.Errorf("Retry-After longer than the back-off should win, got %v", got)
	}
}
