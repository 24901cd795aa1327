// Command xoauth2 is coldstart's peer: a fresh native process that gets
// its first token with golang.org/x/oauth2's clientcredentials from the
// same kind of local token server, so run.sh can divide cctoken's first
// token by it. It prints the same lines as coldstart (main_ms, wall_ms,
// cpu_ms); new_ms is from just before the token request.
package main

import (
	"context"
	"fmt"
	"github.com/cctoken/cctoken/tests/bench/coldstart/report"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	t0 := time.Now()
	s0 := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"coldstart-token-0123456789abcdef","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	serverStart := time.Since(s0)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tNew := time.Now()
	cfg := &clientcredentials.Config{ClientID: "svc-id", ClientSecret: "svc-secret", TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}
	if _, err := oauth2.ReuseTokenSource(nil, cfg.TokenSource(ctx)).Token(); err != nil {
		fmt.Fprintln(os.Stderr, "xoauth2:", err)
		os.Exit(1)
	}
	done := time.Now()
	report.Print(t0, tNew, done, serverStart)
}
