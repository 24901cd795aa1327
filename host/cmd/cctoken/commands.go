package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/internal/cliout"
)

func (e *cliEnv) token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("user", "", "the username to get a token for")
	asJSON := fs.Bool("json", false, "print a JSON object instead of the bare token")
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	e.storeFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken token FILE [--user U] [--json]")
	}
	e.username = *user // also names the user of an imported document
	c, err := e.client(pos[0])
	if err != nil {
		return err
	}
	defer e.release(c)
	u := *user
	if u == "" {
		users := c.Users()
		if len(users) != 1 {
			return usageError("cctoken token: the preset has " + fmt.Sprint(len(users)) + " users; pick one with --user (" + userList(users) + ")")
		}
		u = users[0].Username
	}
	tok, err := c.Token(e.ctx, u)
	if err != nil {
		return err
	}
	return cliout.TokenOut(e.stdout, cliout.Token{
		User: u, AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry,
		ExpirySource: tok.ExpirySource, Scopes: tok.Scopes,
	}, *asJSON)
}

func userList(users []host.User) string {
	names := make([]string, 0, len(users))
	for _, u := range users {
		names = append(names, u.Username)
	}
	return cliout.UserList(names)
}

// outcome is one row of `cctoken validate`. The formats of lint, token and
// validate live in internal/cliout, shared with the WASI command.
type outcome = cliout.Row

func (e *cliEnv) validate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	parallel := fs.Int("parallel", 8, "how many users to authenticate at once")
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	e.storeFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken validate FILE [--json]")
	}
	c, err := e.client(pos[0])
	if err != nil {
		return err
	}
	defer e.release(c)
	users := c.Users()
	rows := make([]outcome, len(users))
	progress := cliout.ShowProgress(len(users))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		sem  = make(chan struct{}, max(*parallel, 1))
	)
	for i, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rows[i] = validateOne(e, c, u.Username)
			if progress {
				mu.Lock()
				done++
				cliout.Progress(e.stderr, done, len(users))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if progress {
		fmt.Fprintln(e.stderr)
	}
	failed, err := cliout.Validate(e.stdout, rows, *asJSON)
	if err != nil {
		return err
	}
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

func validateOne(e *cliEnv, c *host.Client, user string) outcome {
	tok, err := c.Token(e.ctx, user)
	if err != nil {
		o := outcome{User: user, Error: strings.TrimPrefix(err.Error(), "cctoken: user "+user+": ")}
		var he *host.Error
		if errors.As(err, &he) {
			o.Code = he.Code
		}
		return o
	}
	return outcome{User: user, OK: true, TokenType: tok.TokenType, ExpiresAt: tok.Expiry, Scopes: tok.Scopes}
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
	fmt.Fprintf(e.stdout, "%s %s (%s)\n", resp.Proto, resp.Status, time.Since(start).Round(time.Millisecond))
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
