// Package httpmsg holds the HTTP messages that cross the sans-IO boundary:
// the module describes a Request, the host performs it and hands back a
// Response (or a transport Failure). Keeping them here, free of net/http,
// lets the module build for wasip1 without pulling in a network stack.
package httpmsg

import "strings"

// Request is what the module asks the host to send. Header keys are in
// canonical form; each header has one value.
type Request struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
}

// Response is what the host got back. Header keys may come in any case;
// repeated headers are joined with ", " by the host.
type Response struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
}

// Get returns the value of header name, matched case-insensitively.
func (r *Response) Get(name string) string {
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
}

// Failure kinds.
const (
	FailNetwork  = "network"
	FailTimeout  = "timeout"
	FailTooLarge = "too_large"
	FailCanceled = "canceled"
)

// MaxBody is the largest response body a host passes to the module; larger
// bodies are reported as a FailTooLarge failure.
const MaxBody = 1 << 20
