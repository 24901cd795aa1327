package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// realProcess runs the command as its own process: the test binary, which
// TestMain turns into the command.
func realProcess(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CCTOKEN_TEST_AS_COMMAND=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// `cctoken request` follows a redirect on the API's origin, signed again,
// and prints one to another origin without following it: the other origin
// (localhost on another port, the API being 127.0.0.1) sees nothing.
func TestRequestRedirects(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	var mu sync.Mutex
	var sinkSeen []http.Header
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sinkSeen = append(sinkSeen, r.Header.Clone())
		mu.Unlock()
		io.WriteString(w, "sink")
	}))
	defer sink.Close()
	_, port, _ := net.SplitHostPort(sink.Listener.Addr().String())
	away := "http://localhost:" + port + "/sink"
	var apiSeen []apiRequest
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		apiSeen = append(apiSeen, apiRequest{r.Method, r.URL.Path, "", r.Header.Clone()})
		mu.Unlock()
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, away, http.StatusFound)
		case "/old":
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		default:
			fmt.Fprintf(w, "hello %s", r.URL.Path)
		}
	}))
	defer api.Close()
	file := writeFile(t, "p.yaml", srv.preset())

	r := realProcess(t, "request", file, "--user", "bob", "-H", "X-Mine: kept", api.URL+"/away")
	if r.code != 0 || !strings.Contains(r.stdout, "302 Found") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	if len(sinkSeen) != 0 {
		t.Errorf("the other origin got %d requests: %v", len(sinkSeen), sinkSeen)
	}
	if len(apiSeen) != 1 || !strings.HasPrefix(apiSeen[0].header.Get("Authorization"), "Bearer TOKEN-CANARY-") || apiSeen[0].header.Get("X-Team") != "billing" {
		t.Errorf("the API saw %v", apiSeen)
	}
	mu.Unlock()

	r = realProcess(t, "request", file, "--user", "bob", api.URL+"/old")
	if r.code != 0 || !strings.Contains(r.stdout, "hello /new") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(apiSeen) != 3 || apiSeen[2].path != "/new" || apiSeen[2].header.Get("Authorization") == "" || apiSeen[2].header.Get("X-Team") != "billing" {
		t.Errorf("the API saw %v", apiSeen)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, "CANARY") {
			t.Errorf("a secret or token in the output: %s", out)
		}
	}
}
