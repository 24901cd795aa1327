package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/internal/cliout"
)

// lint, token and validate are the shared commands of internal/cliout
// (the same flags, usage, output and exit statuses as the WASI command);
// this command gives them their transport, package host.
func (e *cliEnv) lint(args []string) error     { return e.shared().Lint(args) }
func (e *cliEnv) token(args []string) error    { return e.shared().Token(args) }
func (e *cliEnv) validate(args []string) error { return e.shared().Validate(args) }

func (e *cliEnv) shared() *cliout.Env {
	return &cliout.Env{Ctx: e.ctx, Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Host: nativeHost{e}}
}

// nativeHost is the shared commands' transport: package host (wazero) and
// net/http, with --store.
type nativeHost struct{ e *cliEnv }

func (h nativeHost) Lint(ctx context.Context, text []byte, username string) (issues, hints []cliout.Issue, err error) {
	is, hs, err := host.LintHints(ctx, text, host.WithUsername(username))
	return issuesOf(is), issuesOf(hs), failureOf(err)
}

func (h nativeHost) Open(ctx context.Context, text []byte, username string, verbose bool) (cliout.Session, error) {
	e := h.e
	e.username, e.verbose = username, verbose
	c, err := e.newClient(text)
	if err != nil {
		return nil, failureOf(err)
	}
	return session{e, c}, nil
}

func (h nativeHost) TransportFlags(fs *flag.FlagSet) { h.e.storeFlags(fs) }

// session is a loaded host.Client.
type session struct {
	e *cliEnv
	c *host.Client
}

func (s session) Users() []string {
	users := s.c.Users()
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	return names
}

func (s session) Token(ctx context.Context, user string) (cliout.Token, error) {
	tok, err := s.c.Token(ctx, user)
	if err != nil {
		return cliout.Token{}, failureOf(err)
	}
	return cliout.Token{User: user, AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry,
		ExpirySource: tok.ExpirySource, Scopes: tok.Scopes}, nil
}

func (s session) Close() { s.e.release(s.c) }

// failureOf turns the module's error into the shared commands' Failure;
// other errors pass unchanged.
func failureOf(err error) error {
	var he *host.Error
	if !errors.As(err, &he) {
		return err
	}
	return &cliout.Failure{Code: he.Code, User: he.User, Message: he.Message, Issues: issuesOf(he.Issues)}
}

// headerFlags collects repeated -H flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func (e *cliEnv) request(args []string) error {
	fs := flag.NewFlagSet("request", flag.ContinueOnError)
	user := fs.String("user", "", "the username to send the request as")
	method := fs.String("X", "", "the method (default GET, or POST with -d)")
	data := fs.String("d", "", "the request body; @FILE reads a file")
	var headers headerFlags
	fs.Var(&headers, "H", "a request header 'Name: value' (repeatable)")
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	e.storeFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *user == "" {
		return usageError("usage: cctoken request FILE --user U [-X METHOD] [-H 'Name: value']... [-d DATA] URL")
	}
	e.username = *user
	c, err := e.client(pos[0])
	if err != nil {
		return err
	}
	defer e.release(c)
	var body io.Reader
	if *data != "" {
		b := []byte(*data)
		if strings.HasPrefix(*data, "@") {
			if b, err = os.ReadFile((*data)[1:]); err != nil {
				return err
			}
		}
		body = strings.NewReader(string(b))
		if *method == "" {
			*method = http.MethodPost
		}
	}
	if *method == "" {
		*method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(e.ctx, *method, pos[1], body)
	if err != nil {
		return usageError("cctoken request: " + err.Error())
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return usageError("cctoken request: -H takes 'Name: value', got " + fmt.Sprintf("%q", name))
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	// Same-origin redirects are followed (and signed again) by the transport;
	// one to another origin is printed, not followed.
	resp, err := c.HTTPClient(*user).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Always whole milliseconds: Duration's own form prints "0s" under half a
	// millisecond and "1.2s" past a second.
	fmt.Fprintf(e.stdout, "%s %s (%dms)\n", resp.Proto, resp.Status, time.Since(start).Milliseconds())
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	e.stdout.Write(answer)
	if len(answer) > 0 && answer[len(answer)-1] != '\n' {
		fmt.Fprintln(e.stdout)
	}
	if resp.StatusCode >= 400 {
		return exitError(1)
	}
	return nil
}
