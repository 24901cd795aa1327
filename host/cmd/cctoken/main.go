// Command cctoken gets OAuth 2.0 client-credentials tokens for the service
// accounts of a preset file, checks presets, and makes authenticated calls.
//
//	cctoken lint FILE [--user U]
//	cctoken token FILE [--user U] [--json]
//	cctoken convert FILE [--user U]
//	cctoken validate FILE [--json]
//	cctoken request FILE --user U [-X METHOD] [-H 'Name: value']... [-d DATA] URL
//	cctoken explore [FILE] [--addr 127.0.0.1:PORT] [--allow-origin ORIGIN]...
//	cctoken keep FILE [--store URL] [--watch] [--metrics ADDR]
//	cctoken proxy FILE --routes ROUTES.json [--listen ADDR] [--metrics ADDR] [--store URL] [--watch]
//	cctoken version
//
// token, validate, request and keep take --store URL (or $CCTOKEN_STORE) to
// share tokens with other instances through Redis; $CCTOKEN_STORE_SECRET
// mixes a deployment secret into the store's names and seals.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/internal/cliout"
)

// usage lists the shared commands (internal/cliout, the same in the WASI
// command) and this command's own.
var usage = cliout.Usage("cctoken: OAuth 2.0 client-credentials tokens from a preset file\n", append(cliout.Shared[:len(cliout.Shared):len(cliout.Shared)],
	cliout.Line{Synopsis: "cctoken convert FILE [--user U]", Summary: "print a Keboola generic-extractor configuration as a preset"},
	cliout.Line{Synopsis: "cctoken request FILE --user U [-X METHOD] [-H 'Name: value']... [-d DATA] URL", Summary: "make a request as U; print status and body"},
	cliout.Line{Synopsis: "cctoken explore [FILE] [--addr 127.0.0.1:PORT] [--allow-origin ORIGIN]...", Summary: "serve the API explorer page on 127.0.0.1, with a relay\nfor token endpoints and allowed APIs without CORS"},
	cliout.Line{Synopsis: "cctoken keep FILE [--store URL] [--watch] [--every 1s] [--metrics ADDR]", Summary: "keep every user's token fresh until interrupted; with\n--watch, reload the file when it changes; --metrics ADDR\nserves Prometheus metrics, /healthz and /readyz"},
	cliout.Line{Synopsis: "cctoken proxy FILE --routes ROUTES.json [--listen 127.0.0.1:8080 | --listen unix:/path]\n              [--metrics ADDR] [--store URL] [--watch] [--access-log]", Summary: "sign and forward requests by a route table (docs/proxy.md)"},
), cliout.FileNotes+`token, validate, request and keep take --store redis://HOST:PORT/DB to share
tokens with other instances (one token request per token lifetime for all);
without --store they use $CCTOKEN_STORE, which keeps a password out of ps.
$CCTOKEN_STORE_SECRET (16 bytes or more, the same for every instance) mixes
a deployment secret into the store's names and seals.
`)

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
		"version":  env.version,
		// --version as well, since people type it.
		"--version": env.version,
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

	// clientOptions are added to client()'s options (the metrics observer).
	clientOptions []host.Option

	storeURL     string // --store
	storeTimeout time.Duration
	closeStore   func()
}

// release closes a client and the store it uses.
func (e *cliEnv) release(c *host.Client) {
	c.Close()
	if e.closeStore != nil {
		e.closeStore()
	}
}

func (e *cliEnv) readFile(name string) ([]byte, error) { return e.shared().ReadFile(name) }

// client loads the preset in file for request and keep (and the demo); a
// preset that does not load is reported issue by issue, exit 1.
func (e *cliEnv) client(file string) (*host.Client, error) {
	text, err := e.readFile(file)
	if err != nil {
		return nil, err
	}
	c, err := e.newClient(text)
	var he *host.Error
	if errors.As(err, &he) && he.Code == host.CodeInvalidPreset {
		printIssues(e.stderr, file, he.Issues)
		return nil, exitError(1)
	}
	return c, err
}

// newClient loads a preset with the flags given (--user, --store, -v).
func (e *cliEnv) newClient(text []byte) (*host.Client, error) {
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
		if errors.As(err, &he) && he.Field == "store.secret" {
			return nil, usageError("cctoken: " + storeSecretEnv + ": " + he.Message)
		}
		return nil, err
	}
	return c, nil
}

func printIssues(w io.Writer, file string, issues []host.Issue) {
	cliout.Issues(w, file, issuesOf(issues))
}

func issuesOf(issues []host.Issue) []cliout.Issue {
	out := make([]cliout.Issue, len(issues))
	for i, is := range issues {
		out[i] = cliout.Issue{Field: is.Field, Line: is.Line, Column: is.Column, Message: is.Message}
	}
	return out
}
