package preset

import (
	"time"

	"github.com/cctoken/cctoken/wasm/httpmsg"
)

// Auth methods understood by the module.
const (
	ClientSecretBasic = "client_secret_basic"
	ClientSecretPost  = "client_secret_post"
	// RFC 8705 mutual TLS: the client certificate authenticates the
	// client, and client_id goes in the body. Only the Go host can present
	// a certificate.
	TLSClientAuth           = "tls_client_auth"
	SelfSignedTLSClientAuth = "self_signed_tls_client_auth"
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
type Account struct {
	Preset     int    // index of the preset in the document
	Index      int    // index of the user in its preset
	PresetName string // the preset's free-text name label, if any
	Username   string // unique across the document
	// TokenURL is the token endpoint; empty when the preset gives Issuer
	// instead and the endpoint is discovered from its metadata.
	TokenURL string
	// Issuer is the authorization server's issuer identifier (RFC 8414)
	// when the preset discovers its token endpoint; empty with url.
	Issuer       string
	Insecure     bool
	ClientID     string
	ClientSecret string // empty with the mutual-TLS methods
	// AuthMethod is ClientSecretBasic, ClientSecretPost, TLSClientAuth or
	// SelfSignedTLSClientAuth. It is empty
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
	// TLSClient is the client certificate the host presents on the token
	// request, nil for none; TLSCertField and TLSKeyField are where its two
	// halves were written (a user's or its preset's key), for errors.
	TLSClient                 *httpmsg.TLSClient
	TLSCertField, TLSKeyField string
}

// Field returns the path of a field of this account, for error messages.
func (a *Account) Field(name string) string {
	return userPath(a.Preset, a.Index) + "." + name
}
