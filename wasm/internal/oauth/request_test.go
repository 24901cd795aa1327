package oauth

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

func TestTokenRequest(t *testing.T) {
	const tokenURL = "https://auth.example.com/oauth2/token"
	tests := []struct {
		name       string
		account    preset.Account
		body       string            // exact body
		header     map[string]string // exact header set
		wantValues url.Values        // url.ParseQuery(body)
	}{
		{
			name: "basic with awkward id and secret",
			account: preset.Account{
				TokenURL: tokenURL, AuthMethod: preset.ClientSecretBasic,
				ClientID: "id:with space", ClientSecret: "s+e&c%r:e=t x",
				Scopes: []string{"read", "write"},
			},
			body: "grant_type=client_credentials&scope=read+write",
			header: map[string]string{
				"Content-Type": "application/x-www-form-urlencoded",
				"Accept":       "application/json",
				// base64("id%3Awith+space:s%2Be%26c%25r%3Ae%3Dt+x"), computed outside Go.
				"Authorization": "Basic aWQlM0F3aXRoK3NwYWNlOnMlMkJlJTI2YyUyNXIlM0FlJTNEdCt4",
			},
			wantValues: url.Values{"grant_type": {"client_credentials"}, "scope": {"read write"}},
		},
		{
			name: "basic with raw encoding joins id and secret as they are",
			account: preset.Account{
				TokenURL: tokenURL, AuthMethod: preset.ClientSecretBasic, BasicEncoding: preset.BasicEncodingRaw,
				ClientID: "id with space", ClientSecret: "s+e&c%r:e=t x",
			},
			body: "grant_type=client_credentials",
			header: map[string]string{
				"Content-Type": "application/x-www-form-urlencoded",
				"Accept":       "application/json",
				// base64("id with space:s+e&c%r:e=t x"), computed outside Go.
				"Authorization": "Basic aWQgd2l0aCBzcGFjZTpzK2UmYyVyOmU9dCB4",
			},
			wantValues: url.Values{"grant_type": {"client_credentials"}},
		},
		{
			name: "raw encoding does not change client_secret_post",
			account: preset.Account{
				TokenURL: tokenURL, AuthMethod: preset.ClientSecretPost, BasicEncoding: preset.BasicEncodingRaw,
				ClientID: "c", ClientSecret: "s&x",
			},
			body: "grant_type=client_credentials&client_id=c&client_secret=s%26x",
			header: map[string]string{
				"Content-Type": "application/x-www-form-urlencoded",
				"Accept":       "application/json",
			},
			wantValues: url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"s&x"}},
		},
		{
			name: "empty auth method means basic, no scopes",
			account: preset.Account{
				TokenURL: tokenURL, ClientID: "client", ClientSecret: "secret",
			},
			body: "grant_type=client_credentials",
			header: map[string]string{
				"Content-Type":  "application/x-www-form-urlencoded",
				"Accept":        "application/json",
				"Authorization": "Basic Y2xpZW50OnNlY3JldA==",
			},
			wantValues: url.Values{"grant_type": {"client_credentials"}},
		},
		{
			name: "post with everything",
			account: preset.Account{
				TokenURL: tokenURL, AuthMethod: preset.ClientSecretPost,
				ClientID: "id:with space", ClientSecret: "s+e&c%r:e=t x",
				Scopes:   []string{"a", "b"},
				Audience: "https://api.example.com",
				Resource: []string{"https://r1.example.com", "https://r2.example.com"},
				Params:   map[string]string{"z": "last", "tenant": "t 1", "grant_type": "password"},
				Headers:  map[string]string{"X-Trace": "1", "Accept": "application/json, text/plain", "Content-Type": "text/plain"},
				Cookies:  map[string]string{"b": "2", "a": "1"},
			},
			body: "grant_type=client_credentials&client_id=id%3Awith+space&client_secret=s%2Be%26c%25r%3Ae%3Dt+x" +
				"&scope=a+b&audience=https%3A%2F%2Fapi.example.com" +
				"&resource=https%3A%2F%2Fr1.example.com&resource=https%3A%2F%2Fr2.example.com" +
				"&tenant=t+1&z=last",
			header: map[string]string{
				"Content-Type": "application/x-www-form-urlencoded",
				"Accept":       "application/json, text/plain",
				"X-Trace":      "1",
				"Cookie":       "a=1; b=2",
			},
			wantValues: url.Values{
				"grant_type":    {"client_credentials"},
				"client_id":     {"id:with space"},
				"client_secret": {"s+e&c%r:e=t x"},
				"scope":         {"a b"},
				"audience":      {"https://api.example.com"},
				"resource":      {"https://r1.example.com", "https://r2.example.com"},
				"tenant":        {"t 1"},
				"z":             {"last"},
			},
		},
		{
			name: "basic drops a client_secret param",
			account: preset.Account{
				TokenURL: tokenURL, AuthMethod: preset.ClientSecretBasic,
				ClientID: "client", ClientSecret: "secret",
				Params:  map[string]string{"client_secret": "secret", "client_id": "client"},
				Cookies: map[string]string{"s": "x"},
				Headers: map[string]string{"Cookie": "pre=0", "Authorization": "Bearer other"},
			},
			body: "grant_type=client_credentials&client_id=client",
			header: map[string]string{
				"Content-Type":  "application/x-www-form-urlencoded",
				"Accept":        "application/json",
				"Authorization": "Basic Y2xpZW50OnNlY3JldA==",
				"Cookie":        "pre=0; s=x",
			},
			wantValues: url.Values{"grant_type": {"client_credentials"}, "client_id": {"client"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, &tt.account)
			if req.Method != "POST" || req.URL != tokenURL {
				t.Errorf("got %s %s, want POST %s", req.Method, req.URL, tokenURL)
			}
			if req.Body != tt.body {
				t.Errorf("body\n got %s\nwant %s", req.Body, tt.body)
			}
			if !reflect.DeepEqual(req.Header, tt.header) {
				t.Errorf("header\n got %v\nwant %v", req.Header, tt.header)
			}
			got, err := url.ParseQuery(req.Body)
			if err != nil || !reflect.DeepEqual(got, tt.wantValues) {
				t.Errorf("ParseQuery(body) = %v, %v; want %v", got, err, tt.wantValues)
			}
			if tt.account.ClientSecret != "" && strings.Contains(req.URL, url.QueryEscape(tt.account.ClientSecret)) {
				t.Error("secret in URL")
			}
		})
	}
}

func TestTokenRequestDeterministic(t *testing.T) {
	a := &preset.Account{
		AuthMethod: preset.ClientSecretPost, ClientID: "c",
		Params:  map[string]string{"p1": "1", "p2": "2", "p3": "3", "p4": "4"},
		Cookies: map[string]string{"c1": "1", "c2": "2", "c3": "3"},
	}
	first := mustRequest(t, a)
	for range 20 {
		if r := mustRequest(t, a); !reflect.DeepEqual(r, first) {
			t.Fatalf("request changed between calls:\n%v\n%v", r, first)
		}
	}
	if r, err := TokenRequest(nil, time.Now(), nil); err != nil || r.Method != "" {
		t.Error("nil account should give an empty request")
	}
}

func mustRequest(t *testing.T, a *preset.Account) httpmsg.Request {
	t.Helper()
	r, err := TokenRequest(a, time.Unix(1700000000, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
