// Command cctoken gets OAuth 2.0 client-credentials tokens for the service
// accounts of a preset file, checks presets, and makes authenticated calls.
//
//	cctoken lint FILE [--user U]
//	cctoken token FILE [--user U] [--json]
//	cctoken convert FILE [--user U]
//	cctoken validate FILE [--json]
//	cctoken request FILE --user U [-X METHOD] [-H 'Name: value']... [-d DATA] URL
//	cctoken demo
//	cctoken explore [FILE] [--addr 127.0.0.1:PORT] [--allow-origin ORIGIN]...
//	cctoken keep FILE [--store URL] [--watch] [--metrics ADDR]
//	cctoken proxy FILE --routes ROUTES.json [--listen ADDR] [--metrics ADDR] [--store URL] [--watch]
//
// token, validate, request and keep take --store URL to share tokens with
// other instances through Redis.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/internal/cliout"
)

const usage = `cctoken: OAuth 2.0 client-credentials tokens from a preset file

usage:
  cctoken lint FILE [--user U]           report every problem in a preset (exit 1 if any)
  cctoken token FILE [--user U] [--json] print a token (the only user's, or U's)
  cctoken convert FILE [--user U]        print a Keboola generic-extractor configuration as a preset
  cctoken validate FILE [--json]         get a token for every user and print a table
  cctoken request FILE --user U [-X METHOD] [-H 'Name: value']... [-d DATA] URL
                                         make a request as U; print status and body
  cctoken demo                           run a local authorization server and API, and use them
  cctoken explore [FILE] [--addr 127.0.0.1:PORT] [--allow-origin ORIGIN]...
                                         serve the API explorer page on 127.0.0.1, with a relay
                                         for token endpoints and allowed APIs without CORS
  cctoken keep FILE [--store URL] [--watch] [--every 1s]
                                         keep every user's token fresh until interrupted; with
                                         --watch, reload the file when it changes; --metrics ADDR
                                         serves Prometheus metrics, /healthz and /readyz
  cctoken proxy FILE --routes ROUTES.json [--listen 127.0.0.1:8080 | --listen unix:/path]
                [--metrics ADDR] [--store URL] [--watch] [--access-log]
                                         sign and forward requests by a route table (docs/proxy.md)

FILE may be - for standard input. Secrets can stay out of the file:
client_secret: ${env:NAME} reads the environment variable NAME.
FILE may also be a Keboola generic-extractor configuration with a
client-credentials login; --user U names its one user (default keboola).
token, validate, request and keep take --store redis://HOST:PORT/DB to share
tokens with other instances (one token request per token lifetime for all).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command, with its streams passed in so tests can drive it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &cliEnv{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	return cliout.Run(args, usage, stdout, stderr, cliout.Commands{
		"lint":     env.lint,
		"token":    env.token,
		"convert":  env.convert,
		"validate": env.validate,
		"request":  env.request,
		"demo":     env.demo,
		"explore":  env.explore,
		"keep":     env.keep,
		"proxy":    env.proxyCmd,
	}, nil)
}

type (
	exitError  = cliout.ExitError
	usageError = cliout.UsageError
)

var parse = cliout.ParseFlags

type cliEnv struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	verbose        bool
	username       string // names the user of an imported document (--user)
	// kept is a client that commands share instead of making their own,
	// so that the demo shows the cache at work across commands.
	kept *host.Client

	// clientOptions are added to client()'s options (the metrics observer).
	clientOptions []host.Option

	storeURL     string // --store
	storeTimeout time.Duration
	closeStore   func()
}

// release closes a client unless it is the shared one.
func (e *cliEnv) release(c *host.Client) {
	if c != e.kept {
		c.Close()
		if e.closeStore != nil {
			e.closeStore()
		}
	}
}

func (e *cliEnv) readFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cctoken: cannot read the preset: %w", err)
	}
	return b, nil
}

func (e *cliEnv) client(file string) (*host.Client, error) {
	if e.kept != nil {
		return e.kept, nil
	}
	text, err := e.readFile(file)
	if err != nil {
		return nil, err
	}
	opts := []host.Option{host.WithUsername(e.username)}
	storeOpts, closeStore, err := e.storeOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, storeOpts...)
	opts = append(opts, e.clientOptions...)
	e.closeStore = closeStore
	if e.verbose {
		opts = append(opts, host.WithLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c, err := host.New(e.ctx, text, opts...)
	if err != nil {
		closeStore()
		e.closeStore = nil
		var he *host.Error
		if errors.As(err, &he) && he.Code == "invalid_preset" {
			printIssues(e.stderr, file, he.Issues)
			return nil, exitError(1)
		}
		return nil, err
	}
	return c, nil
}

func printIssues(w io.Writer, file string, issues []host.Issue) {
	out := make([]cliout.Issue, len(issues))
	for i, is := range issues {
		out[i] = cliout.Issue{Field: is.Field, Line: is.Line, Column: is.Column, Message: is.Message}
	}
	cliout.Issues(w, file, out)
}

func (e *cliEnv) lint(args []string) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	user := fs.String("user", "", "the username of an imported document's user")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken lint FILE [--user U]")
	}
	text, err := e.readFile(pos[0])
	if err != nil {
		return err
	}
	issues, err := host.Lint(e.ctx, text, host.WithUsername(*user))
	if err != nil {
		return err
	}
	if len(issues) > 0 {
		printIssues(e.stdout, pos[0], issues)
		return exitError(1)
	}
	cliout.LintOK(e.stdout, pos[0])
	return nil
}
