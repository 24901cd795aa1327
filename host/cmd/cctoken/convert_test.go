package main

import (
	"strconv"
	"strings"
	"testing"
)

// keboola is alice's credentials as a Keboola generic-extractor
// configuration (the Basic Auth variant of Keboola's template).
func (s *authServer) keboola() string {
	return `{"parameters": {
  "api": {
    "baseUrl": "` + s.URL + `/",
    "authentication": {
      "type": "login",
      "format": "json",
      "loginRequest": {
        "endpoint": "token",
        "method": "FORM",
        "headers": {
          "Accept": "application/json",
          "Authorization": {"function": "concat", "args": ["Basic ", {"function": "base64_encode", "args": [
            {"function": "concat", "args": [{"attr": "__CLIENT_ID"}, ":", {"attr": "#__CLIENT_SECRET"}]}]}]}
        },
        "params": {"grant_type": "client_credentials", "scope": "read"}
      },
      "apiRequest": {"headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}}
    }
  },
  "config": {"__CLIENT_ID": "alice-id", "#__CLIENT_SECRET": ` + strconv.Quote(aliceSecret) + `}
}}`
}

func TestKeboolaConfiguration(t *testing.T) {
	srv := newAuthServer(t)
	api := newAPI(t)
	file := writeFile(t, "keboola.json", srv.keboola())

	t.Run("lint", func(t *testing.T) {
		if r := cctoken(t, "", "lint", file, "--user", "alice"); r.code != 0 || r.stdout != file+": ok\n" {
			t.Errorf("lint = %+v", r)
		}
	})
	t.Run("token names and selects the user", func(t *testing.T) {
		r := cctoken(t, "", "token", file, "--user", "alice")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "TOKEN-CANARY-") {
			t.Errorf("token = %+v", r)
		}
	})
	t.Run("token without --user", func(t *testing.T) {
		r := cctoken(t, "", "token", "--json", file)
		if r.code != 0 || !strings.Contains(r.stdout, `"user": "keboola"`) {
			t.Errorf("token = %+v", r)
		}
	})
	t.Run("request", func(t *testing.T) {
		r := cctoken(t, "", "request", file, "--user", "svc", api.URL+"/things")
		if r.code != 0 || !strings.Contains(r.stdout, "hello GET /things") {
			t.Errorf("request = %+v", r)
		}
	})
	t.Run("encrypted secret", func(t *testing.T) {
		text := strings.Replace(srv.keboola(), strconv.Quote(aliceSecret), `"KBC::ProjectSecure::eJwLz8"`, 1)
		bad := writeFile(t, "bad.json", text)
		before := text[:strings.Index(text, `"KBC::`)]
		at := bad + ":" + strconv.Itoa(strings.Count(before, "\n")+1) + ":" + strconv.Itoa(len(before)-strings.LastIndex(before, "\n")) + ": "
		for _, cmd := range []string{"lint", "token", "convert"} {
			r := cctoken(t, "", cmd, bad)
			out := r.stdout + r.stderr
			if r.code != 1 || !strings.Contains(out, at) || !strings.Contains(out, "parameters.config.#__CLIENT_SECRET: this value is still encrypted by Keboola") ||
				strings.Contains(out, "eJwL") {
				t.Errorf("%s = %+v", cmd, r)
			}
		}
	})
}

// TestConvert prints the configuration as a preset, then uses that preset
// with the variable it names set.
func TestConvert(t *testing.T) {
	srv := newAuthServer(t)
	file := writeFile(t, "keboola.json", srv.keboola())
	r := cctoken(t, "", "convert", file, "--user", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "client_secret: ${env:CCTOKEN_ALICE_CLIENT_SECRET}\n") ||
		!strings.Contains(r.stdout, "username: alice\n") || !strings.Contains(r.stdout, "url: "+srv.URL+"/token\n") {
		t.Fatalf("convert = %+v", r)
	}
	if r.stderr != "cctoken convert: set CCTOKEN_ALICE_CLIENT_SECRET before using this preset (the comments at its top say which configuration values they hold)\n" {
		t.Errorf("stderr = %q", r.stderr)
	}
	// Reading the configuration from standard input gives the same.
	if in := cctoken(t, srv.keboola(), "convert", "-", "--user", "alice"); in.stdout != r.stdout {
		t.Errorf("from stdin:\n%s", in.stdout)
	}
	converted := writeFile(t, "converted.yaml", r.stdout)
	if r := cctoken(t, "", "lint", converted); r.code != 0 {
		t.Errorf("lint of the converted preset = %+v", r)
	}
	t.Setenv("CCTOKEN_ALICE_CLIENT_SECRET", aliceSecret)
	if r := cctoken(t, "", "token", converted); r.code != 0 || !strings.HasPrefix(r.stdout, "TOKEN-CANARY-") {
		t.Errorf("token with the converted preset = %+v", r)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"a preset", []string{"convert", writeFile(t, "p.yaml", srv.preset())}, 1, "already a cctoken preset"},
		{"no file", []string{"convert"}, 2, "usage: cctoken convert FILE [--user U]"},
		{"two files", []string{"convert", file, file}, 2, "usage: cctoken convert FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cctoken(t, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.says) || r.stdout != "" {
				t.Errorf("%v = %+v", tt.args, r)
			}
		})
	}
}
