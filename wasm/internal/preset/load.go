package preset

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jose"
	"github.com/cctoken/cctoken/wasm/internal/keboola"
	"github.com/cctoken/cctoken/wasm/internal/yamlnode"
)

// presetType is the only preset type cctoken implements.
const presetType = "oauth_client_credentials"

const shapes = "A preset document must be one of: (1) a map with a `preset:` list of presets; " +
	"(2) a py-multiauth configuration with a `presets:` list; " +
	"(3) a single preset map with `type: oauth_client_credentials` at the top level; " +
	"(4) a Keboola generic-extractor configuration (`parameters:`, or `api:` and `config:`) with a client-credentials login."

// Load parses a preset document (YAML or JSON), resolves inheritance and ${env:NAME}
// references from env, validates everything, and returns the accounts in document order.
// On any problem it returns nil and an Errors value holding EVERY issue found (not just the first).
func Load(text []byte, env map[string]string, opts ...Option) ([]Account, error) {
	l := newLoader(opts)
	l.env = env
	accounts := l.run(text)
	if len(l.issues) > 0 {
		return nil, l.issues
	}
	return accounts, nil
}

// Lint is Load without env: it validates a document, treating every ${env:NAME} reference as present
// (it does not report missing variables). Returns all issues (nil when clean).
func Lint(text []byte, opts ...Option) Errors {
	l := newLoader(opts)
	l.lint = true
	l.run(text)
	if len(l.issues) == 0 {
		return nil
	}
	return l.issues
}

// EnvNames lists, sorted and de-duplicated, the NAMEs of every ${env:NAME} reference in the document
// (so a host can pass in only those variables). Returns nil if there are none or the document does not parse.
//
// Only references in fields that accept them are listed, so a host never
// reads a variable that Load would not use.
func EnvNames(text []byte, opts ...Option) []string {
	l := newLoader(opts)
	l.lint, l.names = true, map[string]bool{}
	l.run(text)
	if !l.parsed || len(l.names) == 0 {
		return nil
	}
	names := make([]string, 0, len(l.names))
	for n := range l.names {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// loader walks one document and collects every issue on the way, so an
// author sees all problems at once instead of fixing them one run at a time.
type loader struct {
	options
	env    map[string]string
	lint   bool            // ${env:NAME} counts as present; its value is unknown
	names  map[string]bool // when set, collects the referenced variable names
	parsed bool
	issues Errors
	// hints (hints.go) are collected only by LintHints.
	hints        Errors
	collectHints bool
	users        map[string]string // username -> path of its first use
	// imported is the Keboola configuration the document turned out to
	// be, once it has been read without issues of its own.
	imported *keboola.Preset
	shape    string // "preset" or "keboola" once the document's shape is known
}

// field is one key of a map with its value and the value's path.
type field struct {
	name     string
	key, val ast.Node
	path     string
	parent   string // the path of the map holding it
}

func (l *loader) add(n ast.Node, path, msg string) {
	line, col := position(n)
	l.issues = append(l.issues, Issue{Field: path, Line: line, Column: col, Message: msg})
}

// run parses and walks the document. It recovers from panics as a last
// resort (FuzzLoad checks that this never happens), and sorts the issues
// into document order.
func (l *loader) run(text []byte) (accounts []Account) {
	defer func() {
		if r := recover(); r != nil {
			accounts = nil
			l.issues = append(l.issues, Issue{Message: internalError})
		}
		slices.SortStableFunc(l.issues, func(a, b Issue) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
	}()
	file, err := parse(text)
	if err != nil {
		l.syntax(err)
		return nil
	}
	l.parsed = true
	var body ast.Node
	for _, d := range file.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if body != nil {
			l.add(d.Body, "", "the file holds more than one YAML document (separated by ---); keep everything in one document.")
			break
		}
		body = d.Body
	}
	if body == nil {
		l.add(nil, "", "the document is empty. "+shapes)
		return nil
	}
	return l.document(body)
}

const internalError = "internal error while reading the document; please report it with a small document that shows it."

// parse runs the go-yaml parser, turning a panic in it into an error.
// Duplicate keys are allowed here and reported by the loader with a path.
func parse(text []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errors.New("the YAML parser failed on this document")
		}
	}()
	return parser.ParseBytes(text, 0, parser.AllowDuplicateMapKey())
}

// syntax reports a parse error. go-yaml quotes pieces of the input in some
// messages; those are dropped since they could be secrets.
func (l *loader) syntax(err error) {
	var is Issue
	var ye interface {
		GetMessage() string
		GetToken() *token.Token
	}
	if errors.As(err, &ye) {
		is.Message = "YAML syntax error: " + scrub(ye.GetMessage()) + ". Fix the document at this line and column."
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			is.Line, is.Column = tk.Position.Line, tk.Position.Column
		}
	} else {
		is.Message = "the document could not be parsed as YAML or JSON; check its syntax."
	}
	l.issues = append(l.issues, is)
}

// scrub replaces double-quoted text longer than a few characters (single
// characters stay, as in "found unknown escape character") and keeps one line.
func scrub(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			break
		}
		j := strings.IndexByte(msg[i+1:], '"')
		if j < 0 {
			msg = msg[:i]
			break
		}
		b.WriteString(msg[:i])
		if j <= 3 {
			b.WriteString(msg[i : i+j+2])
		} else {
			b.WriteString(`"…"`)
		}
		msg = msg[i+j+2:]
	}
	b.WriteString(msg)
	out := strings.ReplaceAll(b.String(), "\t", `\t`)
	return strings.TrimSuffix(strings.TrimSpace(out), ".")
}

// document finds which of the four shapes the root is.
func (l *loader) document(body ast.Node) []Account {
	root := l.value(body, "")
	if root == nil {
		return nil
	}
	kv, ok := pairs(root)
	if !ok {
		msg := "the document is " + kind(root) + ". " + shapes
		if _, list := root.(*ast.SequenceNode); list {
			msg += " To keep this list, put it under `preset:`."
		}
		l.add(root, "", msg)
		return nil
	}
	has := map[string]bool{}
	for _, p := range kv {
		if p != nil {
			if s, ok := scalar(unwrap(p.Key)); ok {
				has[s] = true
			}
		}
	}
	l.shape = "preset"
	switch {
	case has["preset"]:
		fs, extra := l.fields(root, "")
		l.unknown(extra, rootLevel)
		return l.presetList(fs["preset"])
	case has["presets"]:
		// py-multiauth: the other top-level keys belong to other tools.
		fs, _ := l.fields(root, "")
		return l.presetList(fs["presets"])
	case has["type"]:
		return l.preset(root, 0)
	case keboola.Recognise(root):
		l.shape = "keboola"
		return l.keboola(root)
	}
	l.shape = ""
	for _, p := range kv {
		if p == nil {
			continue
		}
		if s, ok := scalar(unwrap(p.Key)); ok {
			if m := suggest(s, []string{"preset", "presets", "type", "parameters"}); m != "" {
				line, _ := position(p.Key)
				path, lead := yamlnode.UnknownKey("", s, line)
				l.add(p.Key, path, lead+"; did you mean `"+m+"`? "+shapes)
				return nil
			}
		}
	}
	l.add(root, "", "the document has none of the keys preset, presets, type, parameters or api. "+shapes)
	return nil
}

// presetList reads `preset:` or `presets:`. Presets are always numbered
// preset[i] in paths, whichever key held them.
func (l *loader) presetList(f field) []Account {
	if isNull(unwrap(f.val)) {
		l.add(f.key, f.path, "the preset list is empty; add at least one preset with type: oauth_client_credentials.")
		return nil
	}
	list, ok := l.list(f, "a list of presets")
	if !ok {
		return nil
	}
	if len(list) == 0 {
		l.add(f.val, f.path, "the preset list is empty; add at least one preset with type: oauth_client_credentials.")
	}
	var out []Account
	for i, n := range list {
		out = append(out, l.preset(n, i)...)
	}
	return out
}

// presetValues is what a preset passes down to its users.
type presetValues struct {
	name     string
	url      string
	issuer   string
	insecure bool
	// issuerGiven: issuer was set, even if to a refused value.
	issuerGiven bool
	settings
}

func (l *loader) preset(n ast.Node, i int) []Account {
	path := fmt.Sprintf("preset[%d]", i)
	if n = l.value(n, path); n == nil {
		return nil
	}
	if _, ok := pairs(n); !ok {
		l.add(n, path, "expected a preset (a map with type, url and users), found "+kind(n)+".")
		return nil
	}
	fs, extra := l.fields(n, path)
	// Check type first: a py-multiauth file may hold presets of other
	// types, whose keys we do not know, so report only the type for those.
	if f, ok := l.get(fs, "type"); !ok {
		l.add(n, pathJoin(path, "type"), "type is missing; add type: oauth_client_credentials.")
	} else if s, ok := l.str(f); ok && s != presetType {
		l.add(f.val, f.path, "this preset type is not supported; cctoken only handles type: oauth_client_credentials (OAuth 2.0 client credentials). Change the type or remove the preset.")
		return nil
	}
	meant := l.unknown(extra, presetLevel)

	var p presetValues
	if f, ok := l.get(fs, "name"); ok {
		p.name, _ = l.str(f)
	}
	if f, ok := l.get(fs, "insecure"); ok {
		p.insecure, _ = l.bool(f)
	}
	urlF, hasURL := l.get(fs, "url")
	issF, hasIssuer := l.get(fs, "issuer")
	switch {
	case hasURL && hasIssuer:
		l.add(issF.key, issF.path, "url and issuer are both set; give exactly one: url for the token endpoint itself, or issuer to discover it from the server's metadata (RFC 8414). Remove one of them.")
	case !hasURL && !hasIssuer:
		if !meant["url"] && !meant["issuer"] {
			l.add(n, pathJoin(path, "url"), "url is missing; add the token endpoint, e.g. url: https://auth.example.com/oauth/token, or the authorization server's issuer to discover it, e.g. issuer: https://auth.example.com.")
		}
	case hasURL:
		if s, ok := l.str(urlF); ok {
			if msg := checkURL(s, p.insecure); msg != "" {
				l.add(urlF.val, urlF.path, msg)
			}
			p.url = s
		}
	default:
		p.issuerGiven = true
		if s, ok := l.str(issF); ok {
			if msg := checkIssuer(s, p.insecure); msg != "" {
				l.add(issF.val, issF.path, msg)
			}
			p.issuer = s
		}
	}
	p.settings = l.settings(fs)

	f, ok := l.get(fs, "users")
	if !ok {
		if !meant["users"] {
			l.add(n, pathJoin(path, "users"), "users is missing; add a list of users, each with username, client_id and client_secret.")
		}
		return nil
	}
	users, ok := l.list(f, "a list of users")
	if !ok {
		return nil
	}
	if len(users) == 0 {
		l.add(f.val, f.path, "users is empty; add at least one user with username, client_id and client_secret.")
	}
	var out []Account
	for j, u := range users {
		if a, ok := l.user(u, i, j, &p); ok {
			out = append(out, a)
		}
	}
	return out
}

var requiredHint = map[string]string{
	"username":      "a name, unique in this document, that you use to ask for this account's token",
	"client_id":     "the client identifier issued by the authorization server",
	"client_secret": "the client secret, or ${env:NAME} to read it from an environment variable",
	"private_key":   "the private key as PEM or JWK text, usually ${env:NAME} to read it from an environment variable",
}

func (l *loader) user(n ast.Node, pi, ui int, p *presetValues) (Account, bool) {
	path := userPath(pi, ui)
	if n = l.value(n, path); n == nil {
		return Account{}, false
	}
	if _, ok := pairs(n); !ok {
		l.add(n, path, "expected a user (a map with username, client_id and client_secret), found "+kind(n)+".")
		return Account{}, false
	}
	fs, extra := l.fields(n, path)
	meant := l.unknown(extra, userLevel)
	a := Account{Preset: pi, Index: ui, PresetName: p.name, TokenURL: p.url, Issuer: p.issuer, Insecure: p.insecure}
	var idField field
	var idText text

	// The auth method decides which credentials are required, so settle
	// it first. A user's setting replaces the preset's; unset inherits,
	// then defaults.
	s := l.settings(fs)
	defMethod := ClientSecretBasic
	if p.issuer != "" {
		defMethod = "" // chosen from the server's metadata
	}
	a.AuthMethod = pick(s.authMethod, p.authMethod, defMethod)
	certSrc := pick(s.tlsCert, p.tlsCert, tlsSource{})
	keySrc := pick(s.tlsKey, p.tlsKey, tlsSource{})
	// With discovery and no auth_method, the credentials given say which
	// methods the metadata may choose from: a private_key means
	// private_key_jwt, a client certificate without a client_secret the
	// mutual-TLS methods, a client_secret the client_secret_* ones.
	_, hasKey := fs["private_key"]
	_, hasSecret := fs["client_secret"]
	// A client assertion from a file is private_key_jwt without a key:
	// the platform signed it (RFC 7523 §2.2).
	assertSrc := pick(s.assertion, p.assertion, credSource{})
	hasAssertion := assertSrc.path != ""
	if hasAssertion && !s.authMethod.set && !p.authMethod.set && p.issuer == "" {
		a.AuthMethod = PrivateKeyJWT
	}
	undecided := a.AuthMethod == ""
	keyAuth := a.AuthMethod == PrivateKeyJWT || (undecided && (hasKey || hasAssertion))
	tlsAuth := IsTLSMethod(a.AuthMethod) || (undecided && !hasKey && !hasSecret && !hasAssertion && certSrc.path != "")
	required := []string{"username", "client_id", "client_secret"}
	if keyAuth {
		required = []string{"username", "client_id", "private_key"}
		if hasAssertion {
			required = []string{"username", "client_id"}
		}
		if f, ok := l.get(fs, "client_secret"); ok {
			l.add(f.key, f.path, "client_secret is not used with auth_method: private_key_jwt, which signs with private_key instead; remove client_secret (or private_key).")
		}
	} else {
		for _, key := range []string{"private_key", "kid", "alg"} {
			if f, ok := l.get(fs, key); ok {
				l.add(f.key, f.path, key+" is used only with auth_method: private_key_jwt; set that auth_method, or remove "+key+".")
			}
		}
	}
	if hasAssertion {
		l.assertionFile(&a, fs, assertSrc, certSrc)
	}
	var keyField field
	var keyText text

	for _, k := range required {
		f, ok := l.get(fs, k)
		if k == "client_secret" && tlsAuth {
			// RFC 8705 §2: the certificate authenticates the client.
			if ok {
				l.add(f.key, f.path, "client_secret is not sent with auth_method "+a.AuthMethod+": the client certificate authenticates the client (RFC 8705). Remove client_secret, or choose a client_secret_* auth_method.")
			}
			continue
		}
		if _, present := fs[k]; present && !ok {
			l.add(f.key, f.path, k+" is empty; set it to "+requiredHint[k]+".")
			continue
		}
		if !ok {
			if !meant[k] {
				msg := k + " is missing; add " + k + ": " + requiredHint[k] + "."
				if k == "client_secret" && (s.tlsCert.set || p.tlsCert.set) {
					msg += " To authenticate with the client certificate instead, set auth_method: tls_client_auth or self_signed_tls_client_auth."
				}
				l.add(n, pathJoin(path, k), msg)
			}
			continue
		}
		key := k
		t, ok := l.text(f, key != "username")
		if !ok {
			continue
		}
		if t.known && t.s == "" {
			msg := key + " is empty; set it to " + requiredHint[key] + "."
			if t.env != "" {
				msg = key + " is empty because environment variable " + t.env + " is set to an empty value; give it a value."
			}
			l.add(f.val, f.path, msg)
			continue
		}
		switch key {
		case "username":
			a.Username = t.s
			if first, dup := l.users[t.s]; dup {
				l.add(f.val, f.path, "this username is already used by "+first+"; usernames must be unique across the whole document, so rename one of them.")
			} else {
				if l.users == nil {
					l.users = map[string]string{}
				}
				l.users[t.s] = f.path
			}
		case "client_id":
			a.ClientID = t.s
			idField, idText = f, t
		case "client_secret":
			a.ClientSecret = t.s
		case "private_key":
			keyField, keyText = f, t
		}
	}
	if keyAuth && !hasAssertion {
		a.Key, a.keyText = l.privateKey(fs, keyField, keyText)
	}
	if cert := pick(s.certificate, p.certificate, credSource{}); cert.path != "" {
		l.certificate(&a, cert, keyAuth && !hasAssertion)
	}
	if a.AuthMethod == ClientSecretJWT && a.ClientSecret != "" {
		a.Key = jose.HS256([]byte(a.ClientSecret))
	}
	scopesField, hasScopes := l.get(fs, "scopes")
	if hasScopes {
		a.Scopes = l.scopes(scopesField)
	}
	if f, ok := l.get(fs, "headers"); ok {
		a.Headers = l.headers(f)
	}
	if f, ok := l.get(fs, "cookies"); ok {
		a.Cookies = l.cookies(f)
	}

	if !meant["tls_client_certificate"] && !meant["tls_client_key"] {
		// A misspelt key is reported as such, not also as missing.
		l.tlsClient(&a, n, path, certSrc, keySrc)
	}
	a.BasicEncoding = pick(s.basicEnc, p.basicEnc, BasicEncodingForm)
	if a.AuthMethod == ClientSecretBasic && a.BasicEncoding == BasicEncodingRaw && strings.Contains(idText.s, ":") {
		// RFC 7617: the user-id of Basic authentication cannot hold a colon.
		l.add(idField.val, idField.path, "client_id contains a colon"+idText.from()+", which basic_encoding: raw cannot send (the server would split the id there); use basic_encoding: form or auth_method: client_secret_post.")
	}
	if a.AuthMethod == PrivateKeyJWT || a.AuthMethod == ClientSecretJWT {
		a.AssertionAudience = pick(s.assertionAud, p.assertionAud, AudienceTokenEndpoint)
	} else if undecided && !tlsAuth {
		// Kept for the case discovery picks a JWT method, which then
		// defaults it.
		a.AssertionAudience = pick(s.assertionAud, p.assertionAud, "")
	}
	if a.AssertionAudience != "" && a.AssertionAudience != AudienceTokenEndpoint && a.Issuer == "" && !p.issuerGiven {
		f := s.audField
		if !s.assertionAud.set {
			f = p.audField
		}
		l.add(f.val, f.path, "assertion_audience: "+a.AssertionAudience+" puts the issuer in the assertion's aud, but the preset has no issuer; give the preset issuer: (the authorization server's issuer URL) in place of url, so the token endpoint is discovered and the issuer checked, or use assertion_audience: token_endpoint.")
	}
	a.DPoP = pick(s.dpop, p.dpop, false)
	a.Audience = pick(s.audience, p.audience, "")
	a.Resource = slices.Clone(pick(s.resource, p.resource, nil))
	a.Params = maps.Clone(pick(s.params, p.params, nil))
	a.RefreshSkew = pick(s.refreshSkew, p.refreshSkew, DefaultRefreshSkew)
	a.DefaultTTL = pick(s.defaultTTL, p.defaultTTL, DefaultTTL)
	a.RefreshAhead = pick(s.refreshAhead, p.refreshAhead, DefaultRefreshAhead)
	l.providerHints(&a, scopesField, hasScopes, field{val: n, path: path})
	return a, true
}

// assertionFile checks a client_assertion_file user: it authenticates
// with the platform's JWT alone, so no other credential may be set.
func (l *loader) assertionFile(a *Account, fs map[string]field, src credSource, tlsCert tlsSource) {
	a.AssertionField = src.path
	if a.AuthMethod != "" && a.AuthMethod != PrivateKeyJWT {
		l.addOnce(src.n, src.path, "client_assertion_file sends the file's JWT as a client assertion (RFC 7523), which is auth_method private_key_jwt, not "+a.AuthMethod+"; set auth_method: private_key_jwt or leave auth_method out.")
	}
	for _, key := range []string{"private_key", "client_secret", "kid", "alg"} {
		if f, ok := l.get(fs, key); ok {
			l.add(f.key, f.path, key+" is not used with client_assertion_file, whose JWT authenticates the client on its own; remove "+key+" (or client_assertion_file).")
		}
	}
	if tlsCert.path != "" {
		l.addOnce(tlsCert.n, tlsCert.path, "tls_client_certificate is not used with client_assertion_file, whose JWT authenticates the client on its own; remove the client certificate (or client_assertion_file).")
	}
	if !src.bad {
		a.AssertionFile = src.file
	}
}

// certificate checks private_key's certificate: only with a private key;
// given as PEM, it must be a certificate of that key and not expired now
// (a file is checked the same way before each token request).
func (l *loader) certificate(a *Account, src credSource, withKey bool) {
	a.CertificateField = src.path
	if !withKey {
		l.addOnce(src.n, src.path, "certificate goes with private_key (auth_method private_key_jwt): it names the key's certificate in the assertion's header. Add private_key, or remove certificate.")
		return
	}
	if src.bad || !src.known {
		return
	}
	if src.file != "" {
		a.CertificateFile = src.file
		return
	}
	if a.Key == nil {
		return // the key's own issue is reported
	}
	c, err := CheckCertificate([]byte(src.pem), a.Key, time.Now())
	if err != nil {
		l.add(src.n, src.path, "certificate "+err.Error()+src.from+".")
		return
	}
	a.Certificate = c
}

// CheckCertificate reads a certificate for key and checks it is key's and
// valid at now. Its errors start lower-case, to follow "certificate", and
// never quote the input.
func CheckCertificate(pemText []byte, key *jose.Key, now time.Time) (*jose.Certificate, error) {
	c, err := jose.ParseCertificate(pemText)
	switch {
	case err != nil:
		return nil, fmt.Errorf("is not a usable certificate: %s", strings.TrimSuffix(err.Error(), "."))
	case !key.Certifies(c):
		return nil, errors.New("is not a certificate of private_key (its public key is another key's); give the certificate issued for this private key")
	case now.After(c.NotAfter):
		return nil, fmt.Errorf("expired on %s; renew it and upload the new certificate to the authorization server", c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return nil, fmt.Errorf("is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// tlsClient checks the user's client certificate and key, possibly
// inherited from its preset: both or neither, and both for the mutual-TLS
// auth methods.
func (l *loader) tlsClient(a *Account, n ast.Node, path string, cert, key tlsSource) {
	certSet, keySet := cert.path != "", key.path != ""
	switch {
	case !certSet && !keySet:
		if IsTLSMethod(a.AuthMethod) {
			l.add(n, pathJoin(path, "tls_client_certificate"), "auth_method "+a.AuthMethod+" needs a client certificate; add tls_client_certificate and tls_client_key (each a PEM file path or ${env:NAME} holding the PEM) to this user or its preset.")
		}
		return
	case !keySet:
		l.addOnce(cert.n, cert.path, "tls_client_certificate is set but tls_client_key is not; add tls_client_key next to it: the certificate's private key as a PEM file path or ${env:NAME} holding the PEM.")
		return
	case !certSet:
		l.addOnce(key.n, key.path, "tls_client_key is set but tls_client_certificate is not; add tls_client_certificate next to it: the client certificate as a PEM file path or ${env:NAME} holding the PEM.")
		return
	}
	a.TLSCertField, a.TLSKeyField = cert.path, key.path
	if cert.bad || key.bad {
		return // already reported
	}
	if l.lint && (cert.file == "" && cert.pem == "" || key.file == "" && key.pem == "") {
		// A reference whose value is unknown: the halves are checked at load.
		a.TLSClient = &httpmsg.TLSClient{}
		return
	}
	a.TLSClient = &httpmsg.TLSClient{CertFile: cert.file, CertPEM: cert.pem, KeyFile: key.file, KeyPEM: key.pem}
}

// addOnce is add for values users inherit from their preset, so that a
// problem in the preset is reported once, not once per user.
func (l *loader) addOnce(n ast.Node, path, msg string) {
	for _, is := range l.issues {
		if is.Field == path && is.Message == msg {
			return
		}
	}
	l.add(n, path, msg)
}

// value unwraps n and rejects aliases: expanding them would let a small
// document fan out into a huge one, and inheritance covers the common use.
func (l *loader) value(n ast.Node, path string) ast.Node {
	n = unwrap(n)
	if _, ok := n.(*ast.AliasNode); ok {
		l.add(n, path, "YAML aliases (*name) are not supported; write the value out in full (users already inherit settings from their preset).")
		return nil
	}
	return n
}

// get returns a key's field; an explicit null counts as not set.
func (l *loader) get(fs map[string]field, key string) (field, bool) {
	f, ok := fs[key]
	if !ok || isNull(unwrap(f.val)) {
		return f, false
	}
	return f, true
}

// fields reads the pairs of map n, reporting keys that are repeated or not
// strings. Unknown keys are returned separately for the caller to report.
func (l *loader) fields(n ast.Node, path string) (known map[string]field, all []field) {
	known = map[string]field{}
	parent := path
	yamlnode.EachKey(n, path, l.add, func(name, path string, key, val ast.Node) {
		f := field{name: name, key: key, val: val, path: path, parent: parent}
		known[name] = f
		all = append(all, f)
	})
	return known, all
}

// level describes which keys belong at one place in the document.
type level struct {
	keys   []string // allowed here
	other  []string // allowed at the neighbouring level
	moveTo string   // where keys of other belong
}

var (
	rootLevel   = level{keys: []string{"preset", "$schema"}}
	presetLevel = level{presetKeys, userKeys, "is set per user: move it into each entry of `users`"}
	userLevel   = level{userKeys, presetKeys, "is set on the preset, not on a user: move it next to `users`"}
)

// unknown reports the fields whose key does not belong at lv, with a
// did-you-mean hint when one is close. It returns the suggested keys, so
// the caller need not also report them as missing.
func (l *loader) unknown(fs []field, lv level) (meant map[string]bool) {
	meant = map[string]bool{}
	for _, f := range fs {
		if contains(lv.keys, f.name) {
			continue
		}
		line, _ := position(f.key)
		path, lead := yamlnode.UnknownKey(f.parent, f.name, line)
		var msg string
		if contains(lv.other, f.name) {
			msg = "`" + f.name + "` " + lv.moveTo + "."
		} else if s := suggest(f.name, lv.keys); s != "" {
			msg = lead + "; did you mean `" + s + "`?"
			meant[s] = true
		} else if s := suggest(f.name, lv.other); s != "" {
			msg = lead + "; did you mean `" + s + "`? It " + lv.moveTo + "."
		} else {
			msg = lead + "; remove it. Keys allowed here: " + strings.Join(lv.keys, ", ") + "."
		}
		l.add(f.key, path, msg)
	}
	return meant
}

// privateKey parses the private_key of a private_key_jwt user (f, t), with
// the user's alg and kid applied. Parsed once here, so that each token
// request only signs. Issues quote jose's messages, which never hold key
// material, and name where the value came from.
func (l *loader) privateKey(fs map[string]field, f field, t text) (*jose.Key, string) {
	var alg, kid string
	algOK, kidOK := true, true
	if af, ok := l.get(fs, "alg"); ok {
		alg, algOK = l.str(af)
		switch {
		case !algOK:
		case alg != "RS256" && alg != "PS256" && alg != "ES256" && alg != "EdDSA":
			l.add(af.val, af.path, "alg must be RS256, PS256, ES256 or EdDSA (names are case-sensitive), or left out to use the key's own algorithm.")
			algOK = false
		}
	}
	if kf, ok := l.get(fs, "kid"); ok {
		if kid, kidOK = l.str(kf); kidOK && kid == "" {
			l.add(kf.val, kf.path, "kid is empty; give the key id the authorization server knows the key by, or remove kid.")
			kidOK = false
		}
	}
	if !t.known || !algOK || !kidOK {
		return nil, "" // missing, linting, or already reported
	}
	k, err := jose.ParseKey([]byte(t.s), alg)
	if err != nil {
		msg := err.Error()
		l.add(f.val, f.path, "private_key is not a usable private key"+t.from()+": "+strings.TrimSuffix(msg, ".")+".")
		return nil, ""
	}
	if kid != "" {
		k.Kid = kid
	}
	return k, t.s
}
