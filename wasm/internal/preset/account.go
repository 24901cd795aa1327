package preset

import (
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jose"
)

// Auth methods understood by the module.
const (
	ClientSecretBasic = "client_secret_basic"
	ClientSecretPost  = "client_secret_post"
	// ClientSecretJWT sends a JWT assertion signed with HS256 under the
	// client secret (RFC 7523 §2.2, OpenID Connect Core §9).
	ClientSecretJWT = "client_secret_jwt"
	// PrivateKeyJWT sends a JWT assertion signed with the user's private
	// key (RFC 7523 §2.2, OpenID Connect Core §9); no secret is sent.
	PrivateKeyJWT = "private_key_jwt"
	// RFC 8705 mutual TLS: the client certificate authenticates the
	// client, and client_id goes in the body. Only the Go host can present
	// a certificate.
	TLSClientAuth           = "tls_client_auth"
	SelfSignedTLSClientAuth = "self_signed_tls_client_auth"
)

// What the aud claim of a JWT client assertion holds.
const (
	// AudienceTokenEndpoint is the token endpoint URL, the default: Ory
	// Hydra accepts nothing else, and Entra ID and Okta document it.
	AudienceTokenEndpoint = "token_endpoint"
	// AudienceIssuer is the authorization server's issuer identifier, as
	// newer guidance (the RFC 7523bis drafts) prefers.
	AudienceIssuer = "issuer"
	// AudienceBoth is the array [issuer, token endpoint], which servers of
	// either kind accept.
	AudienceBoth = "both"
)

// IsTLSMethod reports the two mutual-TLS auth methods.
func IsTLSMethod(m string) bool { return m == TLSClientAuth || m == SelfSignedTLSClientAuth }

// How client_secret_basic encodes the id and secret before base64.
const (
	// BasicEncodingForm form-urlencodes them first, as RFC 6749 §2.3.1 says.
	BasicEncodingForm = "form"
	// BasicEncodingRaw joins them as they are, as RFC 7617 and some
	// servers (and Keboola's generic extractor) do.
	BasicEncodingRaw = "raw"
)

// Defaults applied when neither the user nor its preset sets a value.
const (
	DefaultRefreshSkew  = 30 * time.Second
	DefaultTTL          = 5 * time.Minute
	DefaultRefreshAhead = 0.8
)

// Account is one service account after loading: every inherited value has
// been resolved from its preset and every ${env:NAME} reference replaced.
// It is what the rest of the module works with.
//
// Whatever a field changes in the token request must change the token's
// name in a shared store, or users that differ in it are served each
// other's tokens: a new field fails engine's TestStoreNameCoversEveryField
// until the name covers it or the test lists it as not reaching the
// request.
type Account struct {
	Preset     int    // index of the preset in the document
	Index      int    // index of the user in its preset
	PresetName string // the preset's free-text name label, if any
	Username   string // unique across the document
	// TokenURL is the token endpoint; empty when the preset gives Issuer
	// instead and the endpoint is discovered from its metadata.
	TokenURL string
	// Issuer is the authorization server's issuer identifier (RFC 8414)
	// when the preset discovers its token endpoint; empty with url. It is
	// also the aud of AssertionAudience AudienceIssuer and AudienceBoth
	// (discovery has checked the server's metadata names the same issuer).
	Issuer       string
	Insecure     bool
	ClientID     string
	ClientSecret string // empty with private_key_jwt and the mutual-TLS methods
	// AuthMethod is ClientSecretBasic, ClientSecretPost, ClientSecretJWT,
	// PrivateKeyJWT, TLSClientAuth or SelfSignedTLSClientAuth. It is empty
	// only for a discovered preset (Issuer set) whose user sets none: the
	// engine then picks one from the server's metadata.
	AuthMethod string
	// BasicEncoding is BasicEncodingForm or BasicEncodingRaw; it matters
	// only for ClientSecretBasic.
	BasicEncoding string
	Scopes        []string
	Audience      string
	Resource      []string
	Params        map[string]string // extra form parameters
	Headers       map[string]string // canonical header name -> value
	Cookies       map[string]string
	RefreshSkew   time.Duration // refresh this long before expiry
	DefaultTTL    time.Duration // lifetime assumed when the server gives none
	RefreshAhead  float64       // fraction of lifetime after which to refresh in the background
	// Key signs the client assertion of ClientSecretJWT (an HS256 key
	// made from the secret) and PrivateKeyJWT (the parsed private_key,
	// with kid and alg applied); nil for the other methods. It prints as
	// its algorithm and key id only.
	Key *jose.Key
	// DPoP asks for sender-constrained tokens (RFC 9449): the engine makes
	// a key pair for the user and sends a DPoP proof with every token
	// request; requests made with the token carry a proof as well.
	DPoP bool
	// AssertionAudience is AudienceTokenEndpoint, AudienceIssuer or
	// AudienceBoth for the JWT methods, "" for the others.
	AssertionAudience string
	// Certificate is private_key's certificate given as PEM, parsed and
	// checked at load; CertificateFile is its path when it is a file, which
	// the engine asks the host to read before each token request.
	// CertificateField is where it was written, for errors.
	Certificate      *jose.Certificate
	CertificateFile  string
	CertificateField string
	// AssertionFile is the path of a file holding a client assertion the
	// platform issued (client_assertion_file); the engine asks the host to
	// read it for every token request. AssertionField is where it was
	// written, for errors.
	AssertionFile  string
	AssertionField string
	// FileAssertion is the JWT read from AssertionFile for one token
	// request; the engine sets it on its per-request copy, never at load.
	FileAssertion string
	// keyText is private_key as given, so errors can be scrubbed of it.
	keyText string
	// TLSClient is the client certificate the host presents on the token
	// request, nil for none; TLSCertField and TLSKeyField are where its two
	// halves were written (a user's or its preset's key), for errors.
	TLSClient                 *httpmsg.TLSClient
	TLSCertField, TLSKeyField string
}

// PrivateKeyText returns the private_key text the account was loaded
// with, or "". It exists so error messages can be scrubbed of any part of
// it; never send or print it.
func (a *Account) PrivateKeyText() string { return a.keyText }

// Field returns the path of a field of this account, for error messages.
func (a *Account) Field(name string) string {
	return userPath(a.Preset, a.Index) + "." + name
}
