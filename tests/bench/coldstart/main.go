// Command coldstart measures how long a fresh process takes to get its first
// token from the Go host: host.New (compiling or loading the module and
// instantiating it) plus the first Token call against a local token server.
// The host keeps one compiled module per process, so run.sh starts this
// program anew for every sample.
//
// It prints three lines, in milliseconds:
//
//	main_ms  from the first statement of main to the first token
//	new_ms   from just before host.New to the first token
//	wall_ms  from the CCTOKEN_T0 timestamp (bash's $EPOCHREALTIME, set by the
//	         caller right before starting the process) to the first token;
//	         -1 when unset
//	cpu_ms   CPU time (user + system, all threads) the process used up to
//	         the first token: less sensitive than the others to other work
//	         on the machine
//
// The in-process token server's own start-up is left out of main_ms and
// wall_ms.
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/cctoken/cctoken/tests/bench/coldstart/report"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/cctoken/cctoken/host"
)

func main() {
	t0 := time.Now()
	cacheDir := flag.String("cache", "", `compilation cache directory; "" compiles without a cache`)
	flag.Parse()

	s0 := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"coldstart-token-0123456789abcdef","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	serverStart := time.Since(s0)
	preset := fmt.Sprintf("preset:\n- type: oauth_client_credentials\n  url: %s/token\n  users:\n  - username: svc\n    client_id: svc-id\n    client_secret: svc-secret\n", srv.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tNew := time.Now()
	c, err := host.New(ctx, []byte(preset), host.WithCacheDir(*cacheDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
	if _, err := c.Token(ctx, "svc"); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
	done := time.Now()
	report.Print(t0, tNew, done, serverStart) // before Close, whose work is not the first token's
	c.Close()
}
