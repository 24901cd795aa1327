package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/tests/oidctest"
)

// TestTokens gets a token with each client authentication method, checks
// at the server that it is active for the right client and scopes and that
// the right method was used, and calls a protected API with it.
func TestTokens(t *testing.T) {
	t.Parallel()
	srv := mainServer.get(t)
	api := newProtectedAPI(t, srv)
	cases := []struct {
		name   string
		client oidctest.Client
	}{
		{"client_secret_basic", basicClient},
		{"client_secret_post", postClient},
		{"special characters basic", specialBasicClient},
		{"special characters post", specialPostClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			other := oidctest.AuthPost
			if tc.client.AuthMethod == oidctest.AuthPost {
				other = oidctest.AuthBasic
			}
			before := srv.Stats()
			c := newClient(t, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: tc.client, extra: map[string]any{"headers": map[string]string{"X-Team": "e2e"}}}))
			tok, err := c.Token(ctx, "svc")
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpirySource != "expires_in" {
				t.Errorf("token = %v (type %q, expiry source %q)", tok, tok.TokenType, tok.ExpirySource)
			}
			if d := time.Until(tok.Expiry); d < 290*time.Second || d > 301*time.Second {
				t.Errorf("token expires in %v, want about 300s", d)
			}
			if got, want := strings.Join(tok.Scopes, " "), strings.Join(tc.client.Scopes, " "); got != want {
				t.Errorf("token scopes %q, want %q", got, want)
			}
			if h := tok.Header().Get("Authorization"); h != "Bearer "+tok.AccessToken {
				t.Errorf("Authorization header does not carry the token")
			}

			active, clientID, scope := srv.Introspect(t, tok.AccessToken, introspector)
			if !active || clientID != tc.client.ID || scope != strings.Join(tc.client.Scopes, " ") {
				t.Errorf("introspection: active=%v client_id=%q scope=%q; want true %q %q", active, clientID, scope, tc.client.ID, strings.Join(tc.client.Scopes, " "))
			}
			after := srv.Stats()
			if n := after.AuthMethods[tc.client.ID][tc.client.AuthMethod] - before.AuthMethods[tc.client.ID][tc.client.AuthMethod]; n != 1 {
				t.Errorf("%d token requests with %s, want 1", n, tc.client.AuthMethod)
			}
			if n := after.AuthMethods[tc.client.ID][other] - before.AuthMethods[tc.client.ID][other]; n != 0 {
				t.Errorf("%d token requests with %s, want 0", n, other)
			}

			// The transport against a protected API that introspects the token.
			hc := &http.Client{Transport: c.Transport("svc", nil), Timeout: 10 * time.Second}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api.URL+"/things", strings.NewReader(`{"n":1}`))
			req.Header.Set("Authorization", "Bearer not-this-one")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("API request: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got map[string]string
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil {
				t.Fatalf("API answered %s: %s", resp.Status, body)
			}
			if got["client_id"] != tc.client.ID || got["body"] != `{"n":1}` || got["method"] != "POST" || got["team"] != "e2e" {
				t.Errorf("API saw %v", got)
			}
			if n := srv.TokenRequests(tc.client.ID) - before.TokenRequests[tc.client.ID]; n != 1 {
				t.Errorf("%d token requests in all, want 1 (the API call uses the cached token)", n)
			}
		})
	}
}

// TestTokenErrors checks that token endpoint refusals come back as
// structured errors.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	srv := mainServer.get(t)
	basicAsPost := errBasicClient
	basicAsPost.AuthMethod = oidctest.AuthPost
	postAsBasic := errPostClient
	postAsBasic.AuthMethod = oidctest.AuthBasic
	cases := []struct {
		name   string
		user   presetUser
		opts   []host.TokenOption
		code   string
		status int
	}{
		{"wrong secret basic", presetUser{client: errBasicClient, secret: "not-the-secret"}, nil, "invalid_client", 401},
		{"wrong secret post", presetUser{client: errPostClient, secret: "not-the-secret"}, nil, "invalid_client", 401},
		{"basic client authenticating with post", presetUser{client: basicAsPost}, nil, "invalid_client", 401},
		{"post client authenticating with basic", presetUser{client: postAsBasic}, nil, "invalid_client", 401},
		{"unknown scope in the preset", presetUser{client: errBasicClient, scopes: []string{"no-such-scope"}}, nil, "invalid_scope", 400},
		{"unknown scope asked for", presetUser{client: errPostClient}, []host.TokenOption{host.WithScopes("read", "no-such-scope")}, "invalid_scope", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.user.name = "svc"
			c := newClient(t, presetJSON(srv.TokenURL, nil, tc.user))
			tok, err := c.Token(testCtx(t), "svc", tc.opts...)
			var he *host.Error
			if !errors.As(err, &he) {
				t.Fatalf("Token = %v, %v; want a *host.Error", tok, err)
			}
			if he.Code != tc.code || he.Status != tc.status || he.User != "svc" {
				t.Errorf("error code %q status %d user %q, want %q %d svc (%v)", he.Code, he.Status, he.User, tc.code, tc.status, err)
			}
			for _, s := range []string{tc.user.client.Secret, tc.user.secret} {
				if s != "" && strings.Contains(err.Error()+he.Description, s) {
					t.Errorf("error text holds the secret: %v", err)
				}
			}
		})
	}
}

// TestCaching: many calls, one token request.
func TestCaching(t *testing.T) {
	t.Parallel()
	srv := mainServer.get(t)

	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		before := srv.TokenRequests(cacheClient.ID)
		c := newClient(t, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: cacheClient}))
		var first string
		for i := 0; i < 50; i++ {
			tok, err := c.Token(ctx, "svc")
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			if i == 0 {
				first = tok.AccessToken
			} else if tok.AccessToken != first {
				t.Fatalf("call %d got another token", i)
			}
		}
		if n := srv.TokenRequests(cacheClient.ID) - before; n != 1 {
			t.Errorf("50 calls made %d token requests, want 1", n)
		}
	})

	t.Run("concurrent cold callers", func(t *testing.T) {
		t.Parallel()
		ctx := testCtx(t)
		before := srv.TokenRequests(coldClient.ID)
		c := newClient(t, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: coldClient}))
		const n = 1000
		var (
			wg     sync.WaitGroup
			start  = make(chan struct{})
			tokens = make([]string, n)
			errs   = make([]error, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tok, err := c.Token(ctx, "svc")
				if err == nil {
					tokens[i] = tok.AccessToken
				}
				errs[i] = err
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if tokens[i] != tokens[0] {
				t.Fatalf("caller %d got another token", i)
			}
		}
		if got := srv.TokenRequests(coldClient.ID) - before; got != 1 {
			t.Errorf("%d concurrent cold callers made %d token requests, want 1", n, got)
		}
	})
}

// gateTransport holds the nth token request until release is closed.
type gateTransport struct {
	n       int64
	count   atomic.Int64
	held    chan struct{} // closed when the nth request is being held
	release chan struct{}
}

func (g *gateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.count.Add(1) == g.n {
		close(g.held)
		select {
		case <-g.release:
		case <-time.After(15 * time.Second):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRefreshAhead: with a 4 s token, refresh_skew 1s and refresh_ahead 0.5
// the token is refreshed in the background from 1.5 s on; callers keep
// getting the old token at once while the refresh is held at the network.
func TestRefreshAhead(t *testing.T) {
	t.Parallel()
	srv := shortServer.get(t)
	ctx := testCtx(t)
	gate := &gateTransport{n: 2, held: make(chan struct{}), release: make(chan struct{})}
	defer func() {
		select {
		case <-gate.release:
		default:
			close(gate.release)
		}
	}()
	before := srv.TokenRequests(refreshClient.ID)
	c := newClient(t, presetJSON(srv.TokenURL, map[string]any{"refresh_skew": "1s", "refresh_ahead": 0.5},
		presetUser{name: "svc", client: refreshClient}), host.WithHTTPClient(&http.Client{Transport: gate}))

	first, err := c.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Now()

	// Poll until the background refresh reaches the network (from 1.5 s).
	var slowest time.Duration
	call := func() {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		start := time.Now()
		tok, err := c.Token(cctx, "svc")
		if err != nil {
			t.Fatalf("caller during refresh-ahead: %v", err)
		}
		if tok.AccessToken != first.AccessToken {
			t.Fatalf("caller got a new token while the refresh was held")
		}
		slowest = max(slowest, time.Since(start))
	}
	held := false
	for i := 0; i < 100 && !held; i++ {
		call()
		select {
		case <-gate.held:
			held = true
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !held {
		t.Fatal("no background refresh within 5 s")
	}
	if d := time.Since(issued); d < 1400*time.Millisecond || d > 3*time.Second {
		t.Errorf("refresh started %v after the token was issued, want about 1.5 s", d)
	}
	// The refresh is held at the network: callers must not wait for it.
	for i := 0; i < 100; i++ {
		call()
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("a caller waited %v during refresh-ahead", slowest)
	}
	close(gate.release)

	var second *host.Token
	for i := 0; i < 100; i++ {
		tok, err := c.Token(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != first.AccessToken {
			second = tok
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if second == nil {
		t.Fatal("the refreshed token never replaced the old one")
	}
	if !second.Expiry.After(first.Expiry) {
		t.Errorf("refreshed token expires %v, not after %v", second.Expiry, first.Expiry)
	}
	if active, clientID, _ := srv.Introspect(t, second.AccessToken, introspector); !active || clientID != refreshClient.ID {
		t.Errorf("refreshed token: active=%v client_id=%q", active, clientID)
	}
	if n := srv.TokenRequests(refreshClient.ID) - before; n != 2 {
		t.Errorf("server saw %d token requests, want 2", n)
	}
	if n := gate.count.Load(); n != 2 {
		t.Errorf("host sent %d token requests, want 2", n)
	}
}

// TestInvalidate: Invalidate drops the cached token and the next call asks
// again.
func TestInvalidate(t *testing.T) {
	t.Parallel()
	srv := mainServer.get(t)
	ctx := testCtx(t)
	before := srv.TokenRequests(invalidateClient.ID)
	c := newClient(t, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: invalidateClient}))
	t1, err := c.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Invalidate(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	t2, err := c.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	t3, err := c.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if t1.AccessToken == t2.AccessToken || t2.AccessToken != t3.AccessToken {
		t.Errorf("want a new token after Invalidate and the same one after that")
	}
	if n := srv.TokenRequests(invalidateClient.ID) - before; n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	if active, _, _ := srv.Introspect(t, t2.AccessToken, introspector); !active {
		t.Error("new token is not active")
	}
}

// TestTransportRetriesAfterRevocation: a token revoked at the server makes
// the API answer 401 invalid_token; the transport drops it, gets a new one
// and replays the request, body included, once.
func TestTransportRetriesAfterRevocation(t *testing.T) {
	t.Parallel()
	srv := mainServer.get(t)
	api := newProtectedAPI(t, srv)
	ctx := testCtx(t)
	before := srv.TokenRequests(transportClient.ID)
	c := newClient(t, presetJSON(srv.TokenURL, nil, presetUser{name: "svc", client: transportClient}))
	hc := &http.Client{Transport: c.Transport("svc", nil), Timeout: 10 * time.Second}
	do := func(path string) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, api.URL+path, strings.NewReader("payload"))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]string
		json.NewDecoder(resp.Body).Decode(&got)
		return resp.StatusCode, got
	}
	if code, _ := do("/"); code != 200 {
		t.Fatalf("first call: %d", code)
	}
	t1, _ := c.Token(ctx, "svc")
	revoke(t, srv, t1.AccessToken, transportClient)
	code, got := do("/")
	if code != 200 || got["body"] != "payload" || got["method"] != "PUT" {
		t.Fatalf("after revocation: %d %v", code, got)
	}
	t2, _ := c.Token(ctx, "svc")
	seen := api.seen()
	if len(seen) != 3 || seen[0] != t1.AccessToken || seen[1] != t1.AccessToken || seen[2] != t2.AccessToken || t1.AccessToken == t2.AccessToken {
		t.Errorf("API saw %d tokens; want the first token twice, then a new one", len(seen))
	}
	// A 401 that persists is returned after one retry, not looped on.
	if code, _ := do("/always-401"); code != 401 {
		t.Errorf("always-401: %d", code)
	}
	if n := len(api.seen()); n != 5 {
		t.Errorf("API saw %d requests, want 5 (one retry of the 401)", n)
	}
	if n := srv.TokenRequests(transportClient.ID) - before; n != 3 {
		t.Errorf("%d token requests, want 3", n)
	}
}
