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
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
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
	var ru syscall.Rusage
	cpu := "-1"
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu = strconv.FormatFloat(float64(ru.Utime.Nano()+ru.Stime.Nano())/1e6, 'f', 2, 64)
	}
	c.Close()

	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	fmt.Println("main_ms", ms(done.Sub(t0)-serverStart))
	fmt.Println("new_ms", ms(done.Sub(tNew)))
	wall := "-1"
	if v := os.Getenv("CCTOKEN_T0"); v != "" {
		// bash's $EPOCHREALTIME: seconds with a fractional part.
		if sec, frac, ok := strings.Cut(v, "."); ok {
			s, err1 := strconv.ParseInt(sec, 10, 64)
			f, err2 := strconv.ParseInt((frac + "000000")[:6], 10, 64)
			if err1 == nil && err2 == nil {
				start := time.Unix(s, f*1000)
				wall = ms(done.Sub(start) - serverStart)
			}
		}
	}
	fmt.Println("wall_ms", wall)
	fmt.Println("cpu_ms", cpu)
}
