package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/cctoken/cctoken/internal/wasitest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestWASI runs the token-only scenarios on the WASI command (wasm/command
// under wasirun, as tests/wasi does). The command makes one token request
// per user and process and keeps nothing between runs, so a scenario it
// can run has exactly one token step; every other scenario must say in its
// data why the command cannot run it (not_applicable.wasi), or this test
// fails it.
//
// wasirun compiles the command anew for every process (seconds on a busy
// machine), so all of them run in one process: `validate FILE --json` over
// one preset document holding every scenario's preset, its user renamed to
// the scenario's name. validate's JSON names each user's outcome, token
// type and error code; the access token and its expiry source are not in
// it, so those expectations are reported as not observable on wasi.
func TestWASI(t *testing.T) {
	wasm, wasirun := wasiTools(t)
	runBatch(t, "wasi", func(t *testing.T, all []*Scenario) map[string][]Outcome {
		var presets []map[string]any
		for _, s := range all {
			if len(s.Steps) != 1 || s.Steps[0].Do != "token" {
				t.Fatalf("%s has steps the WASI command cannot run (it makes one token request per process); say why in not_applicable.wasi", s.Name)
			}
			var p map[string]any
			if err := json.Unmarshal(s.Preset, &p); err != nil {
				t.Fatalf("%s: the preset is not a JSON object: %v", s.Name, err)
			}
			users, _ := p["users"].([]any)
			var kept []any
			for _, u := range users {
				if m, ok := u.(map[string]any); ok && m["username"] == s.User {
					m["username"] = s.Name
					kept = append(kept, m)
				}
			}
			p["users"] = kept
			presets = append(presets, p)
		}
		doc, err := json.Marshal(map[string]any{"preset": presets})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "preset.json")
		if err := os.WriteFile(file, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, wasirun, "--dir", dir, wasm, "--", "validate", file, "--json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("wasirun: %v", err)
			}
		}
		var v struct {
			Users []struct {
				User      string `json:"user"`
				OK        bool   `json:"ok"`
				TokenType string `json:"token_type"`
				Code      string `json:"code"`
				Error     string `json:"error"`
			} `json:"users"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
			t.Fatalf("validate --json printed %q (stderr %q): %v", stdout.String(), stderr.String(), err)
		}
		out := map[string][]Outcome{}
		for _, u := range v.Users {
			o := Outcome{Error: u.Code, Message: u.Error}
			if u.OK {
				o = Outcome{TokenType: u.TokenType, Unobservable: []string{"access_token", "expiry_source"}}
			}
			out[u.User] = []Outcome{o}
		}
		return out
	}, true)
}

// wasiTools builds the command as build.sh does and wasirun at the pinned
// version (package wasitest, shared with tests/wasi).
func wasiTools(t *testing.T) (wasm, wasirun string) {
	wasm, err := wasitest.Command()
	if err == nil {
		wasirun, err = wasitest.Wasirun()
	}
	if err != nil {
		t.Fatal(err)
	}
	return wasm, wasirun
}
