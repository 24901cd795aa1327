package xoauth2_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/xoauth2"
)

// Code written for golang.org/x/oauth2 takes a cctoken user as its token
// source; cctoken keeps caching and refreshing the token.
func ExampleTokenSource() {
	// A token endpoint and an API on 127.0.0.1.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"token-for-svc","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "authorized as %q\n", r.Header.Get("Authorization"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	c, err := host.New(ctx, []byte(`preset:
- type: oauth_client_credentials
  url: `+srv.URL+`/token
  users:
  - {username: svc, client_id: svc, client_secret: example-secret}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	api := oauth2.NewClient(ctx, xoauth2.TokenSource(ctx, c, "svc"))
	resp, err := api.Get(srv.URL + "/api")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output: authorized as "Bearer token-for-svc"
}
