//go:build wasip1

// Command command is cctoken as a standalone WASI command: built with
// GOOS=wasip1 into build/cctoken-wasi.wasm, it offers the native CLI's lint,
// token and validate, defined once in internal/cliout (flags, usage, output,
// exit statuses), and gives them their transport: it performs the token
// requests itself through the WasmEdge socket extensions
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
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cctoken/cctoken/internal/cliout"
	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// usage is the shared commands' (internal/cliout, the same as the native
// command's) and what is particular to this one.
var usage = cliout.Usage("cctoken: OAuth 2.0 client-credentials tokens from a preset file\n(the standalone WASI command; run it under WasmEdge or wasirun)\n",
	cliout.Shared, `token and validate also take --ca-file FILE: trust the CA certificates in
this PEM file as well as the embedded roots (default: $CCTOKEN_CA_FILE).
FILE and the CA file must be inside a directory the runtime preopens by
its absolute path (wasirun --dir "$PWD", wasmedge --dir "$PWD:$PWD"; Go
does not resolve paths against a preopen named "."); host names need /etc
preopened or a DNS server (wasirun --dns-server). Environment variables
come from the runtime (wasirun --env NAME=VALUE).
`+cliout.FileNotes)

// requestTimeout bounds one token request, as the native command's default.
const requestTimeout = 30 * time.Second

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &cliout.Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr, Host: &wasiHost{stderr: stderr}}
	return cliout.Run(args, usage, stdout, stderr, env.Commands(), nil)
}

// wasiHost is the shared commands' transport here: the engine in this
// module, driven by driver.go, and net/http over the socket extensions.
type wasiHost struct {
	stderr io.Writer
	caFile string // --ca-file
}

func (h *wasiHost) TransportFlags(fs *flag.FlagSet) {
	fs.StringVar(&h.caFile, "ca-file", os.Getenv("CCTOKEN_CA_FILE"), "a PEM file of CA certificates to trust as well")
}

func (h *wasiHost) ReadHint(err error) string { return preopenHint(err) }

func (h *wasiHost) Lint(_ context.Context, text []byte, username string) (issues, hints []cliout.Issue, err error) {
	res := engine.New(nil).Lint(text, preset.WithUsername(username)).Result.(engine.LintResult)
	return issuesOf(res.Issues), issuesOf(res.Hints), nil
}

func (h *wasiHost) Open(ctx context.Context, text []byte, username string, verbose bool) (cliout.Session, error) {
	log := slog.New(slog.DiscardHandler)
	if verbose {
		log = slog.New(slog.NewTextHandler(h.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d, err := newDriver(h.caFile, log)
	if err != nil {
		return nil, err
	}
	res, err := d.run(ctx, func(e *engine.Engine) engine.Step { return e.Load(text, preset.WithUsername(username)) })
	if err != nil {
		return nil, reported(err)
	}
	d.users = names(res.(engine.UsersResult).Users)
	return d, nil
}

// reported turns the engine's error into the shared commands' Failure;
// other errors (no sockets) pass unchanged.
func reported(err error) error {
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return err
	}
	return &cliout.Failure{Code: ee.Code, User: ee.User, Message: ee.Message, Issues: issuesOf(ee.Issues)}
}

func issuesOf(errs preset.Errors) []cliout.Issue {
	out := make([]cliout.Issue, len(errs))
	for i, is := range errs {
		out[i] = cliout.Issue{Field: is.Field, Line: is.Line, Column: is.Column, Message: is.Message}
	}
	return out
}

func names(users []engine.UserInfo) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Username
	}
	return out
}
