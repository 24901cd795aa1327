package cliout

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// The command table: lint, token and validate are defined here once, with
// their flags, usage lines, output and exit statuses. A host (the native
// command with package host, the WASI command with the engine in its own
// module) gives only the transport: how a document is linted, how a preset
// is loaded, how a token is fetched, and the flags that set that up.

// Host is the transport of the shared commands.
type Host interface {
	// Lint checks a document (${env:NAME} references taken as set): its
	// issues, and hints (a recognised provider's rules it breaks), which
	// are not problems.
	Lint(ctx context.Context, text []byte, username string) (issues, hints []Issue, err error)
	// Open loads a preset for token and validate; username names the user
	// of an imported document, verbose asks for token requests logged on
	// stderr. A document that does not load is a *Failure with Issues.
	Open(ctx context.Context, text []byte, username string, verbose bool) (Session, error)
	// TransportFlags adds the host's own flags of token and validate,
	// those that set up how tokens are fetched (--store, --ca-file).
	TransportFlags(fs *flag.FlagSet)
}

// ReadHinter is a Host that explains why a preset file could not be read
// (the WASI command: the directory is not preopened).
type ReadHinter interface {
	ReadHint(err error) string
}

// Session is a loaded preset.
type Session interface {
	Users() []string
	// Token gets user's token. A *Failure is the user's failure (validate
	// shows it in the user's row); any other error ends the command (the
	// runtime cannot make connections at all, the command was stopped).
	Token(ctx context.Context, user string) (Token, error)
	Close()
}

// Failure is an error of the module, as the commands report it.
type Failure struct {
	Code    string
	User    string
	Message string
	Issues  []Issue // invalid_preset
}

// Error is the message after "user U: " when it is about one user.
func (f *Failure) Error() string {
	if f.User != "" {
		return "user " + f.User + ": " + f.Message
	}
	return f.Message
}

// codeInvalidPreset is the module's code for a document that does not load.
const codeInvalidPreset = "invalid_preset"

// Line is one command in a usage text.
type Line struct {
	Synopsis string // "cctoken lint FILE [--user U]"
	Summary  string // what it does; lines after the first are indented under it
}

// Shared is the usage lines of the shared commands, in the order they are
// listed.
var Shared = []Line{
	{"cctoken lint FILE [--user U]", "report every problem in a preset (exit 1 if any)"},
	{"cctoken token FILE [--user U] [--json]", "print a token (the only user's, or U's)"},
	{"cctoken validate FILE [--json]", "get a token for every user and print a table"},
	{"cctoken version", "print cctoken's version (also --version)"},
}

// FileNotes is what every usage text says about FILE.
const FileNotes = `FILE may be - for standard input. Secrets can stay out of the file:
client_secret: ${env:NAME} reads the environment variable NAME.
FILE may also be a Keboola generic-extractor configuration with a
client-credentials login; --user U names its one user (default keboola).
`

// Usage assembles a usage text: the header, "usage:", the lines, then the
// notes.
func Usage(header string, lines []Line, notes string) string {
	const col = 41 // where summaries start
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\nusage:\n")
	for _, l := range lines {
		syn := "  " + l.Synopsis
		summary := strings.Split(l.Summary, "\n")
		if len(syn) < col {
			b.WriteString(syn + strings.Repeat(" ", col-len(syn)) + summary[0] + "\n")
		} else {
			b.WriteString(syn + "\n" + strings.Repeat(" ", col) + summary[0] + "\n")
		}
		for _, s := range summary[1:] {
			b.WriteString(strings.Repeat(" ", col) + s + "\n")
		}
	}
	if notes != "" {
		b.WriteString("\n" + notes)
	}
	return b.String()
}

// Env runs the shared commands on a host.
type Env struct {
	Ctx            context.Context
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Host           Host
}

// Commands is the shared commands, for Run; a host adds its own.
func (e *Env) Commands() Commands {
	version := func(args []string) error { return Version(e.Stdout, args) }
	// --version as well, since people type it.
	return Commands{"lint": e.Lint, "token": e.Token, "validate": e.Validate, "version": version, "--version": version}
}

// ReadFile reads a preset file, or standard input for "-".
func (e *Env) ReadFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.Stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		hint := ""
		if h, ok := e.Host.(ReadHinter); ok {
			hint = h.ReadHint(err)
		}
		return nil, fmt.Errorf("cctoken: cannot read the preset: %w%s", err, hint)
	}
	return b, nil
}

// Lint is `cctoken lint FILE [--user U]`: hints, then the issues on stdout
// and exit 1, or "FILE: ok".
func (e *Env) Lint(args []string) error {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	user := fs.String("user", "", "the username of an imported document's user")
	pos, err := ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("usage: " + Shared[0].Synopsis)
	}
	text, err := e.ReadFile(pos[0])
	if err != nil {
		return err
	}
	issues, hints, err := e.Host.Lint(e.Ctx, text, *user)
	if err != nil {
		return err
	}
	Hints(e.Stdout, pos[0], hints)
	if len(issues) > 0 {
		Issues(e.Stdout, pos[0], issues)
		return ExitError(1)
	}
	LintOK(e.Stdout, pos[0])
	return nil
}

// open reads and loads a preset; one that does not load is reported issue
// by issue on stderr, exit 1.
func (e *Env) open(file, username string, verbose bool) (Session, error) {
	text, err := e.ReadFile(file)
	if err != nil {
		return nil, err
	}
	s, err := e.Host.Open(e.Ctx, text, username, verbose)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) && f.Code == codeInvalidPreset {
			Issues(e.Stderr, file, f.Issues)
			return nil, ExitError(1)
		}
		return nil, err
	}
	return s, nil
}

// Token is `cctoken token FILE [--user U] [--json]`: the bare token (or a
// JSON object) on stdout.
func (e *Env) Token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("user", "", "the username to get a token for")
	asJSON := fs.Bool("json", false, "print a JSON object instead of the bare token")
	verbose := fs.Bool("v", false, "log token requests to stderr")
	e.Host.TransportFlags(fs)
	pos, err := ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("usage: " + Shared[1].Synopsis)
	}
	s, err := e.open(pos[0], *user, *verbose) // --user also names an imported document's user
	if err != nil {
		return err
	}
	defer s.Close()
	u := *user
	if u == "" {
		users := s.Users()
		if len(users) != 1 {
			return UsageError(fmt.Sprintf("cctoken token: the preset has %d users; pick one with --user (%s)", len(users), UserList(users)))
		}
		u = users[0]
	}
	tok, err := s.Token(e.Ctx, u)
	if err != nil {
		return err
	}
	tok.User = u
	return TokenOut(e.Stdout, tok, *asJSON)
}

// Validate is `cctoken validate FILE [--json]`: a token for every user, a
// table (or JSON) on stdout, exit 1 when any failed.
func (e *Env) Validate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	parallel := fs.Int("parallel", 8, "how many users to authenticate at once")
	verbose := fs.Bool("v", false, "log token requests to stderr")
	e.Host.TransportFlags(fs)
	pos, err := ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return UsageError("usage: " + Shared[2].Synopsis)
	}
	s, err := e.open(pos[0], "", *verbose)
	if err != nil {
		return err
	}
	defer s.Close()
	users := s.Users()
	rows := make([]Row, len(users))
	progress := ShowProgress(len(users))
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
			row, err := e.validateOne(s, u)
			mu.Lock()
			defer mu.Unlock()
			rows[i] = row
			if err != nil && fatal == nil {
				fatal = err
			}
			if progress {
				done++
				Progress(e.Stderr, done, len(users))
			}
		}()
	}
	wg.Wait()
	if progress {
		fmt.Fprintln(e.Stderr)
	}
	if fatal != nil {
		// One clear message (no sockets, stopped) instead of a table of
		// identical failures.
		return fatal
	}
	failed, err := Validate(e.Stdout, rows, *asJSON)
	if err != nil {
		return err
	}
	if failed > 0 {
		return ExitError(1)
	}
	return nil
}

// validateOne gets one user's token; the error it returns is one that ends
// the whole command, not the user's failure.
func (e *Env) validateOne(s Session, user string) (Row, error) {
	tok, err := s.Token(e.Ctx, user)
	if err != nil {
		var f *Failure
		if !errors.As(err, &f) {
			return Row{User: user, Error: err.Error()}, err
		}
		// The message without "user U: ", as the row names the user.
		text := strings.TrimPrefix("cctoken: "+f.Error(), "cctoken: user "+user+": ")
		return Row{User: user, Error: text, Code: f.Code}, nil
	}
	return Row{User: user, OK: true, TokenType: tok.TokenType, ExpiresAt: tok.Expiry, Scopes: tok.Scopes}, nil
}
