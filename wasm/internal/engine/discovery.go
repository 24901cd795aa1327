package engine

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jose"
	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// Authorization server discovery (RFC 8414). A preset that gives `issuer`
// instead of `url` learns its token endpoint from the server's metadata:
// the engine asks the host for a GET of the RFC 8414 well-known URI and,
// when that does not answer 200, of the OpenID Connect Discovery one. The
// metadata is kept per issuer for the life of the loaded preset; a failed
// fetch is not kept (only a server's Retry-After blocks the issuer for that
// long), so the next token call tries again.
//
// Two token calls for users of the same issuer made before its metadata
// arrived each fetch it; the last answer wins. That costs a request, never
// correctness.

// Metadata error codes.
const (
	// CodeIssuerMismatch: the metadata names another issuer than the
	// preset's (RFC 8414 §3.3); it must not be used.
	CodeIssuerMismatch = "issuer_mismatch"
	// CodeInvalidMetadata: the metadata is not JSON or lacks a usable
	// token_endpoint.
	CodeInvalidMetadata = "invalid_metadata"
	// CodeUnsupportedAuthMethod: none of the server's
	// token_endpoint_auth_methods_supported is one the user can use.
	CodeUnsupportedAuthMethod = "unsupported_auth_method"
)

// metadata is what the engine keeps of an authorization server's metadata.
type metadata struct {
	tokenEndpoint string
	// authMethods is token_endpoint_auth_methods_supported; nil when the
	// server does not list them (RFC 8414 §2: client_secret_basic then).
	authMethods []string
	// mtlsTokenEndpoint is mtls_endpoint_aliases.token_endpoint (RFC 8705
	// §5), used by accounts that present a client certificate; mtlsBad
	// says why a given alias is unusable.
	mtlsTokenEndpoint, mtlsBad string
}

// metaFailure remembers a metadata fetch the server asked to retry later.
type metaFailure struct {
	err          *Error
	blockedUntil time.Time
}

// wellKnownURL is the RFC 8414 §3.1 metadata URL: the well-known segment
// goes between the host and the issuer's path, whose terminating "/" is
// removed first.
func wellKnownURL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path
}

// openIDConfigURL is the OpenID Connect Discovery 1.0 §4 URL: the issuer
// without its terminating "/", then the suffix.
func openIDConfigURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

func metadataRequest(u string) *httpmsg.Request {
	// No credentials, headers or cookies of the user: metadata is public.
	return &httpmsg.Request{Method: "GET", URL: u, Header: map[string]string{"Accept": "application/json"}}
}

// discover asks for acct's issuer metadata, then runs next with it.
func (e *Engine) discover(acct *preset.Account, next func(*metadata) Step) Step {
	issuer := acct.Issuer
	if f := e.metaFail[issuer]; f != nil {
		if e.now().Before(f.blockedUntil) {
			err := *f.err
			err.User = acct.Username
			err.RetryAt = f.blockedUntil.UnixMilli()
			return fail(&err)
		}
		delete(e.metaFail, issuer)
	}
	first := wellKnownURL(issuer)
	return e.wait(Step{HTTP: metadataRequest(first)}, func(in Input) Step {
		if in.Response != nil && in.Response.Status != 200 {
			// Not an RFC 8414 server (or not at that URL): try OpenID
			// Connect Discovery.
			return e.wait(Step{HTTP: metadataRequest(openIDConfigURL(issuer))}, func(in Input) Step {
				return e.metadataAnswer(acct, in, next)
			})
		}
		return e.metadataAnswer(acct, in, next)
	})
}

func (e *Engine) metadataAnswer(acct *preset.Account, in Input, next func(*metadata) Step) Step {
	if _, still := e.accounts[acct.Username]; !still {
		return fail(unknownUser(acct.Username))
	}
	md, oerr := parseMetadata(acct, in, e.now())
	if oerr != nil {
		ferr := tokenError(oerr, acct, "")
		if oerr.RetryAfter > 0 {
			until := e.now().Add(oerr.RetryAfter)
			e.metaFail[acct.Issuer] = &metaFailure{err: ferr, blockedUntil: until}
			ferr.RetryAt = until.UnixMilli()
		}
		return fail(ferr)
	}
	e.meta[acct.Issuer] = md
	return next(md)
}

// parseMetadata checks the metadata answer against RFC 8414 §3.2 and §3.3.
func parseMetadata(acct *preset.Account, in Input, now time.Time) (*metadata, *oauth.Error) {
	switch {
	case in.Failure != nil:
		e := oauth.FailureError(in.Failure)
		e.Message = "could not fetch the authorization server metadata (" + e.Code + "); check the issuer, DNS, proxy and TLS settings, and that the server is up"
		return nil, e
	case in.Response == nil:
		return nil, &oauth.Error{Code: CodeInvalidMetadata, Message: "the host resumed the metadata request with neither a response nor a failure"}
	}
	r := in.Response
	if r.Status != 200 {
		e := &oauth.Error{Code: oauth.CodeHTTPStatus, Status: r.Status, Message: fmt.Sprintf(
			"the authorization server metadata could not be fetched: HTTP %d at %s (after %s); check the issuer, or give the token endpoint as url instead",
			r.Status, openIDConfigURL(acct.Issuer), wellKnownURL(acct.Issuer))}
		if r.Status == 429 || r.Status == 503 {
			e.RetryAfter, _ = oauth.RetryAfter(r.Get("Retry-After"), now)
		}
		return nil, e
	}
	var doc struct {
		Issuer        *string  `json:"issuer"`
		TokenEndpoint *string  `json:"token_endpoint"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		MTLSAliases   *struct {
			TokenEndpoint *string `json:"token_endpoint"`
		} `json:"mtls_endpoint_aliases"`
	}
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		return nil, &oauth.Error{Code: CodeInvalidMetadata, Status: r.Status, Message: "the authorization server metadata is not a JSON object with string issuer and token_endpoint (RFC 8414 §3.2)"}
	}
	if doc.Issuer == nil || *doc.Issuer != acct.Issuer {
		got := "none"
		if doc.Issuer != nil {
			got = quote(*doc.Issuer)
		}
		return nil, &oauth.Error{Code: CodeIssuerMismatch, Status: r.Status, Message: "the authorization server metadata names issuer " + got +
			" but the preset says " + quote(acct.Issuer) + "; they must be exactly equal (RFC 8414 §3.3), so the metadata is not used. Set issuer to the server's issuer if you trust it."}
	}
	if doc.TokenEndpoint == nil || *doc.TokenEndpoint == "" {
		return nil, &oauth.Error{Code: CodeInvalidMetadata, Status: r.Status, Message: "the authorization server metadata has no token_endpoint; give the token endpoint as url instead of issuer"}
	}
	if msg := preset.CheckTokenEndpoint(*doc.TokenEndpoint, acct.Insecure); msg != "" {
		return nil, &oauth.Error{Code: CodeInvalidMetadata, Status: r.Status, Message: "the authorization server metadata has an unusable token_endpoint: " + msg}
	}
	md := &metadata{tokenEndpoint: *doc.TokenEndpoint, authMethods: doc.AuthMethods}
	if a := doc.MTLSAliases; a != nil && a.TokenEndpoint != nil {
		// Checked here, refused only for the accounts that would use it.
		if msg := preset.CheckTokenEndpoint(*a.TokenEndpoint, acct.Insecure); msg != "" {
			md.mtlsBad = "the authorization server metadata has an unusable mtls_endpoint_aliases.token_endpoint: " + strings.Replace(msg, "token_endpoint", "the alias", 1)
		} else {
			md.mtlsTokenEndpoint = *a.TokenEndpoint
		}
	}
	return md, nil
}

// applyMetadata completes a discovered account: its token endpoint, and an
// auth method when the user set none.
func applyMetadata(acct *preset.Account, md *metadata) *Error {
	acct.TokenURL = md.tokenEndpoint
	if acct.TLSClient != nil {
		// RFC 8705 §5: a client presenting a certificate uses the
		// server's mutual-TLS endpoint when it names one.
		if md.mtlsBad != "" {
			return &Error{Code: CodeInvalidMetadata, User: acct.Username, Field: fmt.Sprintf("preset[%d].issuer", acct.Preset), Message: md.mtlsBad}
		}
		if md.mtlsTokenEndpoint != "" {
			acct.TokenURL = md.mtlsTokenEndpoint
		}
	}
	if acct.AuthMethod != "" {
		return nil // the user's choice, used without checking
	}
	m, err := chooseAuthMethod(acct, md.authMethods)
	if err != nil {
		return err
	}
	acct.AuthMethod = m
	if m == preset.ClientSecretJWT {
		acct.Key = jose.HS256([]byte(acct.ClientSecret))
	}
	if (m == preset.ClientSecretJWT || m == preset.PrivateKeyJWT) && acct.AssertionAudience == "" {
		acct.AssertionAudience = preset.AudienceTokenEndpoint
	}
	return nil
}

// chooseAuthMethod picks the first method the server lists that the
// user's credentials allow, in this order: with a private key
// private_key_jwt; with a client certificate and no secret tls_client_auth,
// then self_signed_tls_client_auth; with a secret client_secret_basic,
// client_secret_post, then client_secret_jwt. With no list,
// client_secret_basic (the RFC 8414 §2 default).
func chooseAuthMethod(acct *preset.Account, supported []string) (string, *Error) {
	var usable []string
	switch {
	case acct.Key != nil:
		usable = []string{preset.PrivateKeyJWT}
	case acct.ClientSecret == "" && acct.TLSClient != nil:
		usable = []string{preset.TLSClientAuth, preset.SelfSignedTLSClientAuth}
	case acct.BasicEncoding == preset.BasicEncodingRaw && strings.Contains(acct.ClientID, ":"):
		// RFC 7617: a raw Basic user-id cannot hold a colon.
		usable = []string{preset.ClientSecretPost, preset.ClientSecretJWT}
	default:
		usable = []string{preset.ClientSecretBasic, preset.ClientSecretPost, preset.ClientSecretJWT}
	}
	if supported == nil {
		supported = []string{preset.ClientSecretBasic}
	}
	for _, m := range usable {
		if slices.Contains(supported, m) {
			return m, nil
		}
	}
	listed := "none"
	if len(supported) > 0 {
		names := make([]string, len(supported))
		for i, s := range supported {
			names[i] = quote(s)
		}
		listed = strings.Join(names, ", ")
	}
	return "", &Error{
		Code: CodeUnsupportedAuthMethod, User: acct.Username, Field: acct.Field("auth_method"),
		Message: "the authorization server supports token endpoint auth methods " + listed + " but this user can use only " +
			strings.Join(usable, " or ") + "; cctoken cannot authenticate it there. Set auth_method to force one, or register the client with a method both support.",
	}
}

// The two operations below let a host that relays discovery for someone
// else (the explorer's relay) ask the module instead of repeating its
// rules: which URLs a preset's discovery fetches, and whether a metadata
// answer is one the module would use.

// IssuerInfo is one authorization server a loaded preset discovers.
type IssuerInfo struct {
	Issuer   string `json:"issuer"`
	Insecure bool   `json:"insecure,omitempty"`
	// MetadataURLs are the URLs discovery GETs, in the order it tries
	// them: RFC 8414 §3.1, then OpenID Connect Discovery §4.
	MetadataURLs []string `json:"metadata_urls"`
	Users        []string `json:"users"`
}

// DiscoveryResult answers Discovery.
type DiscoveryResult struct {
	Issuers []IssuerInfo `json:"issuers"`
}

// Discovery lists the issuers of the loaded preset's users that give one,
// in preset order, one entry per issuer and insecure setting.
func (e *Engine) Discovery() Step {
	if e.accounts == nil {
		return fail(notLoaded())
	}
	out := DiscoveryResult{Issuers: []IssuerInfo{}}
	for _, name := range e.order {
		a := e.accounts[name]
		if a.Issuer == "" {
			continue
		}
		i := slices.IndexFunc(out.Issuers, func(x IssuerInfo) bool { return x.Issuer == a.Issuer && x.Insecure == a.Insecure })
		if i < 0 {
			out.Issuers = append(out.Issuers, IssuerInfo{
				Issuer: a.Issuer, Insecure: a.Insecure,
				MetadataURLs: []string{wellKnownURL(a.Issuer), openIDConfigURL(a.Issuer)},
			})
			i = len(out.Issuers) - 1
		}
		out.Issuers[i].Users = append(out.Issuers[i].Users, a.Username)
	}
	return Step{Result: out}
}

// MetadataRequest asks whether a metadata answer is usable for an issuer.
type MetadataRequest struct {
	Issuer   string
	Insecure bool
	Response *httpmsg.Response
}

// MetadataResult is what the module takes from usable metadata.
type MetadataResult struct {
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	// MTLSTokenEndpoint is mtls_endpoint_aliases.token_endpoint when the
	// metadata has a usable one (users with a client certificate send
	// their token requests there).
	MTLSTokenEndpoint string `json:"mtls_token_endpoint,omitempty"`
}

// Metadata runs the checks discovery makes on a metadata answer (status,
// JSON, the issuer exactly equal, a token_endpoint that passes the rules
// of url) and answers the endpoints it yields, or the error a token call
// would get. It needs no loaded preset and changes nothing.
func (e *Engine) Metadata(req MetadataRequest) Step {
	switch {
	case req.Issuer == "":
		return fail(&Error{Code: CodeBadRequest, Field: "issuer", Message: "metadata needs the issuer the document must name"})
	case req.Response == nil:
		return fail(&Error{Code: CodeBadRequest, Field: "response", Message: "metadata needs the response of the metadata GET: status, header and body"})
	}
	acct := &preset.Account{Issuer: req.Issuer, Insecure: req.Insecure}
	md, oerr := parseMetadata(acct, Input{Response: req.Response}, e.now())
	if oerr != nil {
		return fail(&Error{Code: oerr.Code, Message: oerr.Error(), Field: "response", Status: oerr.Status})
	}
	return Step{Result: MetadataResult{Issuer: req.Issuer, TokenEndpoint: md.tokenEndpoint, MTLSTokenEndpoint: md.mtlsTokenEndpoint}}
}
