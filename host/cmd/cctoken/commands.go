package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cctoken/cctoken/host"
)

func (e *cliEnv) token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	user := fs.String("user", "", "the username to get a token for")
	asJSON := fs.Bool("json", false, "print a JSON object instead of the bare token")
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: cctoken token FILE [--user U] [--json]"}
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
			return usageError{"cctoken token: the preset has " + fmt.Sprint(len(users)) + " users; pick one with --user (" + userList(users) + ")"}
		}
		u = users[0].Username
	}
	tok, err := c.Token(e.ctx, u)
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintln(e.stdout, tok.AccessToken)
		return nil
	}
	return writeJSON(e.stdout, map[string]any{
		"user": u, "access_token": tok.AccessToken, "token_type": tok.TokenType,
		"expires_at": tok.Expiry.UTC().Format(time.RFC3339), "expires_in": int(time.Until(tok.Expiry).Seconds()),
		"expiry_source": tok.ExpirySource, "scopes": tok.Scopes,
	})
}

func userList(users []host.User) string {
	names := make([]string, 0, len(users))
	for _, u := range users {
		names = append(names, u.Username)
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return strings.Join(names, ", ")
}

// outcome is one row of `cctoken validate`.
type outcome struct {
	User      string    `json:"user"`
	OK        bool      `json:"ok"`
	TokenType string    `json:"token_type,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Scopes    []string  `json:"scopes,omitempty"`
	Error     string    `json:"error,omitempty"`
	Code      string    `json:"code,omitempty"`
}

func (e *cliEnv) validate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	parallel := fs.Int("parallel", 8, "how many users to authenticate at once")
	fs.BoolVar(&e.verbose, "v", false, "log token requests to stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: cctoken validate FILE [--json]"}
	}
	c, err := e.client(pos[0])
	if err != nil {
		return err
	}
	defer e.release(c)
	users := c.Users()
	rows := make([]outcome, len(users))
	progress := len(users) > 20
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
				fmt.Fprintf(e.stderr, "\rvalidated %d/%d users", done, len(users))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if progress {
		fmt.Fprintln(e.stderr)
	}
	failed := 0
	for _, r := range rows {
		if !r.OK {
			failed++
		}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, map[string]any{"users": rows, "ok": len(rows) - failed, "failed": failed}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tOUTCOME\tTYPE\tEXPIRES\tSCOPES\tERROR")
		for _, r := range rows {
			state, expires := "ok", ""
			if !r.OK {
				state = "FAILED"
			} else {
				expires = "in " + time.Until(r.ExpiresAt).Round(time.Second).String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.User, state, r.TokenType, expires, strings.Join(r.Scopes, " "), r.Error)
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d of %d users authenticated\n", len(rows)-failed, len(rows))
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
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *user == "" {
		return usageError{"usage: cctoken request FILE --user U [-X METHOD] [-H 'Name: value']... [-d DATA] URL"}
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
		return usageError{"cctoken request: " + err.Error()}
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return usageError{"cctoken request: -H takes 'Name: value', got " + fmt.Sprintf("%q", name)}
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: c.Transport(*user, nil)}).Do(req)
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

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
