package preset

// These types describe the preset format for the JSON Schema only: the test
// generator (schema_test.go) walks them with reflect to write
// preset.schema.json. The loader reads the YAML AST itself so the wasm
// build carries no reflection; TestSpecMatchesLoader keeps the key lists in
// step with these types.
//
// Tags: json gives the key (omitempty = optional), desc the description,
// and schema extra keywords as "name=value;…" (enum values split on '|').
// Defaults are added by the generator from the Default* constants.

// listDoc is shape 1: a `preset:` list.
type listDoc struct {
	Schema string       `json:"$schema,omitempty" desc:"URI of this JSON Schema, for editors; ignored by cctoken."`
	Preset []presetSpec `json:"preset" desc:"The presets. Each preset names a token endpoint and the service accounts (users) that get tokens from it." schema:"minItems=1"`
}

// multiauthDoc is shape 2: a py-multiauth configuration. Other top-level
// keys belong to other tools and are ignored.
type multiauthDoc struct {
	Presets []presetSpec `json:"presets" desc:"The presets, as in a py-multiauth configuration; cctoken reads only this key and ignores the other top-level keys. Issues still name them preset[i]." schema:"minItems=1"`
	_       struct{}     `schema:"open"`
}

// presetSpec is one preset, and also shape 3 on its own.
type presetSpec struct {
	Type     string     `json:"type" desc:"Preset type. cctoken supports only OAuth 2.0 client credentials." schema:"enum=oauth_client_credentials"`
	Name     specScalar `json:"name,omitempty" desc:"Free-text label for the preset."`
	URL      string     `json:"url,omitempty" desc:"Token endpoint: an absolute https:// URL without a #fragment. http:// is allowed for localhost, 127.0.0.0/8 and ::1, or anywhere with insecure: true. Give exactly one of url and issuer." schema:"format=uri;pattern=^[Hh][Tt][Tt][Pp][Ss]?://"`
	Issuer   string     `json:"issuer,omitempty" desc:"Authorization server issuer identifier (RFC 8414), instead of url: the token endpoint is discovered from the server's metadata at /.well-known/oauth-authorization-server, else /.well-known/openid-configuration, whose issuer must equal this value exactly. An absolute https:// URL without ?query or #fragment; http:// as for url. When auth_method is unset, it is picked from the methods the server lists." schema:"format=uri;pattern=^[Hh][Tt][Tt][Pp][Ss]?://"`
	Insecure bool       `json:"insecure,omitempty" desc:"Allow a plain http:// url to a host other than this machine. The client secret then crosses the network unencrypted." schema:"default=false"`
	Users    []userSpec `json:"users" desc:"The service accounts that get tokens from this endpoint. Usernames must be unique across the whole document." schema:"minItems=1"`
	settingSpec
	_ struct{} `schema:"exactlyOne=url|issuer"`
}

// userSpec is one service account.
type userSpec struct {
	Username     specScalar              `json:"username" desc:"Name used to ask for this account's token; unique across the whole document." schema:"minLength=1"`
	ClientID     specScalar              `json:"client_id" desc:"OAuth client_id. May be ${env:NAME} to read it from an environment variable." schema:"minLength=1"`
	ClientSecret specScalar              `json:"client_secret,omitempty" desc:"OAuth client_secret; required (and not empty) for auth_method client_secret_basic, client_secret_post and client_secret_jwt; not allowed with private_key_jwt, tls_client_auth and self_signed_tls_client_auth (the key or the client certificate authenticates the client). May be ${env:NAME} to read it from an environment variable (recommended)." schema:"minLength=1"`
	PrivateKey   specScalar              `json:"private_key,omitempty" desc:"The client's private key for auth_method: private_key_jwt (required there, not allowed otherwise), as PEM (PKCS#8, PKCS#1 RSA or SEC 1 EC) or as a JWK JSON object with its private members. Usually ${env:NAME} to read it from an environment variable. Checked when the preset loads; RSA keys need 2048 bits or more, EC keys must be P-256." schema:"minLength=1"`
	Kid          string                  `json:"kid,omitempty" desc:"Key id put in the assertion's JWS header (kid), overriding the JWK's own kid; private_key_jwt only. The server looks the public key up by it." schema:"minLength=1"`
	Alg          string                  `json:"alg,omitempty" desc:"Signature algorithm of the private_key_jwt assertion; must fit the key. Default: the JWK's alg, else RS256 for RSA keys, ES256 for P-256 keys and EdDSA for Ed25519 keys." schema:"enum=RS256|PS256|ES256|EdDSA"`
	Scopes       []specScope             `json:"scopes,omitempty" desc:"Scopes to request, one per entry (sent space-separated as the scope parameter)."`
	Headers      map[specToken]specValue `json:"headers,omitempty" desc:"Extra HTTP headers for the token request; names are case-insensitive. Authorization, Cookie, Content-Type, Content-Length and Host are set by cctoken and not allowed. Values may be ${env:NAME}."`
	Cookies      map[specToken]specValue `json:"cookies,omitempty" desc:"Cookies sent with the token request. Values may only hold RFC 6265 cookie characters (percent-encode others) and may be ${env:NAME}."`
	settingSpec
}

// settingSpec holds the keys a user inherits from its preset when unset.
type settingSpec struct {
	AuthMethod        string               `json:"auth_method,omitempty" desc:"How the client authenticates: client_secret_basic (HTTP Basic), client_secret_post (credentials in the form body), client_secret_jwt (a JWT assertion signed with HS256 under client_secret), private_key_jwt (a JWT assertion signed with private_key; RFC 7523, OpenID Connect Core §9); the JWT methods send client_id, client_assertion_type and client_assertion in the body, and no secret; tls_client_auth or self_signed_tls_client_auth (RFC 8705 mutual TLS: the client certificate in tls_client_certificate authenticates the client, client_id goes in the body, no client_secret; Go host only). Inherited from the preset when unset on a user." schema:"enum=client_secret_basic|client_secret_post|client_secret_jwt|private_key_jwt|tls_client_auth|self_signed_tls_client_auth"`
	BasicEncoding     string               `json:"basic_encoding,omitempty" desc:"How client_secret_basic encodes client_id and client_secret before base64: form form-urlencodes them first, as RFC 6749 §2.3.1 requires (so secrets with + & % : = or spaces survive); raw joins them as they are, for servers that expect that (Keboola's generic extractor sends them raw). Ignored with client_secret_post. Inherited from the preset when unset on a user." schema:"enum=form|raw"`
	AssertionAudience string               `json:"assertion_audience,omitempty" desc:"The aud claim of the client_secret_jwt and private_key_jwt assertion: token_endpoint (the token endpoint: url, or the discovered one), issuer (the preset's issuer, which then must be set) or both (the array [issuer, token endpoint]). token_endpoint is the default because Ory Hydra accepts an assertion only when aud holds the token endpoint URL (the issuer alone is refused), and Entra ID and Okta document the token endpoint; newer guidance (the RFC 7523bis drafts) prefers the issuer. both satisfies servers of either kind. Inherited from the preset when unset on a user." schema:"enum=token_endpoint|issuer|both"`
	DPoP              bool                 `json:"dpop,omitempty" desc:"Ask for DPoP-bound access tokens (RFC 9449): cctoken makes a P-256 key pair for the user, in memory only, and sends a DPoP proof signed with it with every token request; requests made with the token need a fresh proof each (hosts get them from the sign operation). Inherited from the preset when unset on a user."`
	Audience          specScalar           `json:"audience,omitempty" desc:"Value of the audience parameter, for servers that want one. May be ${env:NAME}. Inherited from the preset when unset on a user."`
	Resource          []specURI            `json:"resource,omitempty" desc:"RFC 8707 resource indicators: absolute URIs without a #fragment, each sent as a resource parameter. Inherited from the preset when unset on a user."`
	Params            map[string]specValue `json:"params,omitempty" desc:"Extra form parameters for the token request. grant_type, client_id, client_secret, scope, audience and resource are not allowed here (use the matching fields). Values may be ${env:NAME}. A user's params replace the preset's entirely."`
	RefreshSkew       specDuration         `json:"refresh_skew,omitempty" desc:"Treat a token as expired this long before it really expires: a duration such as \"30s\" or a number of seconds, 0 or more. Inherited from the preset when unset on a user."`
	DefaultTTL        specDuration         `json:"default_ttl,omitempty" desc:"Token lifetime assumed when the server does not send expires_in: a duration such as \"5m\" or a number of seconds, more than 0. Inherited from the preset when unset on a user." schema:"positive"`
	RefreshAhead      float64              `json:"refresh_ahead,omitempty" desc:"Fraction of a token's lifetime after which the host refreshes it in the background, more than 0 and at most 1. Inherited from the preset when unset on a user." schema:"exclusiveMinimum=0;maximum=1"`
	TLSClientCert     specScalar           `json:"tls_client_certificate,omitempty" desc:"Client certificate presented in the TLS handshake of the token request (RFC 8705 mutual TLS; Go host only): the path of a PEM file (read by the host; relative to its working directory), PEM text, or ${env:NAME} holding either. Required with tls_client_auth and self_signed_tls_client_auth; with other methods it is presented as well (certificate-bound tokens). Set together with tls_client_key. Inherited from the preset when unset on a user." schema:"minLength=1"`
	TLSClientKey      specScalar           `json:"tls_client_key,omitempty" desc:"Private key of tls_client_certificate, unencrypted PEM (PKCS #8, PKCS #1 or SEC 1): a file path, or ${env:NAME} holding the PEM (recommended over writing it here). Never shown in errors or logs. Inherited from the preset when unset on a user." schema:"minLength=1"`
	Certificate       specScalar           `json:"certificate,omitempty" desc:"The X.509 certificate of private_key (private_key_jwt only): PEM text, usually ${env:NAME}, or the path of a PEM file (read by the host at each token request; relative to its working directory). With it the assertion's header names the certificate by thumbprint: x5t#S256, and x5t as well with RS256, as Microsoft Entra ID requires (it recommends alg: PS256). Checked when the preset loads (PEM text) or before each token request (a file): it must be a certificate of private_key's public key and not expired. Inherited from the preset when unset on a user." schema:"minLength=1"`
	AssertionFile     specScalar           `json:"client_assertion_file,omitempty" desc:"Path of a file holding a JWT that the platform issued to this workload (Kubernetes service account tokens for Entra workload identity, SPIFFE JWT-SVIDs, CI OIDC tokens), sent as the client_assertion of RFC 7523 client authentication (auth_method private_key_jwt, which is then the default). The host reads the file again for every token request, since the platform replaces it before the JWT expires. No client_secret, private_key or client certificate with it. Inherited from the preset when unset on a user." schema:"minLength=1"`
}

// Named types the generator maps to special schemas.
type (
	specScalar   string // a string; numbers and booleans are taken as written
	specValue    string // a map value: like specScalar, and null means ""
	specScope    string // RFC 6749 §3.3 scope-token
	specToken    string // RFC 7230 token (header and cookie names)
	specURI      string // absolute URI without fragment
	specDuration string // Go duration string or number of seconds
)
