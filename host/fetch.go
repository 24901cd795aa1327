package host

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// maxBody is the largest token response passed to the module (1 MiB).
const maxBody = 1 << 20

// noRedirects copies base (or a default client) with redirects turned off:
// a token endpoint that redirects is misconfigured, and following it would
// resend credentials to another URL.
func noRedirects(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{Timeout: timeout}
	if base != nil {
		cp := *base
		c = &cp
		if c.Timeout == 0 {
			c.Timeout = timeout
		}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// perform is the fetch bridge: it sends the module's request and returns
// the response, or the failure the module should see.
func (c *Client) perform(ctx context.Context, r *httpRequest) (*httpResponse, *httpFailure) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		return nil, &httpFailure{Kind: "network", Message: "the request could not be built"}
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	countRequest(ctx)
	hc := c.http
	if r.TLSClient != nil {
		var failure *httpFailure
		if hc, failure = c.certs.client(c.http, r.TLSClient); failure != nil {
			return nil, failure
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, failureOf(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, failureOf(ctx, err)
	}
	if len(body) > maxBody {
		return nil, &httpFailure{Kind: "too_large", Message: "the token endpoint's answer is larger than 1 MiB"}
	}
	h := make(map[string]string, len(resp.Header))
	for k, vs := range resp.Header {
		h[k] = strings.Join(vs, ", ")
	}
	return &httpResponse{Status: resp.StatusCode, Header: h, BodyBytes: len(body), raw: body}, nil
}

// failureOf classifies a transport error without passing its text on when
// it might carry the request URL's userinfo; the module writes the message.
func failureOf(ctx context.Context, err error) *httpFailure {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &httpFailure{Kind: "canceled", Message: "the request was canceled"}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return &httpFailure{Kind: "timeout", Message: "the token endpoint did not answer in time"}
	default:
		return &httpFailure{Kind: "network", Message: transportMessage(err)}
	}
}

// transportMessage keeps the innermost cause (connection refused, reset,
// unexpected EOF, TLS errors) and drops the URL, which the module knows.
func transportMessage(err error) string {
	var ue interface{ Unwrap() error }
	for errors.As(err, &ue) {
		inner := ue.Unwrap()
		if inner == nil {
			break
		}
		err = inner
	}
	return err.Error()
}
