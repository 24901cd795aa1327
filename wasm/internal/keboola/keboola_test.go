package keboola

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The two shapes of Keboola's client-credentials template. The secret is
// a canary: no issue message may ever contain it.
const canary = "CANARY-s3cr3t + & % : = x"

// basicDoc is the Basic Auth variant as Keboola stores it (under
// parameters).
const basicDoc = `{
  "parameters": {
    "api": {
      "baseUrl": "https://api.example.com/v1/",
      "authentication": {
        "type": "login",
        "format": "json",
        "loginRequest": {
          "endpoint": "https://auth.example.com/oauth/token",
          "method": "FORM",
          "headers": {
            "Accept": "application/json",
            "Authorization": {
              "function": "concat",
              "args": [
                "Basic ",
                {
                  "function": "base64_encode",
                  "args": [
                    {"function": "concat", "args": [{"attr": "__CLIENT_ID"}, ":", {"attr": "#__CLIENT_SECRET"}]}
                  ]
                }
              ]
            }
          },
          "params": {"grant_type": "client_credentials", "scope": "read write"}
        },
        "apiRequest": {
          "headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}
        }
      }
    },
    "config": {"__CLIENT_ID": "app id", "#__CLIENT_SECRET": "` + canary + `", "jobs": [{"endpoint": "things"}]}
  }
}`

// postDoc is the Post Form variant without the parameters wrapper, with a
// relative endpoint and the client id in a #-prefixed attribute.
const postDoc = `{
  "api": {
    "baseUrl": "https://api.example.com/v1/",
    "pagination": {"method": "offset"},
    "authentication": {
      "type": "login",
      "loginRequest": {
        "endpoint": "oauth/token",
        "method": "FORM",
        "headers": {"Accept": "application/json", "X-Tenant": "acme"},
        "params": {
          "grant_type": "client_credentials",
          "scope": "read",
          "audience": "https://api.example.com/",
          "tenant": "t1",
          "client_id": {"attr": "#id"},
          "client_secret": {"attr": "#secret"}
        }
      },
      "apiRequest": {"headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}}
    }
  },
  "config": {"#id": "app-1", "#secret": "` + canary + `"}
}`

func root(t *testing.T, doc string) ast.Node {
	t.Helper()
	f, err := parser.ParseBytes([]byte(doc), 0, parser.AllowDuplicateMapKey())
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	return f.Docs[0].Body
}

func read(t *testing.T, doc, user string) (*Preset, []Issue) {
	t.Helper()
	if !Recognise(root(t, doc)) {
		t.Fatalf("not recognised:\n%s", doc)
	}
	return Read(root(t, doc), user)
}

func TestReadVariants(t *testing.T) {
	b, issues := read(t, basicDoc, "")
	if issues != nil {
		t.Fatalf("basic: %v", issues)
	}
	if b.Username != "keboola" || b.URL.S != "https://auth.example.com/oauth/token" || b.AuthMethod != ClientSecretBasic ||
		b.ClientID.S != "app id" || b.ClientSecret.S != canary || b.Scope.S != "read write" ||
		!reflect.DeepEqual(names(b.Headers), []string{"Accept=application/json"}) || b.Params != nil {
		t.Errorf("basic = %+v", b)
	}
	if b.ClientSecret.Path != "parameters.config.#__CLIENT_SECRET" || b.ClientID.Path != "parameters.config.__CLIENT_ID" {
		t.Errorf("paths %q %q", b.ClientID.Path, b.ClientSecret.Path)
	}
	if b.ClientSecret.Env != "CCTOKEN_KEBOOLA_CLIENT_SECRET" || b.ClientID.Env != "" {
		t.Errorf("env names %q %q: only the secret and #-attributes become variables", b.ClientID.Env, b.ClientSecret.Env)
	}

	p, issues := read(t, postDoc, "svc-1")
	if issues != nil {
		t.Fatalf("post: %v", issues)
	}
	if p.Username != "svc-1" || p.URL.S != "https://api.example.com/v1/oauth/token" || p.AuthMethod != ClientSecretPost ||
		p.ClientID.S != "app-1" || p.ClientSecret.S != canary || p.Scope.S != "read" || p.Audience.S != "https://api.example.com/" ||
		!reflect.DeepEqual(names(p.Headers), []string{"Accept=application/json", "X-Tenant=acme"}) ||
		!reflect.DeepEqual(names(p.Params), []string{"tenant=t1"}) {
		t.Errorf("post = %+v", p)
	}
	if p.ClientID.Env != "CCTOKEN_SVC_1_CLIENT_ID" || p.ClientSecret.Env != "CCTOKEN_SVC_1_CLIENT_SECRET" {
		t.Errorf("env names %q %q", p.ClientID.Env, p.ClientSecret.Env)
	}
	if got := p.EnvNames(); !reflect.DeepEqual(got, []string{"CCTOKEN_SVC_1_CLIENT_ID", "CCTOKEN_SVC_1_CLIENT_SECRET"}) {
		t.Errorf("EnvNames = %v", got)
	}
}

func names(ps []Pair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.S)
	}
	return out
}

func TestEnvReferencesStay(t *testing.T) {
	doc := strings.Replace(basicDoc, canary, "${env:KBC_SECRET}", 1)
	p, issues := read(t, doc, "")
	if issues != nil {
		t.Fatal(issues)
	}
	if p.ClientSecret.Env != "" || p.EnvNames() != nil {
		t.Errorf("a ${env:…} secret got a variable of its own: %+v", p.ClientSecret)
	}
	if y := string(p.YAML(EnvRefs)); !strings.Contains(y, `client_secret: "${env:KBC_SECRET}"`) {
		t.Errorf("reference not kept:\n%s", y)
	}
}

func TestRecognise(t *testing.T) {
	for doc, want := range map[string]bool{
		basicDoc: true, postDoc: true, `{"parameters": 1}`: true, `api: {}`: true,
		`preset: []`: false, `type: oauth_client_credentials`: false, `[1]`: false, `x`: false,
	} {
		if got := Recognise(root(t, doc)); got != want {
			t.Errorf("Recognise(%.30q) = %v", doc, got)
		}
	}
}

// unsupported is every construct outside the two shapes; each must be
// refused at its JSON path, saying what is supported.
var unsupported = []struct {
	name     string
	doc      string // basicDoc or postDoc
	old, new string // the change
	path     string
	says     string
}{
	// the document around the login
	{"parameters not a map", basicDoc, `"parameters": {`, `"parameters": [1], "x": {`, "parameters", "expected the configuration parameters"},
	{"api missing", postDoc, `"api": {`, `"apx": {`, "api", "api is missing"},
	{"authentication missing", postDoc, `"authentication": {`, `"auth": {`, "api.authentication", "authentication is missing"},
	{"other authentication type", basicDoc, `"type": "login"`, `"type": "oauth20"`, "parameters.api.authentication.type", `only the OAuth 2.0 client-credentials login`},
	{"type missing", basicDoc, `"type": "login",`, ``, "parameters.api.authentication.type", "type is missing"},
	{"text format", basicDoc, `"format": "json"`, `"format": "text"`, "parameters.api.authentication.format", `format must be "json"`},
	{"unknown authentication key", basicDoc, `"format": "json"`, `"format": "json", "retry": 1`, "parameters.api.authentication.retry", "cctoken reads type, format, loginRequest, apiRequest and expires"},
	{"fixed expires", postDoc, `"type": "login",`, `"type": "login", "expires": 3600,`, "api.authentication.expires", "from expires_in in the token response"},
	{"expires from another field", postDoc, `"type": "login",`, `"type": "login", "expires": {"response": "valid_until"},`, "api.authentication.expires", "from expires_in"},

	// loginRequest
	{"loginRequest missing", postDoc, `"loginRequest": {`, `"login": {`, "api.authentication.loginRequest", "loginRequest is missing"},
	{"unknown loginRequest key", postDoc, `"method": "FORM",`, `"method": "FORM", "query": {},`, "api.authentication.loginRequest.query", "cctoken reads endpoint, method, headers and params"},
	{"endpoint missing", basicDoc, `"endpoint": "https://auth.example.com/oauth/token",`, ``, "parameters.api.authentication.loginRequest.endpoint", "endpoint is missing"},
	{"endpoint function", basicDoc, `"endpoint": "https://auth.example.com/oauth/token"`, `"endpoint": {"function": "concat", "args": ["https://", {"attr": "host"}]}`, "parameters.api.authentication.loginRequest.endpoint", "this function is not supported here"},
	{"relative endpoint without baseUrl", postDoc, `"baseUrl": "https://api.example.com/v1/",`, ``, "api.authentication.loginRequest.endpoint", "api.baseUrl is missing"},
	{"relative endpoint, baseUrl function", postDoc, `"baseUrl": "https://api.example.com/v1/"`, `"baseUrl": {"function": "concat", "args": ["https://", {"attr": "domain"}, ".example.com/"]}`, "api.baseUrl", "needs api.baseUrl as a plain URL"},
	{"relative endpoint, relative baseUrl", postDoc, `"baseUrl": "https://api.example.com/v1/"`, `"baseUrl": "/v1/"`, "api.baseUrl", "not an absolute URL"},
	{"method GET", postDoc, `"method": "FORM"`, `"method": "GET"`, "api.authentication.loginRequest.method", `method must be "FORM"`},
	{"method POST sends JSON", basicDoc, `"method": "FORM"`, `"method": "POST"`, "parameters.api.authentication.loginRequest.method", "its POST sends JSON"},
	{"method missing", postDoc, `"method": "FORM",`, ``, "api.authentication.loginRequest.method", "Keboola then sends GET"},
	{"params missing", basicDoc, `"params": {"grant_type": "client_credentials", "scope": "read write"}`, `"x": 1`, "parameters.api.authentication.loginRequest.params", "params is missing"},
	{"grant_type missing", basicDoc, `"grant_type": "client_credentials", `, ``, "parameters.api.authentication.loginRequest.params.grant_type", "grant_type is missing"},
	{"other grant_type", basicDoc, `"grant_type": "client_credentials"`, `"grant_type": "password"`, "parameters.api.authentication.loginRequest.params.grant_type", `must be "client_credentials"`},

	// the Basic Auth header
	{"literal Authorization", basicDoc, `"Authorization": {
              "function": "concat",`, `"Authorization": "Basic YTpi", "X": {"function": "concat",`, "parameters.api.authentication.loginRequest.headers.Authorization", "a plain value is not supported here; the login request's Authorization header must be Keboola's Basic Auth shape"},
	{"other outer function", basicDoc, `"function": "concat",
              "args": [
                "Basic "`, `"function": "sprintf",
              "args": [
                "Basic "`, "parameters.api.authentication.loginRequest.headers.Authorization", "this function is not supported here"},
	{"Bearer instead of Basic", basicDoc, `"Basic ",`, `"Bearer ",`, "parameters.api.authentication.loginRequest.headers.Authorization.args[0]", `expected the text "Basic " here`},
	{"no base64", basicDoc, `"function": "base64_encode"`, `"function": "md5"`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1]", "this function is not supported here"},
	{"base64 of two arguments", basicDoc, `{"attr": "#__CLIENT_SECRET"}]}
                  ]`, `{"attr": "#__CLIENT_SECRET"}]}, "x"
                  ]`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args", "must have exactly 1 arguments"},
	{"inner concat of two", basicDoc, `[{"attr": "__CLIENT_ID"}, ":", {"attr": "#__CLIENT_SECRET"}]`, `[{"attr": "__CLIENT_ID"}, {"attr": "#__CLIENT_SECRET"}]`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args", "must have exactly 3 arguments"},
	{"other separator", basicDoc, `, ":", `, `, "-", `, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args[1]", `expected the text ":" here`},
	{"response as client id", basicDoc, `{"attr": "__CLIENT_ID"}`, `{"response": "id"}`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args[0]", `a response reference is not supported here; write {"attr": NAME}`},
	{"function as secret", basicDoc, `{"attr": "#__CLIENT_SECRET"}`, `{"function": "md5", "args": [{"attr": "#__CLIENT_SECRET"}]}`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args[2]", "this function is not supported here"},
	{"attr to a missing key", basicDoc, `{"attr": "#__CLIENT_SECRET"}`, `{"attr": "#__SECRET"}`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args[2]", "names parameters.config.#__SECRET, which does not exist"},
	{"attr with another key", basicDoc, `{"attr": "__CLIENT_ID"}`, `{"attr": "__CLIENT_ID", "default": "x"}`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args[0].default", `an attr reference is {"attr": NAME} alone`},
	{"function with another key", basicDoc, `"function": "base64_encode",`, `"function": "base64_encode", "raw": true,`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].raw", `a Keboola function is {"function": NAME, "args": [...]}`},
	{"function without args", basicDoc, `{"function": "concat", "args": [{"attr": "__CLIENT_ID"}, ":", {"attr": "#__CLIENT_SECRET"}]}`, `{"function": "concat"}`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1].args[0].args", "args is missing"},
	{"config value is a map", basicDoc, `"__CLIENT_ID": "app id"`, `"__CLIENT_ID": {"v": 1}`, "parameters.config.__CLIENT_ID", "expected a string, found a map"},
	{"no config", postDoc, `"config": {"#id": "app-1", "#secret": "` + canary + `"}`, `"other": 1`, "api.authentication.loginRequest.params.client_id", "has no config section"},
	{"Basic and params both", basicDoc, `"scope": "read write"`, `"scope": "read write", "client_id": "x"`, "parameters.api.authentication.loginRequest.params.client_id", "one method only"},

	// plain values elsewhere
	{"attr in a header", postDoc, `"X-Tenant": "acme"`, `"X-Tenant": {"attr": "tenant"}`, "api.authentication.loginRequest.headers.X-Tenant", "an attr reference is not supported here; write the value itself"},
	{"function in a header", postDoc, `"X-Tenant": "acme"`, `"X-Tenant": {"function": "concat", "args": ["a", "b"]}`, "api.authentication.loginRequest.headers.X-Tenant", "this function is not supported here; write the value itself"},
	{"attr in a param", postDoc, `"tenant": "t1"`, `"tenant": {"attr": "tenant"}`, "api.authentication.loginRequest.params.tenant", "an attr reference is not supported here"},
	{"response in a param", postDoc, `"scope": "read"`, `"scope": {"response": "scope"}`, "api.authentication.loginRequest.params.scope", "a response reference is not supported here"},
	{"list as a param", postDoc, `"tenant": "t1"`, `"tenant": ["a", "b"]`, "api.authentication.loginRequest.params.tenant", "a list is not supported here"},
	{"unknown object as a param", postDoc, `"tenant": "t1"`, `"tenant": {"a": "b"}`, "api.authentication.loginRequest.params.tenant", "a map is not supported here"},

	// the Post Form variant
	{"client_secret missing", postDoc, `,
          "client_secret": {"attr": "#secret"}`, ``, "api.authentication.loginRequest.params.client_secret", "client_secret is missing"},
	{"client_id missing", postDoc, `"client_id": {"attr": "#id"},`, ``, "api.authentication.loginRequest.params.client_id", "client_id is missing"},
	{"function as client_secret", postDoc, `"client_secret": {"attr": "#secret"}`, `"client_secret": {"function": "concat", "args": [{"attr": "#secret"}]}`, "api.authentication.loginRequest.params.client_secret", "this function is not supported here"},
	{"no credentials at all", postDoc, `"client_id": {"attr": "#id"},
          "client_secret": {"attr": "#secret"}`, `"x": "y"`, "api.authentication.loginRequest", "sends no client credentials"},

	// apiRequest
	{"apiRequest missing", postDoc, `"apiRequest"`, `"apiRequestX"`, "api.authentication.apiRequest", "apiRequest is missing"},
	{"apiRequest query", postDoc, `"apiRequest": {"headers"`, `"apiRequest": {"query": {"token": {"response": "access_token"}}, "headers"`, "api.authentication.apiRequest.query", "apiRequest.query is not supported"},
	{"another apiRequest header", postDoc, `"apiRequest": {"headers": {`, `"apiRequest": {"headers": {"X-Token": {"response": "access_token"}, `, "api.authentication.apiRequest.headers.X-Token", "only Authorization is supported in apiRequest.headers"},
	{"apiRequest Authorization missing", postDoc, `"apiRequest": {"headers": {"Authorization"`, `"apiRequest": {"headers": {"X-Authorization"`, "api.authentication.apiRequest.headers.Authorization", "Authorization is missing"},
	{"other response field", postDoc, `{"response": "access_token"}`, `{"response": "data.token"}`, "api.authentication.apiRequest.headers.Authorization.args[1]", `the only response reference cctoken supports is {"response": "access_token"}`},
	{"Token instead of Bearer", postDoc, `["Bearer ", `, `["Token ", `, "api.authentication.apiRequest.headers.Authorization.args[0]", `expected the text "Bearer " here`},
	{"attr instead of response", postDoc, `{"response": "access_token"}`, `{"attr": "token"}`, "api.authentication.apiRequest.headers.Authorization.args[1]", "an attr reference is not supported here"},
	{"bare response", postDoc, `{"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}`, `{"response": "access_token"}`, "api.authentication.apiRequest.headers.Authorization", "a response reference is not supported here"},

	// values that cannot be sent
	{"encrypted secret", basicDoc, canary, "KBC::ProjectSecure::eJwBAAD//wAAAAE=", "parameters.config.#__CLIENT_SECRET", "still encrypted by Keboola"},
	{"encrypted client id", postDoc, `"#id": "app-1"`, `"#id": "KBC::ProjectSecureKV::abc"`, "config.#id", "cannot decrypt it; replace it with ${env:NAME}"},
	{"encrypted literal param", postDoc, `"client_secret": {"attr": "#secret"}`, `"client_secret": "KBC::Encrypted==abc=="`, "api.authentication.loginRequest.params.client_secret", "still encrypted"},
	{"encrypted header", postDoc, `"X-Tenant": "acme"`, `"X-Tenant": "KBC::ProjectSecure::x"`, "api.authentication.loginRequest.headers.X-Tenant", "still encrypted"},

	// YAML features JSON does not have
	{"duplicate key", postDoc, `"#id": "app-1"`, `"#id": "app-1", "#id": "app-2"`, "config.#id", "set more than once"},
}

func TestUnsupported(t *testing.T) {
	for _, tt := range unsupported {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.doc, tt.old) {
				t.Fatalf("%q is not in the document", tt.old)
			}
			doc := strings.Replace(tt.doc, tt.old, tt.new, 1)
			p, issues := Read(root(t, doc), "")
			if p != nil || len(issues) == 0 {
				t.Fatalf("read without issues:\n%s", doc)
			}
			found := false
			for _, is := range issues {
				if strings.Contains(is.Message, "CANARY") || strings.Contains(is.Message, "KBC::P") || strings.Contains(is.Message, "eJwB") {
					t.Errorf("value in a message: %s", is.Message)
				}
				if is.Path == tt.path && strings.Contains(is.Message, tt.says) {
					found = true
					if is.Node == nil {
						t.Errorf("issue without a position: %+v", is)
					}
				}
			}
			if !found {
				var got []string
				for _, is := range issues {
					got = append(got, is.Path+": "+is.Message)
				}
				t.Errorf("no issue at %s saying %q; got:\n%s", tt.path, tt.says, strings.Join(got, "\n"))
			}
		})
	}
}

func TestYAMLAliasRefused(t *testing.T) {
	doc := "api:\n  x: &a {type: login}\n  authentication: *a\nconfig: {}\n"
	_, issues := Read(root(t, doc), "")
	if len(issues) != 1 || issues[0].Path != "api.authentication" || !strings.Contains(issues[0].Message, "aliases") {
		t.Errorf("issues = %v", issues)
	}
}

func TestEnvName(t *testing.T) {
	for user, want := range map[string]string{
		"keboola": "CCTOKEN_KEBOOLA_CLIENT_SECRET",
		"svc-1.a": "CCTOKEN_SVC_1_A_CLIENT_SECRET",
		"über":    "CCTOKEN__BER_CLIENT_SECRET",
		"9 x":     "CCTOKEN_9_X_CLIENT_SECRET",
	} {
		if got := EnvName(user, "CLIENT_SECRET"); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", user, got, want)
		}
	}
}

func TestOrigin(t *testing.T) {
	p, issues := read(t, postDoc, "")
	if issues != nil {
		t.Fatal(issues)
	}
	for field, want := range map[string]string{
		"preset[0].url":                         "api.authentication.loginRequest.endpoint",
		"preset[0].auth_method":                 "api.authentication.loginRequest.params",
		"preset[0].users[0].client_id":          "config.#id",
		"preset[0].users[0].client_secret":      "config.#secret",
		"preset[0].users[0].scopes[0]":          "api.authentication.loginRequest.params.scope",
		"preset[0].users[0].audience":           "api.authentication.loginRequest.params.audience",
		"preset[0].users[0].headers.X-Tenant":   "api.authentication.loginRequest.headers.X-Tenant",
		"preset[0].users[0].headers.Other":      "api.authentication.loginRequest.headers",
		"preset[0].users[0].params.tenant":      "api.authentication.loginRequest.params.tenant",
		"preset[0].users[0].username":           "api.authentication",
		"preset[0].users[0].cookies.x":          "api.authentication",
		"":                                      "api.authentication",
		`preset[0].users[0].headers."a b".x[1]`: "api.authentication.loginRequest.headers",
	} {
		if got, n := p.Origin(field); got != want || n == nil {
			t.Errorf("Origin(%s) = %s (node %v), want %s", field, got, n != nil, want)
		}
	}
}

// TestYAMLRoundTrip checks every value YAML writes reads back as written.
func TestYAMLRoundTrip(t *testing.T) {
	values := []string{
		"", "plain", "0012", "1e3", "true", "null", "~", "Yes", "a:b", "a: b", "a:", "-x", "- x", "#x", "x #y", "@x", "`x",
		"'q'", `"dq"`, `back\slash`, "tab\there", "line\nbreak", "cr\rx", "nul\x00x", "del\x7f", "nel\u0085x", "ls\u2028ps\u2029",
		"bom\ufeff", "ünïcødé ✓", "emoji 😀", "  lead", "trail  ", "%x", "!x", "&x", "*x", "{x}", "[x]", "x,y", "?x", "|x", ">x",
		"${env:X}", "https://auth.example.com/t?a=b&c=d", canary,
	}
	for _, v := range values {
		for _, enc := range []func(string) string{yamlString, yamlKey} {
			doc := "k: " + enc(v) + "\n" + enc(v) + ": v\n"
			f, err := parser.ParseBytes([]byte(doc), 0, parser.AllowDuplicateMapKey())
			if err != nil {
				t.Errorf("%q: %v\n%s", v, err, doc)
				continue
			}
			kv, _ := pairs(f.Docs[0].Body)
			if len(kv) != 2 {
				t.Errorf("%q: %d pairs\n%s", v, len(kv), doc)
				continue
			}
			got, ok := scalar(unwrap(kv[0].Value))
			if v == "" {
				got, ok = "", ok || isNull(kv[0].Value)
			}
			key, _ := scalar(unwrap(kv[1].Key))
			if !ok || got != v || key != v && v != "" {
				t.Errorf("%q reads back as value %q, key %q\n%s", v, got, key, doc)
			}
		}
	}
}

func TestYAMLDeterministic(t *testing.T) {
	p, issues := read(t, postDoc, "svc")
	if issues != nil {
		t.Fatal(issues)
	}
	first := string(p.YAML(EnvRefs))
	for range 10 {
		if got := string(p.YAML(EnvRefs)); got != first {
			t.Fatal("YAML changed between calls")
		}
	}
	if strings.Contains(first, "CANARY") || strings.Contains(first, "app-1") {
		t.Errorf("EnvRefs YAML holds a secret:\n%s", first)
	}
	if lit := string(p.YAML(Literal)); !strings.Contains(lit, "CANARY") {
		t.Errorf("Literal YAML lacks the secret:\n%s", lit)
	}
	for _, want := range []string{
		"client_id: ${env:CCTOKEN_SVC_CLIENT_ID}\n", "client_secret: ${env:CCTOKEN_SVC_CLIENT_SECRET}\n",
		"url: https://api.example.com/v1/oauth/token\n", "auth_method: client_secret_post\n",
		"#   CCTOKEN_SVC_CLIENT_SECRET  (config.#secret)\n",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("YAML lacks %q:\n%s", want, first)
		}
	}
}

// FuzzYAMLString checks that every valid UTF-8 value YAML writes, as a
// value or as a key, reads back unchanged.
func FuzzYAMLString(f *testing.F) {
	for _, s := range []string{"", "a:b", "x #y", "nel\u0085", canary, "${env:X}", "0x1F", "- a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		doc := "k: " + yamlString(v) + "\n" + yamlKey(v) + ": v\n"
		file, err := parser.ParseBytes([]byte(doc), 0, parser.AllowDuplicateMapKey())
		if err != nil {
			t.Fatalf("%q: %v\n%s", v, err, doc)
		}
		kv, _ := pairs(file.Docs[0].Body)
		if len(kv) != 2 {
			t.Fatalf("%q: %d pairs\n%s", v, len(kv), doc)
		}
		got, ok := scalar(unwrap(kv[0].Value))
		key, _ := scalar(unwrap(kv[1].Key))
		if v != "" && (!ok || got != v || key != v) {
			t.Fatalf("%q reads back as value %q, key %q\n%s", v, got, key, doc)
		}
	})
}
