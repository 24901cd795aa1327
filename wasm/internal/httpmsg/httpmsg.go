// Package httpmsg holds the HTTP messages that cross the sans-IO boundary:
// the module describes a Request, the host performs it and hands back a
// Response (or a transport Failure). Keeping them here, free of net/http,
// lets the module build for wasip1 without pulling in a network stack.
package httpmsg

import (
	"strings"

	"github.com/cctoken/cctoken/wasm/internal/jsonlite"
)

// Request is what the module asks the host to send. Header keys are in
// canonical form; each header has one value.
type Request struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
	// TLSClient is the client certificate to present in the TLS handshake
	// (RFC 8705 mutual TLS); nil for none.
	TLSClient *TLSClient `json:"tls_client,omitempty"`
	// Kept marks a request the engine sends again unchanged for every
	// fetch of a user until the next load; the abi package then keeps its
	// encoding in JSON and writes it only once.
	Kept bool   `json:"-"`
	JSON []byte `json:"-"`
}

// TLSClient names a client certificate and its private key, each either
// as a file the host reads or as PEM text. Exactly one of CertFile and
// CertPEM is set, and one of KeyFile and KeyPEM. KeyPEM is a secret: it
// must never appear in an error, a log line or an event. The module only
// passes these on; the host parses them.
type TLSClient struct {
	CertFile string `json:"certificate_file,omitempty"`
	CertPEM  string `json:"certificate_pem,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	KeyPEM   string `json:"key_pem,omitempty"`
}

// Response is what the host got back. Header keys may come in any case;
// repeated headers are joined with ", " by the host.
type Response struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
	// BodyBytes, instead of Body, says the body is the last BodyBytes
	// bytes of the call, after its JSON text (ABI.md, "The body after the
	// call"): it is then neither escaped by the host nor unescaped here.
	BodyBytes int `json:"body_bytes,omitempty"`
	// RawHeader, set instead of Header, is the header object as the call
	// carried it (JSON text, escapes and all, checked by
	// jsonlite.StrObject). A fetch reads two or three headers, so they are
	// looked up in the text (Get) instead of each being copied into a
	// map. It points into the call, so it is valid only while the call
	// runs: nothing may keep a Response beyond that.
	RawHeader []byte `json:"-"`
}

// Get returns the value of header name, matched case-insensitively.
func (r *Response) Get(name string) string {
	if r.RawHeader != nil && r.Header == nil {
		v, _ := jsonlite.Lookup(r.RawHeader, name)
		return v
	}
	if v, ok := r.Header[name]; ok {
		return v
	}
	for k, v := range r.Header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Failure reports that the host could not get a response at all.
type Failure struct {
	// Kind is one of "network", "timeout", "too_large", "canceled".
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Field is, for FailClientCertificate and FailUnsupported, the preset
	// key the failure is about: "tls_client_certificate" or "tls_client_key".
	Field string `json:"field,omitempty"`
}

// Failure kinds.
const (
	FailNetwork  = "network"
	FailTimeout  = "timeout"
	FailTooLarge = "too_large"
	FailCanceled = "canceled"
	// FailClientCertificate: the host could not use the request's
	// TLSClient (a file is missing, the PEM does not parse, the key does
	// not match the certificate); nothing was sent.
	FailClientCertificate = "client_certificate"
	// FailUnsupported: the host cannot perform this request at all, e.g.
	// a browser asked to present a client certificate; nothing was sent.
	FailUnsupported = "unsupported"
)

// MaxBody is the largest response body a host passes to the module; larger
// bodies are reported as a FailTooLarge failure.
const MaxBody = 1 << 20
