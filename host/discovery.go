package host

import (
	"context"
	"net/http"
	"strings"
)

// Issuer is an authorization server that a loaded preset discovers (its
// presets give `issuer` instead of `url`).
type Issuer struct {
	Issuer string `json:"issuer"`
	// Insecure is the preset's insecure setting, which decides whether a
	// plain http:// token endpoint is acceptable (see CheckMetadata).
	Insecure bool `json:"insecure,omitempty"`
	// MetadataURLs are the URLs the module GETs for the metadata, in the
	// order it tries them.
	MetadataURLs []string `json:"metadata_urls"`
	Users        []string `json:"users"`
}

// Discovery lists the issuers of the loaded preset, for a program that
// forwards the module's discovery requests for someone else and must know
// which URLs those are (the explorer's relay). The module computes them:
// a host never builds a well-known URL itself.
func (c *Client) Discovery(ctx context.Context) ([]Issuer, error) {
	var res struct {
		Issuers []Issuer `json:"issuers"`
	}
	err := c.run(ctx, call{Op: "discovery"}, &res)
	return res.Issuers, err
}

// Metadata is what the module takes from an authorization server's
// metadata.
type Metadata struct {
	Issuer        string `json:"issuer"`
	TokenEndpoint string `json:"token_endpoint"`
	// MTLSTokenEndpoint is the server's mutual-TLS alias of the token
	// endpoint (RFC 8705 §5), when it gives a usable one.
	MTLSTokenEndpoint string `json:"mtls_token_endpoint,omitempty"`
}

// CheckMetadata asks the module whether an answer to a metadata GET is
// metadata it would use for issuer (insecure as the preset sets it): a 200
// with a JSON object naming exactly that issuer and a token endpoint that
// passes the rules of a preset's url. It answers the endpoints, or the
// *Error a token call would get from the same answer (CodeIssuerMismatch,
// CodeInvalidMetadata, CodeHTTPStatus). It runs on a fresh module instance
// and needs no preset.
func CheckMetadata(ctx context.Context, issuer string, insecure bool, status int, header http.Header, body []byte, opts ...Option) (*Metadata, error) {
	h := make(map[string]string, len(header))
	for k, vs := range header {
		h[k] = strings.Join(vs, ", ")
	}
	var md Metadata
	err := once(ctx, opts, func(*options) call {
		return call{Op: "metadata", Issuer: issuer, Insecure: insecure, Response: &httpResponse{Status: status, Header: h, Body: string(body)}}
	}, &md)
	if err != nil {
		return nil, err
	}
	return &md, nil
}
