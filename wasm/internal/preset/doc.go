// Package preset reads preset documents: the YAML or JSON files that list
// OAuth 2.0 client-credentials endpoints and the service accounts ("users")
// that get tokens from them. It turns a document into []Account, or into
// Errors listing every problem with its field path, line and column.
//
// # Document shapes
//
// Four shapes are accepted:
//
//  1. `preset:` followed by a list of presets (an optional `$schema` key is ignored);
//  2. a py-multiauth configuration: a `presets:` list, all other top-level
//     keys ignored;
//  3. a single preset map with `type:` at the top level;
//  4. a Keboola generic-extractor configuration (`parameters:`, or `api:`
//     and `config:`) whose api.authentication is the client-credentials
//     login of Keboola's template: package keboola maps it onto one preset
//     with one user, named by WithUsername (default "keboola"), and that
//     preset is loaded like any other. Convert prints it.
//
// Issues in shapes 1 to 3 always name presets preset[i], whichever shape
// is used, e.g. preset[0].users[2].client_secret or
// preset[0].users[0].headers.X-Team. Issues in shape 4 name the JSON path
// in the configuration, e.g. parameters.config.#__CLIENT_SECRET, with the
// line and column there.
//
// # Inheritance and defaults
//
// A preset holds type, name, url or issuer, insecure and users; each user holds
// username, client_id, client_secret, private_key, kid, alg, scopes,
// headers and cookies. The settings auth_method, basic_encoding,
// assertion_audience, dpop, audience, resource, params, refresh_skew,
// default_ttl, refresh_ahead, tls_client_certificate and tls_client_key
// may appear on both: a user's value replaces
// the preset's (maps and lists are not merged), an unset or null value
// inherits, and when neither sets it the package default applies:
// ClientSecretBasic, BasicEncodingForm, AudienceTokenEndpoint (for the JWT
// methods), no DPoP, no audience, no resource, no params,
// DefaultRefreshSkew, DefaultTTL, DefaultRefreshAhead and no client
// certificate (see account.go).
//
// # JWT client authentication
//
// auth_method private_key_jwt signs a client assertion (RFC 7523) with
// private_key, a PEM or JWK text parsed once by Load (jose.ParseKey, with
// alg and kid applied) into Account.Key; client_secret is then not allowed.
// client_secret_jwt signs it with HS256 under client_secret. The assertion's
// aud is assertion_audience: token_endpoint (the url, the default),
// issuer (the preset's issuer, configured and confirmed by discovery) or
// both ([issuer, token endpoint]). The default is the
// token endpoint because Ory Hydra 2.3 accepts an assertion only when aud
// holds the token endpoint URL (the issuer alone is refused, the pair
// passes), and Entra ID and Okta document the token endpoint; newer
// guidance (the RFC 7523bis drafts) prefers the issuer, and both satisfies
// servers of either kind. issuer and both need the preset's issuer. The JSON Schema (Schema, preset.schema.json) carries the
// same defaults, generated from those constants.
//
// # Secrets
//
// client_id, client_secret, private_key, audience, tls_client_certificate,
// tls_client_key and header, cookie and params values may be written as a
// whole-value ${env:NAME} reference, replaced by the
// variable the host passes in. Issue messages name fields, types and
// variable names but never repeat a value from the document or the
// environment, since a secret may sit in the wrong field. Map keys (header,
// cookie and param names) do appear in field paths, and so does an unknown
// key when it looks like one (letters, digits, '_' and '-', at most 64);
// any other unknown key is reported as "an unknown key on line N" at its
// map's path, since it may be a secret pasted where a key goes.
//
// # Client certificates
//
// tls_client_certificate and tls_client_key (both or neither) name the
// certificate the host presents for RFC 8705 mutual TLS, each as a file
// path or as PEM text (a value starting with -----BEGIN). The package
// only recognises the PEM armour, to report a swapped or encrypted key at
// load time; it reads no file and parses no certificate. The two tls auth
// methods require them and refuse a client_secret.
//
// YAML anchors and tags are accepted but aliases (*name) and merge keys
// (<<) are not: they could blow a small document up into a huge one, and
// inheritance covers what they are usually used for.
package preset
