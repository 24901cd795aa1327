package oidctest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
}

// requestToken performs a client_credentials grant with plain net/http,
// authenticating with the given method.
func requestToken(t *testing.T, tokenURL string, c Client, method string, scope string) (int, http.Header, tokenResponse) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if method == AuthPost {
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	}
	req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == AuthBasic {
		req.Header.Set("Authorization", BasicAuth(c.ID, c.Secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response is not JSON (%s): %q", resp.Status, body)
	}
	return resp.StatusCode, resp.Header, tr
}

func TestServer(t *testing.T) {
	basic := Client{ID: "basic-client", Secret: "basic-secret", AuthMethod: AuthBasic, Scopes: []string{"read", "write"}}
	post := Client{ID: "post-client", Secret: "post-secret", AuthMethod: AuthPost, Scopes: []string{"read"}}
	// Printable ASCII only: oidc-provider rejects other characters in secrets.
	const special = `p+a&s%s:w=o rd /?#"~`
	specialBasic := Client{ID: "special basic:id", Secret: special, AuthMethod: AuthBasic, Scopes: []string{"read"}}
	specialPost := Client{ID: "special-post", Secret: special, AuthMethod: AuthPost, Scopes: []string{"read"}}

	srv := Start(t, Options{
		Clients:        []Client{basic, post, specialBasic, specialPost},
		AccessTokenTTL: 60,
	})
	if !strings.HasPrefix(srv.Issuer, "http://127.0.0.1:") {
		t.Fatalf("issuer %q is not on loopback", srv.Issuer)
	}

	t.Run("basic", func(t *testing.T) {
		code, _, tr := requestToken(t, srv.TokenURL, basic, AuthBasic, "read write")
		if code != http.StatusOK || tr.AccessToken == "" {
			t.Fatalf("status %d, response %+v", code, tr)
		}
		if !strings.EqualFold(tr.TokenType, "Bearer") || tr.ExpiresIn != 60 || tr.Scope != "read write" {
			t.Errorf("unexpected token response %+v", tr)
		}
		active, clientID, scope := srv.Introspect(t, tr.AccessToken, post)
		if !active || clientID != basic.ID || scope != "read write" {
			t.Errorf("introspection: active=%v client_id=%q scope=%q", active, clientID, scope)
		}
		if active, _, _ := srv.Introspect(t, "not-a-token", basic); active {
			t.Error("bogus token introspected as active")
		}
	})

	t.Run("post", func(t *testing.T) {
		code, _, tr := requestToken(t, srv.TokenURL, post, AuthPost, "read")
		if code != http.StatusOK || tr.AccessToken == "" || tr.Scope != "read" {
			t.Fatalf("status %d, response %+v", code, tr)
		}
	})

	t.Run("special characters", func(t *testing.T) {
		for _, c := range []Client{specialBasic, specialPost} {
			code, _, tr := requestToken(t, srv.TokenURL, c, c.AuthMethod, "")
			if code != http.StatusOK || tr.AccessToken == "" {
				t.Errorf("%s: status %d, response %+v", c.AuthMethod, code, tr)
			}
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		bad := basic
		bad.Secret = "wrong"
		code, hdr, tr := requestToken(t, srv.TokenURL, bad, AuthBasic, "")
		if code != http.StatusUnauthorized || tr.Error != "invalid_client" {
			t.Errorf("status %d, error %q; want 401 invalid_client", code, tr.Error)
		}
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("WWW-Authenticate = %q", hdr.Get("WWW-Authenticate"))
		}
		badPost := post
		badPost.Secret = "wrong"
		if code, _, tr := requestToken(t, srv.TokenURL, badPost, AuthPost, ""); code != http.StatusUnauthorized || tr.Error != "invalid_client" {
			t.Errorf("post: status %d, error %q; want 401 invalid_client", code, tr.Error)
		}
	})

	t.Run("scopes", func(t *testing.T) {
		if code, _, tr := requestToken(t, srv.TokenURL, basic, AuthBasic, "read admin"); code != http.StatusBadRequest || tr.Error != "invalid_scope" {
			t.Errorf("unknown scope: status %d, error %q", code, tr.Error)
		}
		if code, _, tr := requestToken(t, srv.TokenURL, post, AuthPost, "write"); code != http.StatusBadRequest || tr.Error != "invalid_scope" {
			t.Errorf("scope of another client: status %d, error %q", code, tr.Error)
		}
	})

	t.Run("stats", func(t *testing.T) {
		srv.Reset()
		if n := srv.TotalTokenRequests(); n != 0 {
			t.Fatalf("after Reset: total %d", n)
		}
		requestToken(t, srv.TokenURL, basic, AuthBasic, "")
		requestToken(t, srv.TokenURL, basic, AuthBasic, "")
		requestToken(t, srv.TokenURL, Client{ID: basic.ID, Secret: "wrong"}, AuthBasic, "")
		requestToken(t, srv.TokenURL, post, AuthPost, "")
		requestToken(t, srv.TokenURL, specialBasic, AuthBasic, "")
		if got := srv.TokenRequests(basic.ID); got != 3 {
			t.Errorf("TokenRequests(%q) = %d, want 3", basic.ID, got)
		}
		if got := srv.TokenRequests(post.ID); got != 1 {
			t.Errorf("TokenRequests(%q) = %d, want 1", post.ID, got)
		}
		if got := srv.TokenRequests(specialBasic.ID); got != 1 {
			t.Errorf("TokenRequests(%q) = %d, want 1", specialBasic.ID, got)
		}
		if got := srv.TotalTokenRequests(); got != 5 {
			t.Errorf("TotalTokenRequests() = %d, want 5", got)
		}
		if got := srv.AuthMethodRequests(post.ID, AuthPost); got != 1 {
			t.Errorf("AuthMethodRequests(post, post) = %d, want 1", got)
		}
	})
}

func TestStrictAuthMethods(t *testing.T) {
	basic := Client{ID: "basic-client", Secret: "basic-secret", AuthMethod: AuthBasic}
	srv := Start(t, Options{Clients: []Client{basic}, StrictAuthMethods: true})
	if code, _, tr := requestToken(t, srv.TokenURL, basic, AuthPost, ""); code != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("basic client via post: status %d, error %q; want 401 invalid_client", code, tr.Error)
	}
	if code, _, _ := requestToken(t, srv.TokenURL, basic, AuthBasic, ""); code != http.StatusOK {
		t.Errorf("basic client via basic: status %d", code)
	}
}
