package keboola

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"

	"github.com/cctoken/cctoken/wasm/internal/yamlnode"
)

// DefaultUsername names the user of a configuration when the caller gives
// no name: a Keboola configuration has one set of credentials and no user
// names.
const DefaultUsername = "keboola"

// The auth methods a configuration maps to (the values of preset's
// auth_method).
const (
	ClientSecretBasic = "client_secret_basic"
	ClientSecretPost  = "client_secret_post"
)

// Issue is one thing in a configuration that cctoken cannot use.
type Issue struct {
	Path    string   // JSON path, e.g. parameters.api.authentication.loginRequest.method
	Node    ast.Node // where it is; nil when unknown
	Message string   // what is wrong and what is supported; never a value
}

// Value is one value of the preset and where in the configuration it came
// from.
type Value struct {
	S    string   // the value; may be a ${env:NAME} reference written in the configuration
	Path string   // JSON path of the value (for a credential, of its config entry)
	Node ast.Node // its node
	// Env, when set, is the environment variable that YAML(EnvRefs)
	// writes as a reference instead of S.
	Env string
}

// Pair is a named value: a header or a form parameter.
type Pair struct {
	Name string
	Value
}

// Preset is the oauth_client_credentials preset a configuration means,
// with one user.
type Preset struct {
	Username     string
	URL          Value  // the token endpoint, resolved against api.baseUrl
	AuthMethod   string // ClientSecretBasic or ClientSecretPost
	ClientID     Value
	ClientSecret Value
	Scope        *Value // the scope parameter, space-separated
	Audience     *Value
	Resource     *Value
	Headers      []Pair // login request headers other than Authorization, in document order
	Params       []Pair // other login request params, in document order

	idSecret bool  // the client id came from a #-prefixed attribute
	auth     Value // where the auth method was read
	headers  Value // loginRequest.headers
	params   Value // loginRequest.params
	fallback Value // api.authentication, the origin of everything else
	origins  map[string]Value
}

// Recognise reports whether root (a document's top node) looks like a
// Keboola configuration: a map with a parameters or api key.
func Recognise(root ast.Node) bool {
	kv, ok := pairs(unwrap(root))
	if !ok {
		return false
	}
	for _, p := range kv {
		if p == nil {
			continue
		}
		if s, ok := scalar(unwrap(p.Key)); ok && (s == "parameters" || s == "api") {
			return true
		}
	}
	return false
}

// Read maps a configuration's client-credentials login onto a preset whose
// user is called username (DefaultUsername when empty). It returns every
// issue it finds, and a nil preset when there is any.
func Read(root ast.Node, username string) (*Preset, []Issue) {
	r := &reader{}
	p := r.document(root)
	if len(r.issues) > 0 || p == nil {
		if len(r.issues) == 0 {
			r.add(root, "", "this is not a Keboola generic-extractor configuration.")
		}
		return nil, r.issues
	}
	if username == "" {
		username = DefaultUsername
	}
	p.Username = username
	// The secret always becomes a variable in a printed preset, and so does
	// a client id that Keboola keeps encrypted (a #-prefixed attribute).
	if !isRef(p.ClientSecret.S) {
		p.ClientSecret.Env = EnvName(username, "CLIENT_SECRET")
	}
	if p.idSecret && !isRef(p.ClientID.S) {
		p.ClientID.Env = EnvName(username, "CLIENT_ID")
	}
	p.origins = map[string]Value{}
	p.emit(Literal, p.origins)
	return p, nil
}

// EnvName is the environment variable a printed preset reads a credential
// from: CCTOKEN_<USERNAME>_<what>, with every character of the username
// other than a letter or digit written as '_'.
func EnvName(username, what string) string {
	var b strings.Builder
	b.WriteString("CCTOKEN_")
	for _, r := range strings.ToUpper(username) {
		if 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	b.WriteString(what)
	return b.String()
}

func isRef(s string) bool { return strings.Contains(s, "${") }

// Origin maps a field path of the preset document YAML writes (such as
// preset[0].users[0].client_secret or preset[0].users[0].scopes[1]) to the
// JSON path and node in the configuration it came from. Paths it does not
// know map to api.authentication.
func (p *Preset) Origin(field string) (string, ast.Node) {
	for f := field; f != ""; f = parent(f) {
		if v, ok := p.origins[f]; ok {
			return v.Path, v.Node
		}
	}
	return p.fallback.Path, p.fallback.Node
}

func parent(path string) string {
	i := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
	if i < 0 {
		return ""
	}
	return path[:i]
}

// What is supported, for the messages about everything else.
const (
	basicShape  = `concat("Basic ", base64_encode(concat({"attr": ID}, ":", {"attr": SECRET})))`
	bearerShape = `concat("Bearer ", {"response": "access_token"})`
	plainOnly   = `write the value itself: cctoken reads attr references only for the client id and secret, functions only in the Basic Auth header ` +
		basicShape + ` and in apiRequest's ` + bearerShape + `, and the response reference only there.`
	credWant = `write {"attr": NAME} naming a value in config, or the value itself.`
)

type reader struct{ issues []Issue }

func (r *reader) add(n ast.Node, path, msg string) {
	r.issues = append(r.issues, Issue{Path: path, Node: n, Message: msg})
}

// field is one key of a map, with its value and the value's path.
type field struct {
	name     string
	key, val ast.Node
	path     string
	parent   string // the path of the object holding it
}

// value unwraps n and refuses aliases.
func (r *reader) value(n ast.Node, path string) (ast.Node, bool) {
	n = unwrap(n)
	if _, ok := n.(*ast.AliasNode); ok {
		r.add(n, path, "YAML aliases (*name) are not supported; write the value out in full.")
		return nil, false
	}
	return n, true
}

// object reads a map, reporting repeated and non-string keys. what
// describes the map for the message when n is something else.
func (r *reader) object(n ast.Node, path, what string) (map[string]field, []field, bool) {
	n, ok := r.value(n, path)
	if !ok {
		return nil, nil, false
	}
	if _, ok := pairs(n); !ok {
		r.add(n, path, "expected "+what+", found "+kind(n)+".")
		return nil, nil, false
	}
	known := map[string]field{}
	var all []field
	parent := path
	yamlnode.EachKey(n, path, r.add, func(name, path string, key, val ast.Node) {
		f := field{name: name, key: key, val: val, path: path, parent: parent}
		known[name] = f
		all = append(all, f)
	})
	return known, all, true
}

// get returns a key's field; null counts as absent.
func get(fs map[string]field, key string) (field, bool) {
	f, ok := fs[key]
	if !ok || isNull(unwrap(f.val)) {
		return f, false
	}
	return f, true
}

// only reports the keys of fs that are not in allowed.
func (r *reader) only(fs []field, allowed []string, msg string) {
	for _, f := range fs {
		found := false
		for _, a := range allowed {
			found = found || f.name == a
		}
		if !found {
			line, _ := yamlnode.Position(f.key)
			if path, lead := yamlnode.UnknownKey(f.parent, f.name, line); path != f.path {
				r.add(f.key, path, lead+": "+msg)
			} else {
				r.add(f.key, f.path, msg)
			}
		}
	}
}

// A term is what a Keboola value can be: a plain value, a function, an attr
// reference (a config value) or a response reference (a field of the login
// response).
type termKind int

const (
	literal termKind = iota
	function
	attr
	response
	other // a list, or a map of none of these kinds
)

type term struct {
	kind termKind
	n    ast.Node
	path string
	s    string // the literal; the function, attr or response name
	args []ast.Node
}

func (r *reader) term(n ast.Node, path string) (term, bool) {
	n, ok := r.value(n, path)
	if !ok {
		return term{}, false
	}
	t := term{n: n, path: path}
	if isNull(n) {
		return t, true
	}
	if s, ok := scalar(n); ok {
		t.s = s
		return t, true
	}
	if _, ok := pairs(n); !ok {
		t.kind = other
		return t, true
	}
	fs, all, ok := r.object(n, path, "a value")
	if !ok {
		return term{}, false
	}
	name := func(key string) (string, bool) {
		f := fs[key]
		v, ok := r.value(f.val, f.path)
		if !ok {
			return "", false
		}
		s, ok := scalar(v)
		if !ok {
			r.add(v, f.path, "expected a name, found "+kind(v)+".")
		}
		return s, ok
	}
	switch {
	case hasKey(fs, "function"):
		t.kind = function
		r.only(all, []string{"function", "args"}, `a Keboola function is {"function": NAME, "args": [...]}; remove this key.`)
		if t.s, ok = name("function"); !ok {
			return term{}, false
		}
		f, ok := fs["args"]
		if !ok {
			r.add(n, join(path, "args"), "args is missing; a function needs its arguments as a list.")
			return term{}, false
		}
		v, ok := r.value(f.val, f.path)
		if !ok {
			return term{}, false
		}
		if t.args, ok = items(v); !ok {
			r.add(v, f.path, "expected a list of arguments, found "+kind(v)+".")
			return term{}, false
		}
	case hasKey(fs, "attr"):
		t.kind = attr
		r.only(all, []string{"attr"}, `an attr reference is {"attr": NAME} alone; remove this key.`)
		if t.s, ok = name("attr"); !ok {
			return term{}, false
		}
	case hasKey(fs, "response"):
		t.kind = response
		r.only(all, []string{"response"}, `a response reference is {"response": NAME} alone; remove this key.`)
		if t.s, ok = name("response"); !ok {
			return term{}, false
		}
	default:
		t.kind = other
	}
	return t, true
}

func hasKey(fs map[string]field, k string) bool { _, ok := fs[k]; return ok }

// unsupported reports a term that is not what its place takes; want says
// what is.
func (r *reader) unsupported(t term, want string) {
	var what string
	switch t.kind {
	case literal:
		what = "a plain value is not supported here"
	case function:
		what = "this function is not supported here"
	case attr:
		what = "an attr reference is not supported here"
	case response:
		what = "a response reference is not supported here"
	default:
		what = kind(t.n) + " is not supported here"
	}
	r.add(t.n, t.path, what+"; "+want)
}

// fn checks that t is the function name with n arguments.
func (r *reader) fn(t term, name string, n int, want string) bool {
	if t.kind != function || t.s != name {
		r.unsupported(t, want)
		return false
	}
	if len(t.args) != n {
		r.add(t.n, join(t.path, "args"), "this "+name+" must have exactly "+strconv.Itoa(n)+" arguments; "+want)
		return false
	}
	return true
}

// exact checks that argument i of t is the plain text s.
func (r *reader) exact(t term, i int, s, want string) bool {
	a, ok := r.term(t.args[i], index(join(t.path, "args"), i))
	if !ok {
		return false
	}
	if a.kind != literal || a.s != s {
		r.add(a.n, a.path, "expected the text "+quote(s)+" here; "+want)
		return false
	}
	return true
}

func quote(s string) string { return `"` + s + `"` }

// checked refuses values that cannot be sent as they are.
func (r *reader) checked(v Value) (Value, bool) {
	switch {
	case strings.HasPrefix(v.S, "KBC::"):
		r.add(v.Node, v.Path, "this value is still encrypted by Keboola (it starts with KBC::), and cctoken cannot decrypt it; "+
			"replace it with ${env:NAME} and set the environment variable NAME to the decrypted value (or write the decrypted value here).")
		return Value{}, false
	case !utf8.ValidString(v.S):
		r.add(v.Node, v.Path, "this value is not valid UTF-8 text; fix its encoding.")
		return Value{}, false
	}
	return v, true
}

// plain reads a place that takes only a plain value.
func (r *reader) plain(n ast.Node, path string) (Value, bool) {
	t, ok := r.term(n, path)
	if !ok {
		return Value{}, false
	}
	if t.kind != literal {
		r.unsupported(t, plainOnly)
		return Value{}, false
	}
	return r.checked(Value{S: t.s, Path: path, Node: t.n})
}

// config is the configuration's config section, where attr references
// point.
type config struct {
	path    string
	node    ast.Node
	fields  map[string]field
	present bool
}

// credential reads a client id or secret: an attr reference or a plain
// value. encrypted reports an attr whose name starts with '#', which
// Keboola encrypts.
func (r *reader) credential(n ast.Node, path string, c *config) (v Value, encrypted, ok bool) {
	t, ok := r.term(n, path)
	if !ok {
		return Value{}, false, false
	}
	switch t.kind {
	case literal:
		v, ok = r.checked(Value{S: t.s, Path: path, Node: t.n})
		return v, false, ok
	case attr:
		if !c.present {
			r.add(t.n, path, "this attr reference points into config, but the configuration has no config section; add "+c.path+" holding "+quote(t.s)+".")
			return Value{}, false, false
		}
		f, found := c.fields[t.s]
		if !found {
			r.add(t.n, path, "this attr reference names "+join(c.path, t.s)+", which does not exist; add it to config, or fix the name.")
			return Value{}, false, false
		}
		cv, ok := r.value(f.val, f.path)
		if !ok {
			return Value{}, false, false
		}
		var s string
		if !isNull(cv) {
			if s, ok = scalar(cv); !ok {
				r.add(cv, f.path, "expected a string, found "+kind(cv)+"; the client id and secret are text.")
				return Value{}, false, false
			}
		}
		v, ok = r.checked(Value{S: s, Path: f.path, Node: cv})
		return v, strings.HasPrefix(t.s, "#"), ok
	}
	r.unsupported(t, credWant)
	return Value{}, false, false
}

// document finds api and config, at the top or under parameters.
func (r *reader) document(root ast.Node) *Preset {
	fs, _, ok := r.object(root, "", "a Keboola configuration: a map with parameters, or with api and config")
	if !ok {
		return nil
	}
	base, top, at := "", fs, unwrap(root)
	if f, present := fs["parameters"]; present {
		base = "parameters"
		if top, _, ok = r.object(f.val, f.path, "the configuration parameters: a map with api and config"); !ok {
			return nil
		}
		at = unwrap(f.val)
	}
	apiF, ok := get(top, "api")
	if !ok {
		r.add(at, join(base, "api"), "api is missing; cctoken reads a Keboola generic-extractor configuration's client-credentials login from api.authentication.")
		return nil
	}
	api, _, ok := r.object(apiF.val, apiF.path, "the api section: a map with baseUrl and authentication")
	if !ok {
		return nil
	}
	c := &config{path: join(base, "config"), node: at}
	if f, present := get(top, "config"); present {
		if c.fields, _, c.present = r.object(f.val, f.path, "the config section: a map of values"); !c.present {
			return nil
		}
		c.node = unwrap(f.val)
	}
	authF, ok := get(api, "authentication")
	if !ok {
		r.add(unwrap(apiF.val), join(apiF.path, "authentication"), "authentication is missing; cctoken reads the client-credentials login (type login) from api.authentication.")
		return nil
	}
	p := &Preset{}
	r.authentication(p, authF, apiF, api, c)
	return p
}

func (r *reader) authentication(p *Preset, f field, apiF field, api map[string]field, c *config) {
	fs, all, ok := r.object(f.val, f.path, "the authentication: a map with type login, loginRequest and apiRequest")
	if !ok {
		return
	}
	node := unwrap(f.val)
	p.fallback = Value{Path: f.path, Node: node}
	typ, ok := get(fs, "type")
	if !ok {
		r.add(node, join(f.path, "type"), `type is missing; cctoken reads only the client-credentials login, "type": "login".`)
		return
	}
	if v, ok := r.plain(typ.val, typ.path); !ok {
		return
	} else if v.S != "login" {
		r.add(v.Node, v.Path, `this authentication type is not supported; cctoken reads only the OAuth 2.0 client-credentials login of Keboola's template, "type": "login".`)
		return
	}
	r.only(all, []string{"type", "format", "loginRequest", "apiRequest", "expires"},
		"this key is not supported in a client-credentials login; cctoken reads type, format, loginRequest, apiRequest and expires.")
	if fm, ok := get(fs, "format"); ok {
		if v, ok := r.plain(fm.val, fm.path); ok && v.S != "json" {
			r.add(v.Node, v.Path, `format must be "json" (or left out): a token endpoint answers with JSON (RFC 6749 §5.1).`)
		}
	}
	if ex, ok := get(fs, "expires"); ok {
		r.expires(ex)
	}
	if lr, ok := get(fs, "loginRequest"); !ok {
		r.add(node, join(f.path, "loginRequest"), "loginRequest is missing; it describes the token request: endpoint, method FORM, params with grant_type client_credentials.")
	} else {
		r.loginRequest(p, lr, apiF, api, c)
	}
	if ar, ok := get(fs, "apiRequest"); !ok {
		r.add(node, join(f.path, "apiRequest"), "apiRequest is missing; add apiRequest.headers.Authorization as "+bearerShape+", which is how cctoken uses the token.")
	} else {
		r.apiRequest(ar)
	}
}

// expires accepts only what cctoken does anyway: the lifetime from the
// response's expires_in.
func (r *reader) expires(f field) {
	const want = `cctoken takes each token's lifetime from expires_in in the token response (and assumes default_ttl when there is none); remove expires, or write {"response": "expires_in", "relative": true}.`
	fs, all, ok := r.object(f.val, f.path, "an expires map; "+want)
	if !ok {
		return
	}
	resp, okR := get(fs, "response")
	rel, okL := get(fs, "relative")
	good := okR && okL && len(all) == 2
	if good {
		s, _ := scalar(unwrap(resp.val))
		b, isBool := unwrap(rel.val).(*ast.BoolNode)
		good = s == "expires_in" && isBool && b != nil && b.Value
	}
	if !good {
		r.add(unwrap(f.val), f.path, "this expires is not supported; "+want)
	}
}

func (r *reader) loginRequest(p *Preset, f field, apiF field, api map[string]field, c *config) {
	fs, all, ok := r.object(f.val, f.path, "the login request: a map with endpoint, method, headers and params")
	if !ok {
		return
	}
	node := unwrap(f.val)
	r.only(all, []string{"endpoint", "method", "headers", "params"},
		"this key is not supported in loginRequest; cctoken reads endpoint, method, headers and params.")
	if e, ok := get(fs, "endpoint"); !ok {
		r.add(node, join(f.path, "endpoint"), "endpoint is missing; set it to the token endpoint URL, e.g. https://auth.example.com/oauth/token.")
	} else {
		p.URL, _ = r.endpoint(e, apiF, api)
	}
	if m, ok := get(fs, "method"); !ok {
		r.add(node, join(f.path, "method"), `method is missing (Keboola then sends GET); a token request is a form POST, so set "method": "FORM".`)
	} else if v, ok := r.plain(m.val, m.path); ok && !strings.EqualFold(v.S, "FORM") {
		r.add(v.Node, v.Path, `method must be "FORM": a token request is a form POST (RFC 6749 §4.4.2); Keboola's GET puts the parameters in the URL and its POST sends JSON.`)
	}
	var basic *[2]Value // id, secret from the Authorization header
	var basicEnc, hasAuthorization bool
	if h, ok := get(fs, "headers"); ok {
		_, hs, ok := r.object(h.val, h.path, "a map of header names to values")
		if ok {
			p.headers = Value{Path: h.path, Node: unwrap(h.val)}
			for _, x := range hs {
				if strings.EqualFold(x.name, "Authorization") {
					hasAuthorization = true
					if id, sec, enc, ok := r.basic(x, c); ok {
						basic, basicEnc = &[2]Value{id, sec}, enc
						p.auth = Value{Path: x.path, Node: unwrap(x.val)}
					}
					continue
				}
				if v, ok := r.plain(x.val, x.path); ok {
					p.Headers = append(p.Headers, Pair{x.name, v})
				}
			}
		}
	}
	pf, ok := get(fs, "params")
	if !ok {
		r.add(node, join(f.path, "params"), `params is missing; a token request needs at least "grant_type": "client_credentials".`)
		return
	}
	_, ps, ok := r.object(pf.val, pf.path, "a map of parameter names to values")
	if !ok {
		return
	}
	pnode := unwrap(pf.val)
	p.params = Value{Path: pf.path, Node: pnode}
	var id, secret *field
	grant := false
	for _, x := range ps {
		switch x.name {
		case "client_id", "client_secret":
			if basic != nil {
				r.add(x.key, x.path, "the Authorization header already sends the client id and secret (Basic Auth); a request must use one method only (RFC 6749 §2.3), so remove this parameter.")
				continue
			}
			if x.name == "client_id" {
				id = &x
			} else {
				secret = &x
			}
		case "grant_type":
			grant = true
			if v, ok := r.plain(x.val, x.path); ok && v.S != "client_credentials" {
				r.add(v.Node, v.Path, `grant_type must be "client_credentials": cctoken gets client-credentials tokens only.`)
			}
		case "scope":
			if v, ok := r.plain(x.val, x.path); ok {
				p.Scope = &v
			}
		case "audience":
			if v, ok := r.plain(x.val, x.path); ok {
				p.Audience = &v
			}
		case "resource":
			if v, ok := r.plain(x.val, x.path); ok {
				p.Resource = &v
			}
		default:
			if v, ok := r.plain(x.val, x.path); ok {
				p.Params = append(p.Params, Pair{x.name, v})
			}
		}
	}
	if !grant {
		r.add(pnode, join(pf.path, "grant_type"), `grant_type is missing; add "grant_type": "client_credentials".`)
	}
	switch {
	case basic != nil:
		p.AuthMethod = ClientSecretBasic
		p.ClientID, p.ClientSecret = basic[0], basic[1]
		p.idSecret = basicEnc
	case id != nil || secret != nil:
		p.AuthMethod = ClientSecretPost
		p.auth = p.params
		if id == nil {
			r.add(pnode, join(pf.path, "client_id"), `client_id is missing; add "client_id": {"attr": NAME} next to client_secret.`)
		} else if v, enc, ok := r.credential(id.val, id.path, c); ok {
			p.ClientID, p.idSecret = v, enc
		}
		if secret == nil {
			r.add(pnode, join(pf.path, "client_secret"), `client_secret is missing; add "client_secret": {"attr": "#NAME"} next to client_id.`)
		} else if v, _, ok := r.credential(secret.val, secret.path, c); ok {
			p.ClientSecret = v
		}
	case !hasAuthorization:
		r.add(node, f.path, "the login request sends no client credentials; use Keboola's Basic Auth shape (headers.Authorization as "+basicShape+
			") or its Post Form shape (client_id and client_secret in params, as {\"attr\": NAME}).")
	}
}

// endpoint reads the token endpoint, resolving a relative one against
// api.baseUrl. Whether the result is a usable URL is for the preset
// loader to say.
func (r *reader) endpoint(f field, apiF field, api map[string]field) (Value, bool) {
	v, ok := r.plain(f.val, f.path)
	if !ok {
		return Value{}, false
	}
	u, err := url.Parse(v.S)
	if err != nil || u.IsAbs() {
		return v, true
	}
	b, ok := get(api, "baseUrl")
	if !ok {
		r.add(v.Node, v.Path, "this endpoint is relative and api.baseUrl is missing; write the full token endpoint URL, or set api.baseUrl.")
		return Value{}, false
	}
	t, ok := r.term(b.val, b.path)
	if !ok {
		return Value{}, false
	}
	if t.kind != literal {
		r.unsupported(t, "the endpoint is relative, so cctoken needs api.baseUrl as a plain URL; or write the full token endpoint URL in endpoint.")
		return Value{}, false
	}
	base, err := url.Parse(t.s)
	if err != nil || !base.IsAbs() {
		r.add(t.n, t.path, "api.baseUrl is not an absolute URL, so the relative endpoint cannot be resolved; write the full token endpoint URL in endpoint.")
		return Value{}, false
	}
	v.S = base.ResolveReference(u).String()
	return v, true
}

// basic reads the Basic Auth variant's Authorization header.
func (r *reader) basic(h field, c *config) (id, secret Value, idEncrypted, ok bool) {
	want := "the login request's Authorization header must be Keboola's Basic Auth shape " + basicShape +
		`; or remove it and put client_id and client_secret in params (the Post Form shape).`
	outer, ok := r.term(h.val, h.path)
	if !ok || !r.fn(outer, "concat", 2, want) || !r.exact(outer, 0, "Basic ", want) {
		return
	}
	b64, ok := r.term(outer.args[1], index(join(outer.path, "args"), 1))
	if !ok || !r.fn(b64, "base64_encode", 1, want) {
		return
	}
	inner, ok := r.term(b64.args[0], index(join(b64.path, "args"), 0))
	if !ok || !r.fn(inner, "concat", 3, want) {
		return
	}
	args := join(inner.path, "args")
	id, idEncrypted, okID := r.credential(inner.args[0], index(args, 0), c)
	okColon := r.exact(inner, 1, ":", want)
	secret, _, okSecret := r.credential(inner.args[2], index(args, 2), c)
	return id, secret, idEncrypted, okID && okColon && okSecret
}

// apiRequest checks that the token is used the one way cctoken hands it
// out: as Authorization: Bearer.
func (r *reader) apiRequest(f field) {
	fs, all, ok := r.object(f.val, f.path, "the API request: a map with headers")
	if !ok {
		return
	}
	for _, x := range all {
		switch x.name {
		case "headers":
		case "query":
			r.add(x.key, x.path, "apiRequest.query is not supported: cctoken hands the token out as an Authorization header; use apiRequest.headers.Authorization as "+bearerShape+".")
		default:
			r.add(x.key, x.path, "this key is not supported in apiRequest; cctoken reads headers.Authorization as "+bearerShape+".")
		}
	}
	h, ok := get(fs, "headers")
	if !ok {
		r.add(unwrap(f.val), join(f.path, "headers"), "headers is missing; add headers.Authorization as "+bearerShape+".")
		return
	}
	_, hs, ok := r.object(h.val, h.path, "a map of header names to values")
	if !ok {
		return
	}
	want := "apiRequest's Authorization header must be " + bearerShape + ": the Bearer token is what cctoken hands out."
	found := false
	for _, x := range hs {
		if !strings.EqualFold(x.name, "Authorization") {
			r.add(x.key, x.path, "only Authorization is supported in apiRequest.headers, as "+bearerShape+"; send other headers with your API requests yourself.")
			continue
		}
		found = true
		t, ok := r.term(x.val, x.path)
		if !ok || !r.fn(t, "concat", 2, want) || !r.exact(t, 0, "Bearer ", want) {
			continue
		}
		ref, ok := r.term(t.args[1], index(join(t.path, "args"), 1))
		if !ok {
			continue
		}
		if ref.kind != response {
			r.unsupported(ref, want)
		} else if ref.s != "access_token" {
			r.add(ref.n, ref.path, `the only response reference cctoken supports is {"response": "access_token"}, the token of RFC 6749 §5.1.`)
		}
	}
	if !found {
		r.add(unwrap(h.val), join(h.path, "Authorization"), "Authorization is missing; add it as "+bearerShape+".")
	}
}
