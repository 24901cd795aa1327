package cliout

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeHost is a transport for the command table's tests: a preset is a
// list of usernames, one a line; "broken" does not load, user "wrong" is
// refused, user "nosock" cannot be reached at all.
type fakeHost struct {
	flagSeen *string
}

func (h *fakeHost) Lint(_ context.Context, text []byte, username string) (issues, hints []Issue, err error) {
	if strings.Contains(string(text), "bad") {
		return []Issue{{Field: "preset[0].url", Line: 2, Column: 3, Message: "bad url"}}, nil, nil
	}
	return nil, nil, nil
}

func (h *fakeHost) Open(_ context.Context, text []byte, username string, verbose bool) (Session, error) {
	if strings.Contains(string(text), "broken") {
		return nil, &Failure{Code: codeInvalidPreset, Message: "1 problem", Issues: []Issue{{Field: "preset", Message: "missing"}}}
	}
	return fakeSession(strings.Fields(string(text))), nil
}

func (h *fakeHost) TransportFlags(fs *flag.FlagSet) { h.flagSeen = fs.String("transport", "", "") }

type fakeSession []string

func (s fakeSession) Users() []string { return s }
func (s fakeSession) Close()          {}
func (s fakeSession) Token(_ context.Context, user string) (Token, error) {
	switch user {
	case "wrong":
		return Token{}, &Failure{Code: "invalid_client", User: user, Message: "refused"}
	case "nosock":
		return Token{}, errors.New("no sockets")
	}
	return Token{AccessToken: "tok-" + user, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour), ExpirySource: "expires_in"}, nil
}

func TestCommandTable(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one, two := file("one", "svc"), file("two", "svc wrong")
	bad, broken, nosock := file("bad", "bad"), file("broken", "broken"), file("nosock", "svc nosock")
	usage := Usage("test\n", Shared, FileNotes)
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string // substrings; "" for empty
	}{
		{"lint ok", []string{"lint", one}, 0, one + ": ok\n", ""},
		{"lint issues", []string{"lint", bad}, 1, bad + ":2:3: preset[0].url: bad url\n1 problem in " + bad, ""},
		{"lint no file", []string{"lint"}, 2, "", "usage: cctoken lint FILE [--user U]"},
		{"lint transport flag", []string{"lint", one, "--transport", "x"}, 2, "", "flag provided but not defined: -transport"},
		{"lint unreadable", []string{"lint", filepath.Join(dir, "none")}, 1, "", "cannot read the preset"},
		{"token", []string{"token", one}, 0, "tok-svc\n", ""},
		{"token --json", []string{"token", "--json", one}, 0, `"access_token": "tok-svc"`, ""},
		{"token transport flag", []string{"token", one, "--transport", "x"}, 0, "tok-svc", ""},
		{"token several users", []string{"token", two}, 2, "", "the preset has 2 users; pick one with --user (svc, wrong)"},
		{"token refused", []string{"token", two, "--user", "wrong"}, 1, "", "user wrong: refused"},
		{"token does not load", []string{"token", broken}, 1, "", broken + ": preset: missing"},
		{"validate", []string{"validate", two}, 1, "1 of 2 users authenticated", ""},
		{"validate --json", []string{"validate", two, "--json"}, 1, `"code": "invalid_client"`, ""},
		{"validate fatal", []string{"validate", nosock}, 1, "", "no sockets"},
		{"validate bad --parallel", []string{"validate", one, "--parallel", "x"}, 2, "", "invalid value"},
		{"help", []string{"token", "-h"}, 0, "usage:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			e := &Env{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Host: &fakeHost{}}
			code := Run(tc.args, usage, &out, &errOut, e.Commands(), nil)
			if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errOut.String())
			}
			if tc.stdout == "" && out.Len() > 0 {
				t.Errorf("stdout should be empty: %q", out.String())
			}
		})
	}
	if !strings.Contains(usage, "  cctoken token FILE [--user U] [--json] print a token") {
		t.Errorf("usage:\n%s", usage)
	}
}
