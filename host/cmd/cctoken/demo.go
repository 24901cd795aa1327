package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cctoken/cctoken/host/internal/devserver"
)

// demo runs the whole flow on this machine: a development authorization
// server and a protected API on 127.0.0.1, a preset pointing at them, then
// validate and an authenticated request, narrated as it goes.
func (e *cliEnv) demo(args []string) error {
	if len(args) > 0 {
		return usageError("usage: cctoken demo")
	}
	fmt.Fprintln(e.stdout, "Starting a development authorization server and a protected API on 127.0.0.1 …")
	srv, err := devserver.Start(e.ctx, []devserver.Client{
		{ID: "reporting-service", Secret: "demo secret: + & % = spaces", Scopes: []string{"read"}},
		{ID: "billing-service", Secret: "another-demo-secret", Scopes: []string{"read", "write"}},
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
	os.Setenv("CCTOKEN_DEMO_REPORTING_SECRET", "demo secret: + & % = spaces")
	os.Setenv("CCTOKEN_DEMO_BILLING_SECRET", "another-demo-secret")
	fmt.Fprintf(e.stdout, "  token endpoint  %s\n  protected API   %s\n\nThe preset (secrets come from the environment):\n\n%s\n", srv.TokenURL, srv.APIURL, preset)

	if e.kept, err = e.client(file); err != nil {
		return err
	}
	defer func() { e.kept.Close(); e.kept = nil }()
	fmt.Fprintf(e.stdout, "$ cctoken validate demo.yaml\n")
	if err := e.validate([]string{file}); err != nil {
		return err
	}
	for _, user := range []string{"reporting", "billing"} {
		fmt.Fprintf(e.stdout, "\n$ cctoken request demo.yaml --user %s %s\n", user, srv.APIURL)
		if err := e.request([]string{file, "--user", user, srv.APIURL}); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "\nThe authorization server answered %d token requests: one per user, the rest came from the cache.\n", srv.TokenRequests())
	return nil
}
