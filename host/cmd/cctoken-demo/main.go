// Command cctoken-demo runs the whole cctoken flow on this machine: a
// development authorization server and a protected API on 127.0.0.1, a
// preset pointing at them, then what `cctoken validate` and `cctoken request`
// print for it, narrated as it goes.
//
//	go run ./host/cmd/cctoken-demo
//
// It is a command of its own so that the installed cctoken does not carry
// the development server (github.com/ory/fosite and what it brings, about
// 10 MB of binary).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/internal/devserver"
	"github.com/cctoken/cctoken/internal/cliout"
)

const usage = `cctoken-demo: run a local authorization server and API, and use them with cctoken

usage:
  cctoken-demo    (no arguments)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command, with its streams passed in so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprint(stderr, "cctoken-demo takes no arguments\n\n"+usage)
		return 2
	}
	err := demo(ctx, stdout)
	var ex cliout.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return int(ex)
	}
	fmt.Fprintln(stderr, "cctoken-demo:", strings.TrimPrefix(err.Error(), "cctoken: "))
	return 1
}

// The demo's clients. The first secret has characters that client
// authentication must encode (RFC 6749 §2.3.1), so the demo shows it done.
const (
	reportingSecret = "demo secret: + & % = spaces"
	billingSecret   = "another-demo-secret"
)

func demo(ctx context.Context, stdout io.Writer) error {
	fmt.Fprintln(stdout, "Starting a development authorization server and a protected API on 127.0.0.1 …")
	srv, err := devserver.Start(ctx, []devserver.Client{
		{ID: "reporting-service", Secret: reportingSecret, Scopes: []string{"read"}},
		{ID: "billing-service", Secret: billingSecret, Scopes: []string{"read", "write"}},
	}, 10*time.Minute)
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "cctoken-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	preset := fmt.Sprintf(`preset:
- type: oauth_client_credentials
  url: %s
  users:
  - username: reporting
    client_id: reporting-service
    client_secret: ${env:CCTOKEN_DEMO_REPORTING_SECRET}
    scopes: [read]
    headers: {X-Team: reports}
  - username: billing
    client_id: billing-service
    client_secret: ${env:CCTOKEN_DEMO_BILLING_SECRET}
    auth_method: client_secret_post
    scopes: [read, write]
    cookies: {tenant: acme}
`, srv.TokenURL)
	file := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(file, []byte(preset), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  token endpoint  %s\n  protected API   %s\n\nThe preset (secrets come from the environment):\n\n%s\n", srv.TokenURL, srv.APIURL, preset)

	// The secrets come from this environment, as they would from the
	// shell's; the process environment itself is left alone.
	env := map[string]string{
		"CCTOKEN_DEMO_REPORTING_SECRET": reportingSecret,
		"CCTOKEN_DEMO_BILLING_SECRET":   billingSecret,
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	// One client for every step, so that the demo shows the cache at work
	// across commands.
	c, err := host.New(ctx, text, host.WithEnv(func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			return v, true
		}
		return os.LookupEnv(name)
	}))
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(stdout, "$ cctoken validate demo.yaml\n")
	if err := validate(ctx, stdout, c); err != nil {
		return err
	}
	for _, user := range []string{"reporting", "billing"} {
		fmt.Fprintf(stdout, "\n$ cctoken request demo.yaml --user %s %s\n", user, srv.APIURL)
		if err := request(ctx, stdout, c, user, srv.APIURL); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nThe authorization server answered %d token requests: one per user, the rest came from the cache.\n", srv.TokenRequests())
	return nil
}

// validate gets a token for every user and prints the table that
// `cctoken validate` prints (internal/cliout holds its format).
func validate(ctx context.Context, stdout io.Writer, c *host.Client) error {
	users := c.Users()
	rows := make([]cliout.Row, len(users))
	for i, u := range users {
		tok, err := c.Token(ctx, u.Username)
		if err != nil {
			rows[i] = cliout.Row{User: u.Username, Error: strings.TrimPrefix(err.Error(), "cctoken: user "+u.Username+": ")}
			var he *host.Error
			if errors.As(err, &he) {
				rows[i].Code = he.Code
			}
			continue
		}
		rows[i] = cliout.Row{User: u.Username, OK: true, TokenType: tok.TokenType, ExpiresAt: tok.Expiry, Scopes: tok.Scopes}
	}
	failed, err := cliout.Validate(stdout, rows, false)
	if err != nil {
		return err
	}
	if failed > 0 {
		return cliout.ExitError(1)
	}
	return nil
}

// request makes a GET as user and prints what `cctoken request` prints: the
// status line with the time taken, then the body.
func request(ctx context.Context, stdout io.Writer, c *host.Client, user, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: c.Transport(user, nil)}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Fprintf(stdout, "%s %s (%s)\n", resp.Proto, resp.Status, time.Since(start).Round(time.Millisecond))
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	stdout.Write(answer)
	if len(answer) > 0 && answer[len(answer)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	if resp.StatusCode >= 400 {
		return cliout.ExitError(1)
	}
	return nil
}
