//go:build wasip1

// Command command is cctoken as a standalone WASI command: built with
// GOOS=wasip1 into build/cctoken-wasi.wasm, it offers the native CLI's lint,
// token and validate with the same preset handling, errors and output, and
// performs the token requests itself through the WasmEdge socket extensions
// (github.com/stealthrocket/net). Runtimes that have them: WasmEdge, and
// wasirun from github.com/stealthrocket/wasi-go.
//
//	wasirun --dir "$PWD" --env SECRET=… build/cctoken-wasi.wasm -- token preset.yaml --user svc
//
// The same sans-IO engine as the reactor decides everything about a token;
// the driver in driver.go only performs the requests it asks for.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cctoken/cctoken/internal/cliout"
	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

const usage = `cctoken: OAuth 2.0 client-credentials tokens from a preset file
(the standalone WASI command; run it under WasmEdge or wasirun)

usage:
  cctoken lint FILE [--user U]           report every problem in a preset (exit 1 if any)
  cctoken token FILE [--user U] [--json] print a token (the only user's, or U's)
  cctoken validate FILE [--json]         get a token for every user and print a table
  cctoken version                        print cctoken's version (also --version)

token and validate also take --ca-file FILE: trust the CA certificates in
this PEM file as well as the embedded roots (default: $CCTOKEN_CA_FILE).
FILE and the CA file must be inside a directory the runtime preopens by
its absolute path (wasirun --dir "$PWD", wasmedge --dir "$PWD:$PWD"; Go
does not resolve paths against a preopen named "."); host names need /etc
preopened or a DNS server (wasirun --dns-server). FILE may be - for
standard input.
Secrets can stay out of the file: client_secret: ${env:NAME} reads the
environment variable NAME (wasirun --env NAME=VALUE). FILE may also be a
Keboola generic-extractor configuration with a client-credentials login;
--user U names its one user (default keboola).
`

// requestTimeout bounds one token request, as the native command's default.
const requestTimeout = 30 * time.Second

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cmd{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	return cliout.Run(args, usage, stdout, stderr, cliout.Commands{
		"lint":     c.lint,
		"token":    c.token,
		"validate": c.validate,
		"version":  func(args []string) error { return cliout.Version(stdout, args) },
		// --version as well, as the native command.
		"--version": func(args []string) error { return cliout.Version(stdout, args) },
	}, errorText)
}

// errorText is what the native command prints for an error: the module's
// message, after "user U: " when it is about one user.
func errorText(err error) string {
	var ee *engine.Error
	if errors.As(err, &ee) && ee.User != "" {
		return "user " + ee.User + ": " + ee.Message
	}
	return err.Error()
}

type (
	exitError  = cliout.ExitError
	usageError = cliout.UsageError
)

var parse = cliout.ParseFlags

type cmd struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	verbose        bool
	caFile         string
}

func (c *cmd) netFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.verbose, "v", false, "log token requests to stderr")
	fs.StringVar(&c.caFile, "ca-file", os.Getenv("CCTOKEN_CA_FILE"), "a PEM file of CA certificates to trust as well")
}

func (c *cmd) readFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(c.stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cctoken: cannot read the preset: %w%s", err, preopenHint(err))
	}
	return b, nil
}

func issuesOf(errs preset.Errors) []cliout.Issue {
	out := make([]cliout.Issue, len(errs))
	for i, is := range errs {
		out[i] = cliout.Issue{Field: is.Field, Line: is.Line, Column: is.Column, Message: is.Message}
	}
	return out
}

func (c *cmd) lint(args []string) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	user := fs.String("user", "", "the username of an imported document's user")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken lint FILE [--user U]")
	}
	text, err := c.readFile(pos[0])
	if err != nil {
		return err
	}
	res := engine.New(nil).Lint(text, preset.WithUsername(*user)).Result.(engine.LintResult)
	if len(res.Issues) > 0 {
		cliout.Issues(c.stdout, pos[0], issuesOf(res.Issues))
		return exitError(1)
	}
	cliout.LintOK(c.stdout, pos[0])
	return nil
}

// load reads and loads the preset into a new driver; a preset that does not
// load is reported issue by issue on stderr, as the native command does.
// username names the user of an imported document (token --user).
func (c *cmd) load(file, username string) (*driver, []engine.UserInfo, error) {
	text, err := c.readFile(file)
	if err != nil {
		return nil, nil, err
	}
	d, err := newDriver(c.caFile, c.logger())
	if err != nil {
		return nil, nil, err
	}
	res, err := d.run(c.ctx, func(e *engine.Engine) engine.Step { return e.Load(text, preset.WithUsername(username)) })
	if err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) && ee.Code == engine.CodeInvalidPreset {
			cliout.Issues(c.stderr, file, issuesOf(ee.Issues))
			return nil, nil, exitError(1)
		}
		return nil, nil, err
	}
	return d, res.(engine.UsersResult).Users, nil
}

func (c *cmd) logger() *slog.Logger {
	if !c.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (c *cmd) token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("user", "", "the username to get a token for")
	asJSON := fs.Bool("json", false, "print a JSON object instead of the bare token")
	c.netFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken token FILE [--user U] [--json]")
	}
	d, users, err := c.load(pos[0], *user)
	if err != nil {
		return err
	}
	u := *user
	if u == "" {
		if len(users) != 1 {
			return usageError("cctoken token: the preset has " + fmt.Sprint(len(users)) + " users; pick one with --user (" + cliout.UserList(names(users)) + ")")
		}
		u = users[0].Username
	}
	tok, err := d.token(c.ctx, u)
	if err != nil {
		return err
	}
	return cliout.TokenOut(c.stdout, cliout.Token{
		User: u, AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: time.UnixMilli(tok.ExpiresAt),
		ExpirySource: tok.ExpirySource, Scopes: tok.Scopes,
	}, *asJSON)
}

func names(users []engine.UserInfo) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Username
	}
	return out
}

func (c *cmd) validate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	parallel := fs.Int("parallel", 8, "how many users to authenticate at once")
	c.netFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken validate FILE [--json]")
	}
	d, users, err := c.load(pos[0], "")
	if err != nil {
		return err
	}
	rows := make([]cliout.Row, len(users))
	progress := cliout.ShowProgress(len(users))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		done  int
		fatal error
		sem   = make(chan struct{}, max(*parallel, 1))
	)
	for i, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			row, err := c.validateOne(d, u.Username)
			mu.Lock()
			defer mu.Unlock()
			rows[i] = row
			if err != nil && fatal == nil {
				fatal = err
			}
			if progress {
				done++
				cliout.Progress(c.stderr, done, len(users))
			}
		}()
	}
	wg.Wait()
	if progress {
		fmt.Fprintln(c.stderr)
	}
	if fatal != nil {
		// The runtime cannot make connections at all: one clear message
		// instead of a table of identical failures.
		return fatal
	}
	failed, err := cliout.Validate(c.stdout, rows, *asJSON)
	if err != nil {
		return err
	}
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

// validateOne gets one user's token; the error it returns is one that ends
// the whole command (no socket extensions), not the user's failure.
func (c *cmd) validateOne(d *driver, user string) (cliout.Row, error) {
	tok, err := d.token(c.ctx, user)
	if err != nil {
		var ee *engine.Error
		if !errors.As(err, &ee) {
			return cliout.Row{User: user, Error: err.Error()}, err
		}
		// As the native command: its error text without "user U: ".
		text := strings.TrimPrefix("cctoken: "+errorText(err), "cctoken: user "+user+": ")
		return cliout.Row{User: user, Error: text, Code: ee.Code}, nil
	}
	return cliout.Row{User: user, OK: true, TokenType: tok.TokenType, ExpiresAt: time.UnixMilli(tok.ExpiresAt), Scopes: tok.Scopes}, nil
}
