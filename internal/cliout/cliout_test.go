package cliout

import (
	"strings"
	"testing"
	"time"
)

func TestIssues(t *testing.T) {
	var b strings.Builder
	Issues(&b, "p.yaml", []Issue{
		{Field: "preset[0].url", Line: 3, Column: 8, Message: "bad url"},
		{Message: "not YAML"},
	})
	want := "p.yaml:3:8: preset[0].url: bad url\np.yaml: not YAML\n2 problems in p.yaml\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	Issues(&b, "-", []Issue{{Field: "preset", Message: "missing"}})
	if want := "-: preset: missing\n1 problem in -\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestValidate(t *testing.T) {
	var b strings.Builder
	rows := []Row{
		{User: "svc", OK: true, TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour + 500*time.Millisecond), Scopes: []string{"read", "write"}},
		{User: "other", Error: "invalid_client: nope", Code: "invalid_client"},
	}
	failed, err := Validate(&b, rows, false)
	if err != nil || failed != 1 {
		t.Fatalf("failed %d, err %v", failed, err)
	}
	want := "USER   OUTCOME  TYPE    EXPIRES    SCOPES      ERROR\n" +
		"svc    ok       Bearer  in 1h0m0s  read write  \n" +
		"other  FAILED                                  invalid_client: nope\n" +
		"1 of 2 users authenticated\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if _, err := Validate(&b, rows, true); err != nil || !strings.Contains(b.String(), `"failed": 1`) || !strings.Contains(b.String(), `"code": "invalid_client"`) {
		t.Errorf("JSON: %v\n%s", err, b.String())
	}
}

func TestUserList(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	if got := UserList(names); got != "a, b, c, d, e, f, g, h, …" {
		t.Errorf("got %q", got)
	}
	if names[8] != "i" {
		t.Error("UserList changed its argument")
	}
}
