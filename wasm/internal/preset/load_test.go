package preset

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// one builds a shape-1 document with one preset and one valid user, adding
// presetExtra and userExtra lines (unindented) to the preset and the user.
func one(presetExtra, userExtra string) string {
	return "preset:\n" +
		"  - type: oauth_client_credentials\n" +
		"    url: https://auth.example.com/token\n" +
		indent(presetExtra, "    ") +
		"    users:\n" +
		"      - username: alice\n" +
		"        client_id: app\n" +
		"        client_secret: s3cr3t\n" +
		indent(userExtra, "        ")
}

func indent(s, by string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for line := range strings.Lines(strings.TrimSuffix(s, "\n") + "\n") {
		b.WriteString(by + line)
	}
	return b.String()
}

// where is the 1-based line and column of the first occurrence of marker.
func where(t *testing.T, doc, marker string) (int, int) {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("marker %q not in document", marker)
	}
	line := strings.Count(doc[:i], "\n") + 1
	col := i - strings.LastIndex(doc[:i], "\n")
	return line, col
}

func issues(t *testing.T, err error) Errors {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is %T, want Errors", err, err)
	}
	return errs
}

func base(user string, mods ...func(*Account)) Account {
	a := Account{
		Username: user, TokenURL: "https://auth.example.com/token", ClientID: "app", ClientSecret: "s3cr3t",
		AuthMethod: ClientSecretBasic, BasicEncoding: BasicEncodingForm, RefreshSkew: DefaultRefreshSkew, DefaultTTL: DefaultTTL, RefreshAhead: DefaultRefreshAhead,
	}
	for _, m := range mods {
		m(&a)
	}
	return a
}

func TestLoadShapes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []Account
	}{
		{"yaml preset list", one("", ""), []Account{base("alice")}},
		{"json preset list", `{"preset": [{"type": "oauth_client_credentials", "url": "https://auth.example.com/token",
			"users": [{"username": "alice", "client_id": "app", "client_secret": "s3cr3t"}]}]}`, []Account{base("alice")}},
		{"preset list with $schema", "$schema: ./preset.schema.json\n" + one("", ""), []Account{base("alice")}},
		{"py-multiauth", `{"$schema": "https://example.com/multiauth.json", "users": {"x": 1},
			"presets": [{"type": "oauth_client_credentials", "name": "main", "url": "https://auth.example.com/token",
			"users": [{"username": "alice", "client_id": "app", "client_secret": "s3cr3t", "scopes": ["read"]}]}]}`,
			[]Account{base("alice", func(a *Account) { a.PresetName = "main"; a.Scopes = []string{"read"} })}},
		{"single preset", "type: oauth_client_credentials\nurl: https://auth.example.com/token\nusers:\n  - {username: alice, client_id: app, client_secret: s3cr3t}\n",
			[]Account{base("alice")}},
		{"several presets in order", "preset:\n" +
			"  - {type: oauth_client_credentials, url: 'https://auth.example.com/token', users: [{username: b, client_id: app, client_secret: s3cr3t}, {username: a, client_id: app, client_secret: s3cr3t}]}\n" +
			"  - {type: oauth_client_credentials, url: 'https://auth.example.com/token', users: [{username: c, client_id: app, client_secret: s3cr3t}]}\n",
			[]Account{base("b"), base("a", func(a *Account) { a.Index = 1 }), base("c", func(a *Account) { a.Preset = 1 })}},
		{"anchors and tags are harmless", one("", "scopes: &s !!seq [read]"), []Account{base("alice", func(a *Account) { a.Scopes = []string{"read"} })}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load([]byte(tt.doc), nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if errs := Lint([]byte(tt.doc)); errs != nil {
				t.Errorf("Lint: %v", errs)
			}
		})
	}
}

func TestLoadValues(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		env        map[string]string
		want       func(*Account)
		wantSecond func(*Account)
	}{
		{"numbers and booleans are strings as written", strings.NewReplacer("client_id: app", "client_id: 0012", "client_secret: s3cr3t", "client_secret: true").Replace(one("name: 42", "")),
			nil, func(a *Account) { a.ClientID, a.ClientSecret, a.PresetName = "0012", "true", "42" }, nil},
		{"header names are canonical", one("", "headers: {x-team-id: blue, ACCEPT: '*/*'}"), nil,
			func(a *Account) { a.Headers = map[string]string{"X-Team-Id": "blue", "Accept": "*/*"} }, nil},
		{"cookies, params, scopes, resource", one("", "cookies: {session: abc%20d}\nparams: {tenant: t1, empty:}\nscopes: [read, 'write:all']\nresource: [https://api.example.com/, 'urn:example:api']"), nil,
			func(a *Account) {
				a.Cookies = map[string]string{"session": "abc%20d"}
				a.Params = map[string]string{"tenant": "t1", "empty": ""}
				a.Scopes = []string{"read", "write:all"}
				a.Resource = []string{"https://api.example.com/", "urn:example:api"}
			}, nil},
		{"durations", one("refresh_skew: 2m\ndefault_ttl: 90", "refresh_ahead: 1"), nil,
			func(a *Account) { a.RefreshSkew, a.DefaultTTL, a.RefreshAhead = 2*time.Minute, 90*time.Second, 1 }, nil},
		{"fractional seconds and zero skew", one("refresh_skew: 0\ndefault_ttl: 1.5", ""), nil,
			func(a *Account) { a.RefreshSkew, a.DefaultTTL = 0, 1500*time.Millisecond }, nil},
		{"http to loopback", strings.Replace(one("", ""), "https://auth.example.com/token", "http://127.0.0.9:8080/token", 1), nil,
			func(a *Account) { a.TokenURL = "http://127.0.0.9:8080/token" }, nil},
		{"http to ::1", strings.Replace(one("", ""), "https://auth.example.com/token", "'http://[::1]/token'", 1), nil,
			func(a *Account) { a.TokenURL = "http://[::1]/token" }, nil},
		{"http anywhere with insecure", strings.Replace(one("insecure: true", ""), "https://auth.example.com/token", "http://auth.example.com/token", 1), nil,
			func(a *Account) { a.TokenURL, a.Insecure = "http://auth.example.com/token", true }, nil},
		{"env references", strings.NewReplacer("        client_id: app\n", "", "        client_secret: s3cr3t\n", "").Replace(
			one("audience: ${env:AUD}\nparams: {tenant: '${env:TENANT}'}", "client_id: ${env:ID}\nclient_secret: ${env:SECRET}\nheaders: {X-Key: '${env:KEY}'}\ncookies: {c: '${env:COOKIE}'}")),
			map[string]string{"AUD": "api", "TENANT": "t", "ID": "id1", "SECRET": "sec", "KEY": "k", "COOKIE": "ck", "UNUSED": "x"},
			func(a *Account) {
				a.Audience, a.ClientID, a.ClientSecret = "api", "id1", "sec"
				a.Params = map[string]string{"tenant": "t"}
				a.Headers = map[string]string{"X-Key": "k"}
				a.Cookies = map[string]string{"c": "ck"}
			}, nil},
		{"inheritance", "preset:\n" +
			"  - type: oauth_client_credentials\n" +
			"    url: https://auth.example.com/token\n" +
			"    auth_method: client_secret_post\n" +
			"    audience: api\n" +
			"    resource: [https://api.example.com/]\n" +
			"    params: {tenant: t1, region: eu}\n" +
			"    refresh_skew: 10s\n" +
			"    default_ttl: 1h\n" +
			"    refresh_ahead: 0.5\n" +
			"    users:\n" +
			"      - {username: alice, client_id: app, client_secret: s3cr3t}\n" +
			"      - username: bob\n" +
			"        client_id: app\n" +
			"        client_secret: s3cr3t\n" +
			"        auth_method: client_secret_basic\n" +
			"        audience: other\n" +
			"        resource: []\n" +
			"        params: {tenant: t2}\n" +
			"        refresh_skew: 1s\n" +
			"        default_ttl: 2h\n" +
			"        refresh_ahead: 0.9\n",
			nil,
			func(a *Account) {
				a.AuthMethod, a.Audience, a.Resource = ClientSecretPost, "api", []string{"https://api.example.com/"}
				a.Params = map[string]string{"tenant": "t1", "region": "eu"}
				a.RefreshSkew, a.DefaultTTL, a.RefreshAhead = 10*time.Second, time.Hour, 0.5
			},
			func(a *Account) {
				a.Username, a.Index = "bob", 1
				a.AuthMethod, a.Audience, a.Resource = ClientSecretBasic, "other", []string{}
				a.Params = map[string]string{"tenant": "t2"}
				a.RefreshSkew, a.DefaultTTL, a.RefreshAhead = time.Second, 2*time.Hour, 0.9
			}},
		{"null means inherit", one("audience: api", "audience:\nrefresh_skew: ~"), nil,
			func(a *Account) { a.Audience = "api" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load([]byte(tt.doc), tt.env)
			if err != nil {
				t.Fatalf("Load: %v\n%s", err, tt.doc)
			}
			want := []Account{base("alice", tt.want)}
			if tt.wantSecond != nil {
				want = append(want, base("alice", tt.wantSecond))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestAccountsDoNotShareMaps guards against inherited params leaking
// between users when a caller edits one account.
func TestAccountsDoNotShareMaps(t *testing.T) {
	doc := "type: oauth_client_credentials\nurl: https://a.example/t\nparams: {p: v}\nresource: [https://r.example/]\n" +
		"users: [{username: a, client_id: i, client_secret: s}, {username: b, client_id: i, client_secret: s}]\n"
	got, err := Load([]byte(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	got[0].Params["p"] = "changed"
	got[0].Resource[0] = "changed"
	if got[1].Params["p"] != "v" || got[1].Resource[0] != "https://r.example/" {
		t.Fatal("accounts share inherited maps or slices")
	}
}

type issueCase struct {
	name   string
	doc    string
	env    map[string]string
	field  string // Issue.Field
	at     string // marker whose position the issue must have; "" for line 0
	says   string // substring of the message
	atLine int    // use instead of at when the marker is ambiguous
}

var issueCases = []issueCase{
	// shapes
	{name: "empty document", doc: "", says: "document is empty"},
	{name: "comment only", doc: "# nothing\n", says: "preset:"},
	{name: "root list", doc: "- type: oauth_client_credentials\n", at: "-", says: "put it under `preset:`"},
	{name: "root scalar", doc: "hello\n", at: "hello", says: "single preset map"},
	{name: "no shape key", doc: "foo: 1\n", at: "foo", says: "none of the keys preset, presets, type, parameters or api"},
	{name: "shape key typo", doc: "presetz: []\n", field: "presetz", at: "presetz", says: "did you mean `preset`?"},
	{name: "unknown top-level key", doc: "extra: 1\n" + one("", ""), field: "extra", at: "extra", says: "Keys allowed here: preset, $schema"},
	{name: "empty preset list", doc: "preset: []\n", field: "preset", at: "[]", says: "preset list is empty"},
	{name: "null preset list", doc: "preset:\n", field: "preset", at: "preset", says: "preset list is empty"},
	{name: "preset list is a map", doc: "preset: {type: oauth_client_credentials}\n", field: "preset", at: "{", says: "expected a list of presets, found a map"},
	{name: "preset is a string", doc: "preset: [x]\n", field: "preset[0]", at: "x", says: "found a string"},
	{name: "two documents", doc: one("", "") + "---\nfoo: 1\n", at: "foo", says: "more than one YAML document"},
	{name: "syntax error", doc: "preset: [\n  - a: b\n", atLine: 1, says: "YAML syntax error"},
	{name: "bad indentation", doc: "preset:\n  - type: x\n   url: y\n", atLine: 3, says: "YAML syntax error"},

	// preset fields
	{name: "type missing", doc: strings.Replace(one("", ""), "type: oauth_client_credentials", "name: x", 1), field: "preset[0].type", at: "name: x", says: "add type: oauth_client_credentials"},
	{name: "type unsupported", doc: strings.Replace(one("", "bogus: 1"), "type: oauth_client_credentials", "type: oauth_user_password", 1), field: "preset[0].type", at: "oauth_user_password", says: "only handles type: oauth_client_credentials"},
	{name: "type is a list", doc: strings.Replace(one("", ""), "type: oauth_client_credentials", "type: [a]", 1), field: "preset[0].type", at: "[a]", says: "expected a string, found a list"},
	{name: "url missing", doc: strings.Replace(one("", ""), "url: https://auth.example.com/token", "name: n", 1), field: "preset[0].url", at: "type:", says: "url is missing"},
	{name: "url relative", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "/token", 1), field: "preset[0].url", at: "/token", says: "must start with https://"},
	{name: "url ftp", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "ftp://auth.example.com/token", 1), field: "preset[0].url", at: "ftp:", says: "must start with https://"},
	{name: "url no host", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "https:///token", 1), field: "preset[0].url", at: "https:", says: "no host"},
	{name: "url fragment", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "https://auth.example.com/token#x", 1), field: "preset[0].url", at: "https:", says: "#fragment"},
	{name: "url user info", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "https://u:p@auth.example.com/token", 1), field: "preset[0].url", at: "https:", says: "user name or password"},
	{name: "url plain http", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "http://auth.example.com/token", 1), field: "preset[0].url", at: "http:", says: "insecure: true"},
	{name: "url plain http to lookalike", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "http://localhost.example.com/token", 1), field: "preset[0].url", at: "http:", says: "insecure: true"},
	{name: "url not parsable", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "'https://a b/%zz'", 1), field: "preset[0].url", at: "'https", says: "not a valid URL"},
	{name: "insecure not bool", doc: one("insecure: 'yes'", ""), field: "preset[0].insecure", at: "'yes'", says: "expected true or false"},
	{name: "users missing", doc: "type: oauth_client_credentials\nurl: https://a.example/t\n", field: "preset[0].users", at: "type", says: "users is missing"},
	{name: "users empty", doc: "type: oauth_client_credentials\nurl: https://a.example/t\nusers: []\n", field: "preset[0].users", at: "[]", says: "users is empty"},
	{name: "users is a map", doc: "type: oauth_client_credentials\nurl: https://a.example/t\nusers: {username: a}\n", field: "preset[0].users", at: "{", says: "expected a list of users, found a map"},
	{name: "user is a string", doc: "type: oauth_client_credentials\nurl: https://a.example/t\nusers: [alice]\n", field: "preset[0].users[0]", at: "alice", says: "expected a user"},
	{name: "user key on preset", doc: one("client_id: x", ""), field: "preset[0].client_id", at: "client_id: x", says: "is set per user"},
	{name: "preset key on user", doc: one("", "url: https://x.example/"), field: "preset[0].users[0].url", at: "url: https://x", says: "is set on the preset"},
	{name: "user key typo on preset", doc: one("scope: x", ""), field: "preset[0].scope", at: "scope: x", says: "did you mean `scopes`? It is set per user"},

	// user fields
	{name: "username missing", doc: strings.Replace(one("", ""), "username: alice", "scopes: []", 1), field: "preset[0].users[0].username", at: "scopes", says: "username is missing"},
	{name: "client_id missing", doc: strings.Replace(one("", ""), "client_id: app", "scopes: []", 1), field: "preset[0].users[0].client_id", at: "username", says: "client_id is missing"},
	{name: "client_secret missing", doc: strings.Replace(one("", ""), "client_secret: s3cr3t", "scopes: []", 1), field: "preset[0].users[0].client_secret", at: "username", says: "client_secret is missing"},
	{name: "client_secret null", doc: strings.Replace(one("", ""), "client_secret: s3cr3t", "client_secret:", 1), field: "preset[0].users[0].client_secret", at: "client_secret", says: "client_secret is empty"},
	{name: "client_secret empty", doc: strings.Replace(one("", ""), "client_secret: s3cr3t", "client_secret: ''", 1), field: "preset[0].users[0].client_secret", at: "''", says: "client_secret is empty"},
	{name: "client_secret is a map", doc: strings.Replace(one("", ""), "client_secret: s3cr3t", "client_secret: {a: b}", 1), field: "preset[0].users[0].client_secret", at: "{a", says: "expected a string, found a map"},
	{name: "duplicate username in preset", doc: one("", "") + "      - {username: alice, client_id: b, client_secret: c}\n", field: "preset[0].users[1].username", at: "alice, client_id", says: "already used by preset[0].users[0].username"},
	{name: "duplicate username across presets", doc: one("", "") + "  - {type: oauth_client_credentials, url: 'https://b.example/t', users: [{username: alice, client_id: b, client_secret: c}]}\n",
		field: "preset[1].users[0].username", at: "alice, client_id", says: "already used by preset[0].users[0].username"},
	{name: "scopes as spaced string", doc: one("", "scopes: read write"), field: "preset[0].users[0].scopes", at: "read write", says: "not a space-separated string"},
	{name: "scopes as one string", doc: one("", "scopes: read"), field: "preset[0].users[0].scopes", at: "read", says: "not a single string"},
	{name: "scopes as map", doc: one("", "scopes: {a: b}"), field: "preset[0].users[0].scopes", at: "{a", says: "expected a list of scopes, found a map"},
	{name: "scope with space", doc: one("", "scopes: [ok, 'a b']"), field: "preset[0].users[0].scopes[1]", at: "'a b'", says: "contains a space"},
	{name: "scope with quote", doc: one("", "scopes: [ok, 'a\"b']"), field: "preset[0].users[0].scopes[1]", at: "'a", says: "RFC 6749"},
	{name: "scope with backslash", doc: one("", "scopes:\n  - ok\n  - 'a\\b'"), field: "preset[0].users[0].scopes[1]", at: "'a", says: "RFC 6749"},
	{name: "scope non-ascii", doc: one("", "scopes: [écrire]"), field: "preset[0].users[0].scopes[0]", at: "écrire", says: "printable ASCII"},
	{name: "empty scope entry", doc: one("", "scopes:\n  -\n  - a"), field: "preset[0].users[0].scopes[0]", atLine: 9, says: "list entry is empty"},

	// headers and cookies
	{name: "headers not a map", doc: one("", "headers: [a]"), field: "preset[0].users[0].headers", at: "[a]", says: "expected a map of names to values"},
	{name: "header bad name", doc: one("", "headers: {'X Team': a}"), field: `preset[0].users[0].headers."X Team"`, at: "'X Team'", says: "header name may only contain"},
	{name: "header colon in name", doc: one("", "headers: {'X:Team': a}"), field: `preset[0].users[0].headers.X:Team`, at: "'X:Team'", says: "no spaces or colons"},
	{name: "header authorization", doc: one("", "headers:\n  authorization: Bearer x"), field: "preset[0].users[0].headers.authorization", at: "authorization", says: "auth_method: client_secret_post"},
	{name: "header cookie", doc: one("", "headers:\n  Cookie: a=b"), field: "preset[0].users[0].headers.Cookie", at: "Cookie", says: "put each cookie there"},
	{name: "header content-type", doc: one("", "headers:\n  content-type: text/plain"), field: "preset[0].users[0].headers.content-type", at: "content-type", says: "form-encoded"},
	{name: "header content-length", doc: one("", "headers:\n  Content-Length: 3"), field: "preset[0].users[0].headers.Content-Length", at: "Content-Length", says: "cctoken sets Content-Length"},
	{name: "header host", doc: one("", "headers:\n  HOST: x"), field: "preset[0].users[0].headers.HOST", at: "HOST", says: "takes Host from url"},
	{name: "header value newline", doc: one("", "headers:\n  X-A: \"a\\r\\nInjected: b\""), field: "preset[0].users[0].headers.X-A", at: "X-A", says: "line break"},
	{name: "header value NUL", doc: one("", "headers:\n  X-A: \"a\\0b\""), field: "preset[0].users[0].headers.X-A", at: "X-A", says: "control character"},
	{name: "header twice", doc: one("", "headers:\n  X-A: a\n  x-a: b"), field: "preset[0].users[0].headers.x-a", at: "x-a", says: "also set as X-A"},
	{name: "header value is a list", doc: one("", "headers:\n  X-A: [a]"), field: "preset[0].users[0].headers.X-A", at: "[a]", says: "expected a string, found a list"},
	{name: "cookie bad name", doc: one("", "cookies: {'a=b': c}"), field: "preset[0].users[0].cookies.a=b", at: "'a=b'", says: "cookie name"},
	{name: "cookie value space", doc: one("", "cookies: {s: 'a b'}"), field: "preset[0].users[0].cookies.s", at: "s: '", says: "percent-encode it"},
	{name: "cookie value semicolon", doc: one("", "cookies: {s: 'a;b'}"), field: "preset[0].users[0].cookies.s", at: "s: '", says: "percent-encode it"},
	{name: "cookie value quote", doc: one("", "cookies: {s: '\"ab\"'}"), field: "preset[0].users[0].cookies.s", at: "s: '", says: "percent-encode it"},

	// params
	{name: "param grant_type", doc: one("params: {grant_type: password}", ""), field: "preset[0].params.grant_type", at: "grant_type", says: "always sends grant_type=client_credentials"},
	{name: "param client_id", doc: one("params: {client_id: x}", ""), field: "preset[0].params.client_id", at: "client_id: x", says: "set client_id on the user"},
	{name: "param client_secret", doc: one("", "params: {client_secret: x}"), field: "preset[0].users[0].params.client_secret", at: "client_secret: x", says: "set client_secret on the user"},
	{name: "param scope", doc: one("", "params: {Scope: x}"), field: "preset[0].users[0].params.Scope", at: "Scope", says: "use the scopes list"},
	{name: "param audience", doc: one("params: {audience: x}", ""), field: "preset[0].params.audience", at: "audience", says: "use the audience field"},
	{name: "param resource", doc: one("params: {resource: x}", ""), field: "preset[0].params.resource", at: "resource", says: "use the resource list"},
	{name: "params not a map", doc: one("params: a=b", ""), field: "preset[0].params", at: "a=b", says: "expected a map"},

	// settings
	{name: "auth_method unknown", doc: one("auth_method: client_secret_magic", ""), field: "preset[0].auth_method", at: "client_secret_magic", says: "client_secret_basic"},
	{name: "resource relative", doc: one("resource: [/api]", ""), field: "preset[0].resource[0]", at: "/api", says: "absolute URI"},
	{name: "resource fragment", doc: one("", "resource: ['https://api.example.com/#x']"), field: "preset[0].users[0].resource[0]", at: "'https://api", says: "#fragment"},
	{name: "resource as string", doc: one("resource: https://api.example.com/", ""), field: "preset[0].resource", at: "https://api", says: "expected a list of resource URIs, found a string"},
	{name: "refresh_skew negative", doc: one("refresh_skew: -5s", ""), field: "preset[0].refresh_skew", at: "-5s", says: "must not be negative"},
	{name: "refresh_skew negative number", doc: one("", "refresh_skew: -1"), field: "preset[0].users[0].refresh_skew", at: "-1", says: "must not be negative"},
	{name: "refresh_skew no unit", doc: one("refresh_skew: '30'", ""), field: "preset[0].refresh_skew", at: "'30'", says: "not a valid duration"},
	{name: "refresh_skew bool", doc: one("refresh_skew: true", ""), field: "preset[0].refresh_skew", at: "true", says: "expected a duration"},
	{name: "refresh_skew huge", doc: one("refresh_skew: 99999999999", ""), field: "preset[0].refresh_skew", at: "99999999999", says: "too large"},
	{name: "default_ttl zero", doc: one("default_ttl: 0s", ""), field: "preset[0].default_ttl", at: "0s", says: "more than zero"},
	{name: "refresh_ahead zero", doc: one("refresh_ahead: 0", ""), field: "preset[0].refresh_ahead", at: "0\n", says: "more than 0 and at most 1"},
	{name: "refresh_ahead above one", doc: one("", "refresh_ahead: 1.5"), field: "preset[0].users[0].refresh_ahead", at: "1.5", says: "more than 0 and at most 1"},
	{name: "refresh_ahead string", doc: one("refresh_ahead: '0.8'", ""), field: "preset[0].refresh_ahead", at: "'0.8'", says: "expected a number"},
	{name: "refresh_ahead nan", doc: one("refresh_ahead: .nan", ""), field: "preset[0].refresh_ahead", at: ".nan", says: "expected a number"},

	// unknown keys
	{name: "unknown user key", doc: one("", "client-secret: x"), field: "preset[0].users[0].client-secret", at: "client-secret", says: "did you mean `client_secret`?"},
	{name: "unknown key no suggestion", doc: one("", "zzzzzz: 1"), field: "preset[0].users[0].zzzzzz", at: "zzzzzz", says: "remove it. Keys allowed here: username, client_id"},
	{name: "duplicate key", doc: one("", "username: bob"), field: "preset[0].users[0].username", at: "username: bob", says: "more than once (first on line 5)"},
	{name: "non-string key", doc: one("", "*k : 1"), field: "preset[0].users[0]", at: "*k", says: "map keys must be plain strings, found an alias"},
	{name: "alias", doc: "x: &s s3\ntype: oauth_client_credentials\nurl: https://a.example/t\nusers: [{username: a, client_id: b, client_secret: *s}]\n", field: "preset[0].users[0].client_secret", at: "*s", says: "aliases"},
	{name: "merge key", doc: one("", "<<: {audience: x}"), field: "preset[0].users[0].<<", at: "<<", says: "merge keys"},

	// env references
	{name: "env missing", doc: strings.Replace(one("", ""), "s3cr3t", "${env:APP_SECRET}", 1), field: "preset[0].users[0].client_secret", at: "${env", says: "environment variable APP_SECRET is not set"},
	{name: "env empty", doc: strings.Replace(one("", ""), "s3cr3t", "${env:APP_SECRET}", 1), env: map[string]string{"APP_SECRET": ""}, field: "preset[0].users[0].client_secret", at: "${env", says: "set to an empty value"},
	{name: "env bad name", doc: strings.Replace(one("", ""), "s3cr3t", "${env:1BAD}", 1), field: "preset[0].users[0].client_secret", at: "${env", says: "the only form is a whole value ${env:NAME}"},
	{name: "env other scheme", doc: strings.Replace(one("", ""), "s3cr3t", "${file:/etc/x}", 1), field: "preset[0].users[0].client_secret", at: "${file", says: "the only form"},
	{name: "env partial value", doc: strings.Replace(one("", ""), "client_id: app", "client_id: pre-${env:ID}", 1), field: "preset[0].users[0].client_id", at: "pre-", says: "nothing before or after it"},
	{name: "env in header value missing", doc: one("", "headers: {X-Key: '${env:KEY}'}"), field: "preset[0].users[0].headers.X-Key", at: "'${env", says: "KEY is not set"},
	{name: "env header value with newline", doc: one("", "headers: {X-Key: '${env:KEY}'}"), env: map[string]string{"KEY": "a\nb"}, field: "preset[0].users[0].headers.X-Key", at: "X-Key", says: "comes from environment variable KEY"},
	{name: "env cookie value bad", doc: one("", "cookies: {c: '${env:C}'}"), env: map[string]string{"C": "a b"}, field: "preset[0].users[0].cookies.c", at: "c:", says: "percent-encode it"},
	{name: "env in url", doc: strings.Replace(one("", ""), "https://auth.example.com/token", "${env:URL}", 1), field: "preset[0].url", at: "${env", says: "only supported in client_id, client_secret"},
	{name: "env in username", doc: strings.Replace(one("", ""), "username: alice", "username: ${env:U}", 1), field: "preset[0].users[0].username", at: "${env", says: "only supported in"},
}

func TestLoadIssues(t *testing.T) {
	for _, tt := range issueCases {
		t.Run(tt.name, func(t *testing.T) {
			accts, err := Load([]byte(tt.doc), tt.env)
			if err == nil {
				t.Fatalf("Load succeeded with %+v\n%s", accts, tt.doc)
			}
			if accts != nil {
				t.Errorf("Load returned accounts with an error")
			}
			errs := issues(t, err)
			var found *Issue
			for i := range errs {
				if errs[i].Field == tt.field && strings.Contains(errs[i].Message, tt.says) {
					found = &errs[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("no issue at %q saying %q; got:\n%v\ndocument:\n%s", tt.field, tt.says, err, tt.doc)
			}
			line, col := 0, 0
			switch {
			case tt.at != "":
				line, col = where(t, tt.doc, tt.at)
			case tt.atLine != 0:
				line, col = tt.atLine, found.Column
			}
			if found.Line != line || found.Column != col {
				t.Errorf("issue at %d:%d, want %d:%d: %v", found.Line, found.Column, line, col, *found)
			}
			for _, is := range errs {
				if is.Message == internalError {
					t.Errorf("internal error: %v", err)
				}
			}
		})
	}
}

// TestOneIssueEach checks that a single mistake gives a single issue
// (no "missing" next to "did you mean", no cascade).
func TestOneIssueEach(t *testing.T) {
	for _, doc := range []string{
		strings.Replace(one("", ""), "client_secret:", "clientSecret:", 1),
		strings.Replace(one("", ""), "url:", "token_url:", 1),
		strings.Replace(one("", ""), "users:", "user:", 1),
		one("", "scope: [read]"),
		strings.Replace(one("", "bogus: 1\nscopes: 3"), "type: oauth_client_credentials", "type: basic", 1),
	} {
		errs := Lint([]byte(doc))
		if len(errs) != 1 {
			t.Errorf("got %d issues, want 1:\n%v\n%s", len(errs), errs, doc)
		}
	}
}

func TestMultipleIssues(t *testing.T) {
	doc := "preset:\n" +
		"  - type: oauth_client_credentials\n" + // 2
		"    url: http://auth.example.com/token\n" + // 3 plain http
		"    users:\n" + // 4
		"      - username: alice\n" + // 5
		"        client_id: app\n" + // 6 client_secret missing (reported at 5)
		"        scopes: read write\n" + // 7
		"        headers: {Authorization: x}\n" + // 8
		"      - username: alice\n" + // 9 duplicate
		"        client_id: app\n" + // 10
		"        client_secret: s\n" + // 11
		"        auth_methd: client_secret_post\n" + // 12 typo
		"  - type: oauth_client_credentials\n" + // 13 url missing
		"    users: []\n" // 14
	errs := Lint([]byte(doc))
	want := []struct {
		line  int
		field string
	}{
		{3, "preset[0].url"},
		{5, "preset[0].users[0].client_secret"},
		{7, "preset[0].users[0].scopes"},
		{8, "preset[0].users[0].headers.Authorization"},
		{9, "preset[0].users[1].username"},
		{12, "preset[0].users[1].auth_methd"},
		{13, "preset[1].url"},
		{14, "preset[1].users"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d issues, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if errs[i].Line != w.line || errs[i].Field != w.field {
			t.Errorf("issue %d = %v, want line %d field %s", i, errs[i], w.line, w.field)
		}
	}
	if _, err := Load([]byte(doc), nil); err == nil || len(issues(t, err)) != len(want) {
		t.Errorf("Load gave %v", err)
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct{ key, level, want string }{
		{"client-secret", "user", "client_secret"},
		{"clientSecret", "user", "client_secret"},
		{"CLIENT_ID", "user", "client_id"},
		{"clientid", "user", "client_id"},
		{"scope", "user", "scopes"},
		{"scoeps", "user", "scopes"},
		{"usernme", "user", "username"},
		{"header", "user", "headers"},
		{"refreshSkew", "user", "refresh_skew"},
		{"token_url", "preset", "url"},
		{"tokenUrl", "preset", "url"},
		{"endpoint", "preset", "url"},
		{"token_endpoint", "preset", "url"},
		{"user", "preset", "users"},
		{"insecur", "preset", "insecure"},
		{"typ", "preset", "type"},
		{"auth-method", "preset", "auth_method"},
		{"resources", "preset", "resource"},
		{"zzzz", "preset", ""},
		{strings.Repeat("a", 500), "preset", ""},
	}
	for _, tt := range tests {
		keys := userKeys
		if tt.level == "preset" {
			keys = presetKeys
		}
		if got := suggest(tt.key, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestEnvNames(t *testing.T) {
	doc := one("audience: ${env:AUD}\nparams: {p: '${env:P}'}", "headers: {X-A: '${env:HDR}', X-B: '${env:AUD}'}\ncookies: {c: '${env:C}'}") +
		"      - {username: bob, client_id: '${env:ID}', client_secret: '${env:SECRET}'}\n" +
		"      - {username: carl, client_id: '${env:1NO}', client_secret: 'pre${env:NOPE}'}\n"
	want := []string{"AUD", "C", "HDR", "ID", "P", "SECRET"}
	if got := EnvNames([]byte(doc)); !reflect.DeepEqual(got, want) {
		t.Errorf("EnvNames = %v, want %v", got, want)
	}
	if got := EnvNames([]byte(one("", ""))); got != nil {
		t.Errorf("EnvNames without references = %v", got)
	}
	if got := EnvNames([]byte("preset: [\n client_id: ${env:X}")); got != nil {
		t.Errorf("EnvNames on a syntax error = %v", got)
	}
}

func TestLintTreatsEnvAsPresent(t *testing.T) {
	doc := strings.Replace(one("", "headers: {X-A: '${env:HDR}'}\ncookies: {c: '${env:C}'}"), "s3cr3t", "${env:SECRET}", 1)
	if errs := Lint([]byte(doc)); errs != nil {
		t.Fatalf("Lint: %v", errs)
	}
	_, err := Load([]byte(doc), nil)
	if got := len(issues(t, err)); got != 3 {
		t.Fatalf("Load without env: %d issues, want 3: %v", got, err)
	}
	if errs := Lint([]byte(doc + "        bogus: 1\n")); len(errs) != 1 {
		t.Fatalf("Lint with a real issue: %v", errs)
	}
}

// TestCanary places a secret-looking string everywhere a value can go,
// valid or not, and checks no error text ever shows it.
func TestCanary(t *testing.T) {
	const c = "CANARY-s3cr3t-9f8e7d"
	env := map[string]string{
		"SECRET": c + "-env", "HDR": c + "-hdr\r\nX: y", "CK": c + " ck", "EMPTY": "", "ID": c + "-id",
	}
	docs := []string{
		// valid spots, with unrelated mistakes around them
		"preset:\n" +
			"  - type: oauth_client_credentials\n" +
			"    url: https://auth.example.com/token\n" +
			"    audience: " + c + "\n" +
			"    params: {extra: " + c + ", scope: " + c + ", grant_type: " + c + "}\n" +
			"    users:\n" +
			"      - username: alice\n" +
			"        client_id: ${env:ID}\n" +
			"        client_secret: " + c + "\n" +
			"        headers: {X-Secret: " + c + ", Authorization: Bearer " + c + ", 'X-Bad': \"" + c + "\\n\"}\n" +
			"        cookies: {sess: '" + c + " x', ok: " + c + "}\n" +
			"        scopes: " + c + " " + c + "\n" +
			"      - username: alice\n" +
			"        client_id: x\n" +
			"        client_secret: ${env:SECRET}\n" +
			"        headers: {X-Env: '${env:HDR}'}\n" +
			"        cookies: {e: '${env:CK}'}\n" +
			"        audience: ${env:MISSING}\n",
		// secrets in the wrong places
		"preset:\n" +
			"  - type: " + c + "\n" +
			"  - type: oauth_client_credentials\n" +
			"    url: " + c + "\n" +
			"    name: [" + c + "]\n" +
			"    insecure: " + c + "\n" +
			"    auth_method: " + c + "\n" +
			"    refresh_skew: " + c + "\n" +
			"    default_ttl: -" + c + "\n" +
			"    refresh_ahead: " + c + "\n" +
			"    resource: [" + c + ", 'https://x/#" + c + "']\n" +
			"    users:\n" +
			"      - " + c + "\n" +
			"      - username: " + c + "\n" +
			"        client_id: {" + c + ": 1}\n" +
			"        client_secret: [" + c + "]\n" +
			"        scopes: [\"" + c + " x\", '\"" + c + "']\n" +
			"        audience: pre${env:" + c + "}\n" +
			"        headers: " + c + "\n" +
			"        cookies: [" + c + "]\n" +
			"        params: {client_secret: " + c + "}\n" +
			"      - username: " + c + "\n" +
			"        client_id: ${file:" + c + "}\n" +
			"        client_secret: '${env:EMPTY}'\n" +
			"    " + "url: 'http://" + c + ".example.com/'\n",
		"type: oauth_client_credentials\nurl: 'https://u:" + c + "@a.example/t'\nusers: [{username: a, client_id: b, client_secret: c}]\n",
		"type: oauth_client_credentials\nurl: 'http://" + c + "/t'\nusers: [{username: a, client_id: b, client_secret: c}]\n",
		"type: oauth_client_credentials\nurl: 'https://a b/" + c + "%zz'\nusers: [{username: a, client_id: b, client_secret: c}]\n",
		// syntax errors around a secret
		"preset: [\n  client_secret: \"" + c + "\n",
		"client_secret: \"" + c + "\\q\"\n",
		"%YAML " + c + "\n---\na: 1\n",
		"a: !<" + c + "> x\n",
		"a: \"" + c + "\n",
		"{\"client_secret\": \"" + c + "\", \"client_secret\": 1}\n",
		"preset:\n  - client_secret: " + c + "\n    client_secret: " + c + "\n",
		c + "\n",
		"- " + c + "\n",
	}
	for i, doc := range docs {
		_, err := Load([]byte(doc), env)
		if err == nil {
			t.Errorf("doc %d loaded", i)
			continue
		}
		for _, text := range []string{err.Error(), Lint([]byte(doc)).Error()} {
			if strings.Contains(text, "CANARY") || strings.Contains(text, "9f8e7d") {
				t.Errorf("doc %d: secret in error text:\n%s", i, text)
			}
		}
		if n := len(issues(t, err)); i < 2 && n < 10 {
			t.Errorf("doc %d: only %d issues; the canary should be checked in many spots:\n%v", i, n, err)
		}
	}
}

func TestIssueString(t *testing.T) {
	is := Issue{Field: "preset[0].url", Line: 3, Column: 10, Message: "url is empty."}
	if got := is.String(); got != "line 3:10: preset[0].url: url is empty." {
		t.Errorf("String() = %q", got)
	}
	if got := (Errors{is, {Message: "x"}}).Error(); got != "line 3:10: preset[0].url: url is empty.\nx" {
		t.Errorf("Error() = %q", got)
	}
}

// TestUnknownKeyNotQuoted: an unknown key is named in an issue only when it
// looks like a key (letters, digits, '_', '-', at most 64); a secret pasted
// where a key goes comes back as "an unknown key on line N" at its map's
// path, nothing of it in the error (hosts return these errors to callers).
func TestUnknownKeyNotQuoted(t *testing.T) {
	long := strings.Repeat("A1b2C3d4", 9) // 72 key-like characters
	for _, tt := range []struct {
		name, doc, secret, field string
		line                     int
		says                     string
	}{
		{"secret as a user key", one("", "'sk_live_51H+x/y=CANARY': 1"), "sk_live_51H+x/y=CANARY", "preset[0].users[0]", 8, "remove it. Keys allowed here: username"},
		{"jwt as a user key", one("", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.c2ln: x"), "eyJhbGciOiJIUzI1NiJ9", "preset[0].users[0]", 8, "an unknown key on line 8"},
		{"long key at the preset", one(long+": 1", ""), long, "preset[0]", 4, "Keys allowed here: type"},
		{"space, close to a key", one("", "client secret: CANARY"), "client secret", "preset[0].users[0]", 8, "did you mean `client_secret`?"},
		{"space at the root", "'pre set': [CANARY]\n", "pre set", "", 1, "did you mean `preset`?"},
		{"keboola login key", strings.Replace(kbBasic, `"method": "FORM",`, `"method": "FORM", "s3cr3t/CANARY+x==": 1,`, 1), "s3cr3t/CANARY", "parameters.api.authentication.loginRequest", 9, "not supported in loginRequest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.doc), nil)
			if err == nil {
				t.Fatal("loaded")
			}
			if strings.Contains(err.Error(), tt.secret) || strings.Contains(err.Error(), "CANARY") {
				t.Fatalf("the error repeats the key:\n%v", err)
			}
			for _, is := range issues(t, err) {
				if is.Field == tt.field && is.Line == tt.line && strings.Contains(is.Message, "an unknown key on line") && strings.Contains(is.Message, tt.says) {
					return
				}
			}
			t.Fatalf("no issue at %q line %d saying %q; got:\n%v", tt.field, tt.line, tt.says, err)
		})
	}
	// A key-like key is still named, so that the author sees the typo.
	_, err := Load([]byte(one("", "client_secrett: x")), nil)
	if !strings.Contains(err.Error(), "preset[0].users[0].client_secrett: unknown key; did you mean `client_secret`?") {
		t.Fatalf("key-like unknown key: %v", err)
	}
}
