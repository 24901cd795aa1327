// Package cliout writes what the cctoken commands print for lint, token and
// validate. Both the native command (host/cmd/cctoken) and the standalone
// WASI command (wasm/command) use it, so their outputs cannot drift apart.
// It uses the standard library only: it pulls neither wazero into the wasm
// nor the module's packages into the host.
package cliout

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Issue is one problem in a preset document, as lint reports it.
type Issue struct {
	Field   string
	Line    int
	Column  int
	Message string
}

// Issues writes one line per issue, "FILE:LINE:COL: FIELD: MESSAGE", and a
// count.
func Issues(w io.Writer, file string, issues []Issue) {
	for _, is := range issues {
		issueLine(w, file, "", is)
	}
	noun := "problems"
	if len(issues) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(w, "%d %s in %s\n", len(issues), noun, file)
}

// Hints writes one line per hint, "FILE:LINE:COL: FIELD: hint: MESSAGE":
// not problems (they change no exit code), but a provider's known rules the
// document breaks.
func Hints(w io.Writer, file string, hints []Issue) {
	for _, is := range hints {
		issueLine(w, file, "hint: ", is)
	}
}

func issueLine(w io.Writer, file, kind string, is Issue) {
	loc := file
	if is.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", file, is.Line, is.Column)
	}
	if is.Field != "" {
		fmt.Fprintf(w, "%s: %s: %s%s\n", loc, is.Field, kind, is.Message)
	} else {
		fmt.Fprintf(w, "%s: %s%s\n", loc, kind, is.Message)
	}
}

// LintOK is what lint prints for a clean document.
func LintOK(w io.Writer, file string) { fmt.Fprintf(w, "%s: ok\n", file) }

// Token is what `token` prints about a token.
type Token struct {
	User         string
	AccessToken  string
	TokenType    string
	Expiry       time.Time
	ExpirySource string
	Scopes       []string
}

// TokenOut prints the bare token, or with asJSON an object describing it.
func TokenOut(w io.Writer, t Token, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintln(w, t.AccessToken)
		return err
	}
	return JSON(w, map[string]any{
		"user": t.User, "access_token": t.AccessToken, "token_type": t.TokenType,
		"expires_at": t.Expiry.UTC().Format(time.RFC3339), "expires_in": int(time.Until(t.Expiry).Seconds()),
		"expiry_source": t.ExpirySource, "scopes": t.Scopes,
	})
}

// Row is one user's outcome in `validate`.
type Row struct {
	User      string    `json:"user"`
	OK        bool      `json:"ok"`
	TokenType string    `json:"token_type,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Scopes    []string  `json:"scopes,omitempty"`
	Error     string    `json:"error,omitempty"`
	Code      string    `json:"code,omitempty"`
}

// Validate prints the rows as a table (or JSON) with a summary and returns
// how many failed.
func Validate(w io.Writer, rows []Row, asJSON bool) (failed int, err error) {
	for _, r := range rows {
		if !r.OK {
			failed++
		}
	}
	if asJSON {
		return failed, JSON(w, map[string]any{"users": rows, "ok": len(rows) - failed, "failed": failed})
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
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
	if err := tw.Flush(); err != nil {
		return failed, err
	}
	_, err = fmt.Fprintf(w, "%d of %d users authenticated\n", len(rows)-failed, len(rows))
	return failed, err
}

// Progress reports validate's progress on stderr when there are many users.
func Progress(w io.Writer, done, total int) { fmt.Fprintf(w, "\rvalidated %d/%d users", done, total) }

// ShowProgress says whether validate reports progress for total users.
func ShowProgress(total int) bool { return total > 20 }

// UserList names up to eight users for an error message.
func UserList(names []string) string {
	if len(names) > 8 {
		names = append(names[:8:8], "…")
	}
	return strings.Join(names, ", ")
}

// JSON writes v indented, as every --json output is.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
