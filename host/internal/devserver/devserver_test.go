package devserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const specialSecret = `p+a&s%s:w=o rd /?#"ü~`

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
}

func startServer(t *testing.T, ttl time.Duration) *Server {
	t.Helper()
	srv, err := Start(context.Background(), []Client{
		{ID: "demo-client", Secret: "demo-secret", Scopes: []string{"read", "write"}},
		{ID: "special client", Secret: specialSecret, Scopes: []string{"read"}},
	}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// basicAuth encodes client credentials as RFC 6749 §2.3.1 requires.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func requestToken(t *testing.T, srv *Server, id, secret string, post bool, scope string) (int, http.Header, tokenResponse) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if post {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, srv.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !post {
		req.Header.Set("Authorization", basicAuth(id, secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response (%s) is not JSON: %q", resp.Status, body)
	}
	return resp.StatusCode, resp.Header, tr
}

func whoami(t *testing.T, srv *Server, authz string, extra func(*http.Request)) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.APIURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if extra != nil {
		extra(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func TestTokenAndWhoami(t *testing.T) {
	srv := startServer(t, 90*time.Second)
	if !strings.HasPrefix(srv.TokenURL, "http://127.0.0.1:") {
		t.Fatalf("TokenURL %q is not on loopback", srv.TokenURL)
	}

	for _, tc := range []struct {
		name, id, secret, scope, wantScope string
		post                               bool
	}{
		{"basic", "demo-client", "demo-secret", "read", "read", false},
		{"post", "demo-client", "demo-secret", "write read", "write read", true},
		{"default scopes", "demo-client", "demo-secret", "", "read write", false},
		{"special basic", "special client", specialSecret, "", "read", false},
		{"special post", "special client", specialSecret, "read", "read", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			code, _, tr := requestToken(t, srv, tc.id, tc.secret, tc.post, tc.scope)
			if code != http.StatusOK || tr.AccessToken == "" {
				t.Fatalf("token: status %d, error %q", code, tr.Error)
			}
			if !strings.EqualFold(tr.TokenType, "bearer") || tr.Scope != tc.wantScope || tr.ExpiresIn < 85 || tr.ExpiresIn > 90 {
				t.Errorf("token response: type %q scope %q expires_in %d", tr.TokenType, tr.Scope, tr.ExpiresIn)
			}

			code, _, body := whoami(t, srv, "Bearer "+tr.AccessToken, func(r *http.Request) {
				r.Header.Set("X-Demo-Header", "hello")
				r.Header.Set("Not-X", "hidden")
				r.AddCookie(&http.Cookie{Name: "session", Value: "cookie-value-must-not-echo"})
				r.AddCookie(&http.Cookie{Name: "pref", Value: "dark"})
			})
			if code != http.StatusOK {
				t.Fatalf("whoami: status %d: %s", code, body)
			}
			if strings.Contains(string(body), tr.AccessToken) || strings.Contains(string(body), "cookie-value-must-not-echo") {
				t.Errorf("whoami echoed a token or a cookie value: %s", body)
			}
			var who WhoamiResponse
			if err := json.Unmarshal(body, &who); err != nil {
				t.Fatal(err)
			}
			if who.ClientID != tc.id || strings.Join(who.Scopes, " ") != tc.wantScope {
				t.Errorf("whoami: client %q scopes %q", who.ClientID, who.Scopes)
			}
			if exp := time.Unix(who.ExpiresAt, 0); exp.Before(before.Add(88*time.Second)) || exp.After(time.Now().Add(91*time.Second)) {
				t.Errorf("whoami: expires_at %v not about 90s from now", exp)
			}
			if got := who.Headers["X-Demo-Header"]; len(got) != 1 || got[0] != "hello" {
				t.Errorf("whoami: X-Demo-Header = %q", got)
			}
			if _, ok := who.Headers["Not-X"]; ok {
				t.Error("whoami echoed a non-X- header")
			}
			if strings.Join(who.Cookies, ",") != "pref,session" {
				t.Errorf("whoami: cookies %q", who.Cookies)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := startServer(t, 0)

	code, hdr, tr := requestToken(t, srv, "demo-client", "wrong", false, "")
	if code != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("wrong secret (basic): status %d, error %q", code, tr.Error)
	}
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("wrong secret (basic): WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
	}
	if code, _, tr := requestToken(t, srv, "demo-client", "wrong", true, ""); code != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("wrong secret (post): status %d, error %q", code, tr.Error)
	}
	if code, _, tr := requestToken(t, srv, "nobody", "x", false, ""); code != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("unknown client: status %d, error %q", code, tr.Error)
	}
	if code, _, tr := requestToken(t, srv, "special client", "read", false, "write"); code != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("special client, wrong secret: status %d, error %q", code, tr.Error)
	}
	if code, _, tr := requestToken(t, srv, "special client", specialSecret, false, "write"); code != http.StatusBadRequest || tr.Error != "invalid_scope" {
		t.Errorf("scope not allowed: status %d, error %q", code, tr.Error)
	}
	// Basic credentials must be form-urlencoded first (RFC 6749 §2.3.1);
	// the raw secret decodes to something else (or fails to decode).
	req, _ := http.NewRequest(http.MethodPost, srv.TokenURL, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("special+client", specialSecret)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("unencoded special characters in Basic secret were accepted")
		}
	}
	if got := srv.TokenRequests(); got != 6 {
		t.Errorf("TokenRequests() = %d, want 6", got)
	}

	const bogus = "bogus-token.value"
	code, hdr, body := whoami(t, srv, "Bearer "+bogus, nil)
	if code != http.StatusUnauthorized {
		t.Fatalf("bogus token: status %d", code)
	}
	if c := hdr.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Bearer ") || !strings.Contains(c, `error="invalid_token"`) || strings.Contains(c, bogus) {
		t.Errorf("bogus token: WWW-Authenticate %q", c)
	}
	if strings.Contains(string(body), bogus) {
		t.Errorf("bogus token echoed: %s", body)
	}

	code, hdr, _ = whoami(t, srv, "", nil)
	if c := hdr.Get("WWW-Authenticate"); code != http.StatusUnauthorized || !strings.HasPrefix(c, "Bearer ") || strings.Contains(c, "error=") {
		t.Errorf("no token: status %d, WWW-Authenticate %q", code, c)
	}
}

func TestExpiryAndClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx, []Client{{ID: "c", Secret: "s"}}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, _, tr := requestToken(t, srv, "c", "s", false, "")
	if tr.AccessToken == "" {
		t.Fatalf("no token: %q", tr.Error)
	}
	if code, _, body := whoami(t, srv, "Bearer "+tr.AccessToken, nil); code != http.StatusOK {
		t.Fatalf("fresh token: status %d: %s", code, body)
	}
	time.Sleep(1200 * time.Millisecond)
	if code, hdr, _ := whoami(t, srv, "bearer "+tr.AccessToken, nil); code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("expired token: status %d", code)
	}

	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp, err := http.Get(srv.APIURL)
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still answers after its context was cancelled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}
