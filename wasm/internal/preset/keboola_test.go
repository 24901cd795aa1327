package preset

import (
	"reflect"
	"strings"
	"testing"
)

// kbBasic and kbPost are Keboola's two client-credentials shapes (see
// package keboola), with secrets that need form-encoding.
const (
	kbSecret = "CANARY-kb s+e&c%r:e=t"
	kbBasic  = `{"parameters": {
  "api": {
    "baseUrl": "https://api.example.com/",
    "authentication": {
      "type": "login",
      "format": "json",
      "loginRequest": {
        "endpoint": "https://auth.example.com/token",
        "method": "FORM",
        "headers": {
          "Accept": "application/json",
          "Authorization": {"function": "concat", "args": ["Basic ", {"function": "base64_encode", "args": [
            {"function": "concat", "args": [{"attr": "__CLIENT_ID"}, ":", {"attr": "#__CLIENT_SECRET"}]}]}]}
        },
        "params": {"grant_type": "client_credentials", "scope": "read write"}
      },
      "apiRequest": {"headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}}
    }
  },
  "config": {"__CLIENT_ID": "app", "#__CLIENT_SECRET": "` + kbSecret + `", "jobs": []}
}}`
	kbPost = `api:
  baseUrl: https://api.example.com/v1/
  authentication:
    type: login
    loginRequest:
      endpoint: oauth/token
      method: FORM
      headers: {X-Team: blue}
      params:
        grant_type: client_credentials
        tenant: t1
        client_id: {attr: "#id"}
        client_secret: {attr: "#secret"}
    apiRequest:
      headers:
        Authorization: {function: concat, args: ["Bearer ", {response: access_token}]}
config:
  "#id": app
  "#secret": "` + kbSecret + `"
`
)

func TestKeboolaLoad(t *testing.T) {
	basic := base("keboola", func(a *Account) {
		a.ClientSecret, a.Scopes = kbSecret, []string{"read", "write"}
		a.Headers = map[string]string{"Accept": "application/json"}
	})
	post := base("svc", func(a *Account) {
		a.TokenURL, a.ClientSecret, a.AuthMethod = "https://api.example.com/v1/oauth/token", kbSecret, ClientSecretPost
		a.Headers, a.Params = map[string]string{"X-Team": "blue"}, map[string]string{"tenant": "t1"}
	})
	for _, tt := range []struct {
		name string
		doc  string
		opts []Option
		want Account
	}{
		{"basic, default username", kbBasic, nil, basic},
		{"post, named user, YAML", kbPost, []Option{WithUsername("svc")}, post},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load([]byte(tt.doc), nil, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, []Account{tt.want}) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if errs := Lint([]byte(tt.doc), tt.opts...); errs != nil {
				t.Errorf("Lint: %v", errs)
			}
			if names := EnvNames([]byte(tt.doc)); names != nil {
				t.Errorf("EnvNames = %v", names)
			}
		})
	}
}

func TestKeboolaEnvReferences(t *testing.T) {
	doc := strings.Replace(kbPost, `"`+kbSecret+`"`, "${env:KB_SECRET}", 1)
	if got := EnvNames([]byte(doc)); !reflect.DeepEqual(got, []string{"KB_SECRET"}) {
		t.Fatalf("EnvNames = %v", got)
	}
	if errs := Lint([]byte(doc)); errs != nil {
		t.Fatalf("Lint: %v", errs)
	}
	accts, err := Load([]byte(doc), map[string]string{"KB_SECRET": "from-env"})
	if err != nil || accts[0].ClientSecret != "from-env" {
		t.Fatalf("Load = %+v, %v", accts, err)
	}
	_, err = Load([]byte(doc), nil)
	errs := issues(t, err)
	line, col := where(t, doc, "${env:KB_SECRET}")
	if len(errs) != 1 || errs[0].Field != "config.#secret" || errs[0].Line != line || errs[0].Column != col ||
		!strings.Contains(errs[0].Message, "KB_SECRET is not set") {
		t.Errorf("issues = %v", errs)
	}
}

// TestKeboolaIssues checks that issues in the preset a configuration
// becomes are reported at the configuration's path, line and column, and
// those of package keboola too.
func TestKeboolaIssues(t *testing.T) {
	for _, tt := range []struct {
		name, doc, old, new string
		field, at, says     string
	}{
		{"plain http endpoint", kbBasic, "https://auth.example.com/token", "http://auth.example.com/token",
			"parameters.api.authentication.loginRequest.endpoint", `"http://auth`, "plain http"},
		{"relative endpoint resolves to plain http", kbPost, "https://api.example.com/v1/", "http://api.example.com/v1/",
			"api.authentication.loginRequest.endpoint", "oauth/token", "plain http"},
		{"reserved header", kbPost, "X-Team: blue", "Content-Type: x", "api.authentication.loginRequest.headers.Content-Type", "x}", "cctoken sets Content-Type"},
		{"bad scope", kbBasic, `"scope": "read write"`, `"scope": "read wr\\\\ite"`, "parameters.api.authentication.loginRequest.params.scope", `"read wr`, "RFC 6749 §3.3"},
		{"empty client id", kbBasic, `"__CLIENT_ID": "app"`, `"__CLIENT_ID": ""`, "parameters.config.__CLIENT_ID", `""`, "client_id is empty"},
		{"empty secret", kbPost, `"` + kbSecret + `"`, `""`, "config.#secret", `""`, "client_secret is empty"},
		{"encrypted secret", kbBasic, kbSecret, "KBC::ProjectSecure::eJwLz8", "parameters.config.#__CLIENT_SECRET", `"KBC::`, "still encrypted by Keboola"},
		{"unsupported function", kbPost, "function: concat", "function: sha256", "api.authentication.apiRequest.headers.Authorization", "{function: sha256", "this function is not supported here"},
		{"raw encoding refuses a colon", kbBasic, `"__CLIENT_ID": "app"`, `"__CLIENT_ID": "a:pp"`, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(tt.doc, tt.old, tt.new, 1)
			if doc == tt.doc {
				t.Fatalf("%q is not in the document", tt.old)
			}
			if tt.field == "" { // a colon in a client id is fine with the default encoding
				if _, err := Load([]byte(doc), nil); err != nil {
					t.Fatal(err)
				}
				return
			}
			_, err := Load([]byte(doc), nil)
			errs := issues(t, err)
			line, col := where(t, doc, tt.at)
			if len(errs) != 1 || errs[0].Field != tt.field || !strings.Contains(errs[0].Message, tt.says) || errs[0].Line != line || errs[0].Column != col {
				t.Errorf("issues = %v; want one at %d:%d %s saying %q", errs, line, col, tt.field, tt.says)
			}
			if lint := Lint([]byte(doc)); len(lint) != 1 || lint[0] != errs[0] {
				t.Errorf("Lint = %v", lint)
			}
			if strings.Contains(err.Error(), "CANARY") || strings.Contains(err.Error(), "eJwL") {
				t.Errorf("value in the error: %v", err)
			}
		})
	}
}

// TestKeboolaConvert checks the round trip: the printed preset, loaded with
// the variables it names set, is the same account as the configuration.
func TestKeboolaConvert(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  string
		user string
		env  map[string]string // what to set for the printed preset
	}{
		{"basic", kbBasic, "", map[string]string{"CCTOKEN_KEBOOLA_CLIENT_SECRET": kbSecret}},
		{"post", kbPost, "svc.1", map[string]string{"CCTOKEN_SVC_1_CLIENT_ID": "app", "CCTOKEN_SVC_1_CLIENT_SECRET": kbSecret}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			yaml, env, err := Convert([]byte(tt.doc), WithUsername(tt.user))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(yaml), "CANARY") {
				t.Errorf("the printed preset holds the secret:\n%s", yaml)
			}
			var names []string
			for n := range tt.env {
				names = append(names, n)
			}
			if !reflect.DeepEqual(env, sortedCopy(names)) {
				t.Errorf("env = %v, want %v", env, sortedCopy(names))
			}
			want, err := Load([]byte(tt.doc), nil, WithUsername(tt.user))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Load(yaml, tt.env)
			if err != nil {
				t.Fatalf("the printed preset does not load: %v\n%s", err, yaml)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip\n got  %+v\n want %+v\n%s", got, want, yaml)
			}
			if errs := Lint(yaml); errs != nil {
				t.Errorf("printed preset: %v", errs)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestConvertRefuses(t *testing.T) {
	for _, tt := range []struct{ name, doc, says string }{
		{"a preset", one("", ""), "already a cctoken preset"},
		{"a broken preset", one("bogus: 1", ""), "already a cctoken preset"},
		{"neither", "foo: 1\n", "none of the keys"},
		{"syntax error", "{", "YAML syntax error"},
		{"a configuration with an issue", strings.Replace(kbBasic, `"FORM"`, `"GET"`, 1), `method must be "FORM"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			yaml, env, err := Convert([]byte(tt.doc))
			if err == nil || yaml != nil || env != nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Convert = %q, %v, %v; want an error saying %q", yaml, env, err, tt.says)
			}
		})
	}
}

func TestBasicEncoding(t *testing.T) {
	got, err := Load([]byte(one("basic_encoding: raw", "")+
		"      - {username: bob, client_id: b, client_secret: s, basic_encoding: form}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].BasicEncoding != BasicEncodingRaw || got[1].BasicEncoding != BasicEncodingForm {
		t.Errorf("encodings %q %q", got[0].BasicEncoding, got[1].BasicEncoding)
	}
	for _, tt := range []issueCase{
		{name: "unknown encoding", doc: one("", "basic_encoding: base64"), field: "preset[0].users[0].basic_encoding", at: "base64", says: "basic_encoding must be form"},
		{name: "raw with a colon in the id", doc: strings.Replace(one("basic_encoding: raw", ""), "client_id: app", "client_id: 'a:pp'", 1),
			field: "preset[0].users[0].client_id", at: "'a:pp'", says: "basic_encoding: raw cannot send"},
		{name: "raw with a colon from env", doc: strings.Replace(one("basic_encoding: raw", ""), "client_id: app", "client_id: ${env:ID}", 1), env: map[string]string{"ID": "a:b"},
			field: "preset[0].users[0].client_id", at: "${env:ID}", says: "comes from environment variable ID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.doc), tt.env)
			errs := issues(t, err)
			line, col := where(t, tt.doc, tt.at)
			if len(errs) != 1 || errs[0].Field != tt.field || errs[0].Line != line || errs[0].Column != col || !strings.Contains(errs[0].Message, tt.says) {
				t.Errorf("issues = %v", errs)
			}
		})
	}
	// With client_secret_post the encoding does not matter.
	if _, err := Load([]byte(strings.Replace(one("basic_encoding: raw\nauth_method: client_secret_post", ""), "client_id: app", "client_id: 'a:pp'", 1)), nil); err != nil {
		t.Error(err)
	}
}
