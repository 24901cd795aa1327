package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	// The module's compilation cache: out of the user's home, and kept
	// across runs.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(os.TempDir(), "cctoken-demo-test-cache"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	// What the demo shows, in order: the servers, the preset, validate's
	// table, one authenticated call per user, and the cache at work.
	want := []string{
		`(?m)^  token endpoint  http://127\.0\.0\.1:\d+/oauth2/token$`,
		`(?m)^  protected API   http://127\.0\.0\.1:\d+/api/whoami$`,
		`client_secret: \$\{env:CCTOKEN_DEMO_REPORTING_SECRET\}`,
		`(?m)^\$ cctoken validate demo\.yaml$`,
		`(?m)^reporting +ok +Bearer +in \S+ +read +$`,
		`(?m)^billing +ok +Bearer +in \S+ +read write +$`,
		`(?m)^2 of 2 users authenticated$`,
		`(?m)^\$ cctoken request demo\.yaml --user reporting http://127\.0\.0\.1:\d+/api/whoami\nHTTP/1\.1 200 OK \(\S+\)\n\{"client_id":"reporting-service","scopes":\["read"\],"expires_at":\d+,"headers":\{"X-Team":\["reports"\]\},"cookies":\[\]\}$`,
		`(?m)^\$ cctoken request demo\.yaml --user billing http://127\.0\.0\.1:\d+/api/whoami\nHTTP/1\.1 200 OK \(\S+\)\n\{"client_id":"billing-service","scopes":\["read","write"\],"expires_at":\d+,"headers":\{\},"cookies":\["tenant"\]\}$`,
		`(?m)^The authorization server answered 2 token requests: one per user, the rest came from the cache\.$`,
	}
	at := 0
	for _, w := range want {
		loc := regexp.MustCompile(w).FindStringIndex(out[at:])
		if loc == nil {
			t.Fatalf("the output lacks %s after offset %d:\n%s", w, at, out)
		}
		at += loc[1]
	}
	for _, secret := range []string{reportingSecret, billingSecret} {
		if strings.Contains(out+stderr.String(), secret) {
			t.Errorf("the demo printed a client secret:\n%s", out)
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestArguments(t *testing.T) {
	cases := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, 0, "usage:\n  cctoken-demo", ""},
		{[]string{"-h"}, 0, "usage:", ""},
		{[]string{"now"}, 2, "", "cctoken-demo takes no arguments"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if tc.stdout == "" && stdout.Len() > 0 {
				t.Errorf("wrote to stdout: %q", stdout.String())
			}
		})
	}
}
