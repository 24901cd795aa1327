// Command xoauth2 is coldstart's peer: a fresh native process that gets
// its first token with golang.org/x/oauth2's clientcredentials from the
// same kind of local token server, so run.sh can divide cctoken's first
// token by it. It prints the same lines as coldstart (main_ms, wall_ms,
// cpu_ms); new_ms is from just before the token request.
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
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
	var ru syscall.Rusage
	cpu := "-1"
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu = strconv.FormatFloat(float64(ru.Utime.Nano()+ru.Stime.Nano())/1e6, 'f', 2, 64)
	}

	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	fmt.Println("main_ms", ms(done.Sub(t0)-serverStart))
	fmt.Println("new_ms", ms(done.Sub(tNew)))
	wall := "-1"
	if v := os.Getenv("CCTOKEN_T0"); v != "" {
		if sec, frac, ok := strings.Cut(v, "."); ok {
			s, err1 := strconv.ParseInt(sec, 10, 64)
			f, err2 := strconv.ParseInt((frac + "000000")[:6], 10, 64)
			if err1 == nil && err2 == nil {
				wall = ms(done.Sub(time.Unix(s, f*1000)) - serverStart)
			}
		}
	}
	fmt.Println("wall_ms", wall)
	fmt.Println("cpu_ms", cpu)
}
