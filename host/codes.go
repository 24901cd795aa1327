package host

// The codes an *Error can carry: Error.Code is one of these. They are the
// module's (wasm/ABI.md, "Errors"), written here once so that programs
// compare codes against constants instead of strings.
//
// Besides these, a token endpoint's own OAuth error passes through as its
// code (RFC 6749 §5.2 and the extensions); the common ones have constants
// below too, but any other string a server sends may appear.
const (
	// CodeInvalidPreset: the document does not load (New, Reload, Convert);
	// Error.Issues lists every problem, Field, Line and Column repeat the
	// first.
	CodeInvalidPreset = "invalid_preset"
	// CodeNotLoaded: an operation that needs a loaded preset ran before
	// one loaded. A Client always has one; seen only by other hosts.
	CodeNotLoaded = "not_loaded"
	// CodeUnknownUser: no user of that name in the loaded preset.
	CodeUnknownUser = "unknown_user"
	// CodeUnknownTask: the host resumed a task the module was not waiting
	// for; a bug in a host, never in a Client.
	CodeUnknownTask = "unknown_task"
	// CodeBadRequest: a call the module could not read, or a Sign without
	// a usable method or URL (Field says which).
	CodeBadRequest = "bad_request"
	// CodeSigningFailed: a JWT client assertion or a DPoP proof could not
	// be made; nothing was sent. Field names the key, secret or dpop.
	CodeSigningFailed = "signing_failed"

	// CodeHTTPStatus: the token endpoint answered an error status without
	// an OAuth error body, or (discovery) neither metadata URL answered
	// 200. Error.Status is the status.
	CodeHTTPStatus = "http_status"
	// CodeInvalidResponse: a success status whose body is not a usable
	// token response.
	CodeInvalidResponse = "invalid_response"
	// CodeUnsupportedTokenType: a token_type other than Bearer (or DPoP
	// for a user with dpop: true).
	CodeUnsupportedTokenType = "unsupported_token_type"
	// CodeUseDPoPNonce: the token endpoint still asked for another DPoP
	// nonce after the one retry with the nonce it gave.
	CodeUseDPoPNonce = "use_dpop_nonce"

	// CodeNetwork: no answer came: connection refused or reset, DNS, TLS.
	CodeNetwork = "network"
	// CodeTimeout: the endpoint did not answer within the timeout.
	CodeTimeout = "timeout"
	// CodeTooLarge: the answer was larger than 1 MiB.
	CodeTooLarge = "too_large"
	// CodeCanceled: the caller's context ended first.
	CodeCanceled = "canceled"
	// CodeClientCertificate: the user's client certificate or key could
	// not be used (missing file, no PEM, a key that does not match);
	// Field names the preset key.
	CodeClientCertificate = "client_certificate"
	// CodeUnsupported: the host cannot send this request at all (a
	// client certificate outside the Go host).
	CodeUnsupported = "unsupported"

	// CodeIssuerMismatch: discovery; the metadata names another issuer
	// than the preset's (RFC 8414 §3.3), so it is not used.
	CodeIssuerMismatch = "issuer_mismatch"
	// CodeInvalidMetadata: discovery; the metadata is not JSON or has no
	// usable token_endpoint.
	CodeInvalidMetadata = "invalid_metadata"
	// CodeUnsupportedAuthMethod: discovery; the server lists no token
	// endpoint auth method the user's credentials allow.
	CodeUnsupportedAuthMethod = "unsupported_auth_method"
)

// OAuth error codes a token endpoint commonly answers (RFC 6749 §5.2,
// RFC 8707, RFC 9449), passed through as Error.Code.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeInvalidScope         = "invalid_scope"
	CodeInvalidTarget        = "invalid_target"
	CodeInvalidDPoPProof     = "invalid_dpop_proof"
)
