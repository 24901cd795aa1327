package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/cctoken/cctoken/internal/version"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"--version"}, 0, "cctoken " + version.Version + "\n", ""},
		{[]string{"version"}, 0, "cctoken " + version.Version + "\n", ""},
		{[]string{"version", "--json"}, 2, "", "usage: cctoken version\n"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := cctoken(t, "", tc.args...)
			if r.code != tc.code || r.stdout != tc.stdout || r.stderr != tc.stderr {
				t.Errorf("exit %d, want %d\nstdout: %q, want %q\nstderr: %q, want %q", r.code, tc.code, r.stdout, tc.stdout, r.stderr, tc.stderr)
			}
		})
	}
}

// TestNoDemoServer keeps the development authorization server of
// cctoken-demo (ory/fosite, with OpenTelemetry and gRPC behind it) out of
// the command people install.
func TestNoDemoServer(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/ory/") || strings.HasSuffix(pkg, "/host/internal/devserver") {
			t.Errorf("cctoken links %s, which only cctoken-demo needs", pkg)
		}
	}
}
