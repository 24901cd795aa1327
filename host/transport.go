package host

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// Transport returns an http.RoundTripper that sends requests as user: it
// adds the user's Authorization header, headers and cookies (replacing any
// Authorization the request had); for a DPoP token (dpop: true) also a
// fresh DPoP proof for each request. When the server answers 401 with
// WWW-Authenticate error="invalid_token", it drops the token and retries
// once with a new one; when it answers 401 with a DPoP use_dpop_nonce
// challenge and a DPoP-Nonce, it signs again with that nonce and retries
// once. Retries happen only if the request body can be replayed. base nil
// means http.DefaultTransport.
func (c *Client) Transport(user string, base http.RoundTripper, opts ...TokenOption) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{c: c, user: user, base: base, opts: opts}
}

type transport struct {
	c    *Client
	user string
	base http.RoundTripper
	opts []TokenOption
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	nonceRetried, invalidRetried := false, false
	for replay := false; ; replay = true {
		resp, dpop, err := t.send(req, replay)
		if err != nil {
			return nil, err
		}
		var ch challengeResult
		switch {
		case dpop:
			// Every answer to a DPoP request may carry a new nonce.
			ch = t.c.challenge(req.Context(), req, resp)
		case resp.StatusCode == http.StatusUnauthorized && replayable && !invalidRetried:
			ch = t.c.challenge(req.Context(), req, resp)
		}
		switch {
		case resp.StatusCode != http.StatusUnauthorized || !replayable:
			return resp, nil
		case ch.UseDPoPNonce && !nonceRetried:
			nonceRetried = true
		case ch.Invalidate && !invalidRetried:
			invalidRetried = true
			if err := t.c.Invalidate(req.Context(), t.user); err != nil {
				resp.Body.Close()
				return nil, err
			}
		default:
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

// send sends one attempt; dpop says whether it carried a DPoP proof.
func (t *transport) send(req *http.Request, replay bool) (*http.Response, bool, error) {
	fail := func(err error) (*http.Response, bool, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, false, err
	}
	tok, err := t.c.Token(req.Context(), t.user, t.opts...)
	if err != nil {
		return fail(err)
	}
	header, dpop := tok.header, false
	if tok.TokenType == "DPoP" {
		// The cached bearer path above stays free of module calls; a DPoP
		// request needs a proof of its own.
		if header, err = t.c.sign(req.Context(), t.user, req.Method, req.URL.String(), t.opts); err != nil {
			return fail(err)
		}
		dpop = true
	}
	r := req.Clone(req.Context())
	if replay && req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, false, err
		}
	}
	for k, vs := range header {
		if k == "Cookie" && r.Header.Get("Cookie") != "" {
			r.Header.Set("Cookie", r.Header.Get("Cookie")+"; "+vs[0])
			continue
		}
		r.Header[k] = vs
	}
	resp, err := t.base.RoundTrip(r)
	return resp, dpop, err
}

// Sign returns the headers one request of user to method and url carries:
// Authorization, the user's headers and cookies and, for a DPoP token, a
// DPoP proof made for this request (RFC 9449; a new one each call, so
// call it again for a retry). For a Bearer token they are the cached
// token's headers.
func (c *Client) Sign(ctx context.Context, user, method, url string, opts ...TokenOption) (http.Header, error) {
	tok, err := c.Token(ctx, user, opts...)
	if err != nil {
		return nil, err
	}
	if tok.TokenType != "DPoP" {
		return tok.header.Clone(), nil
	}
	return c.sign(ctx, user, method, url, opts)
}

// sign asks the module for a request's headers with a DPoP proof.
func (c *Client) sign(ctx context.Context, user, method, url string, opts []TokenOption) (http.Header, error) {
	req := call{Op: "sign", User: user, Method: method, URL: url}
	for _, opt := range opts {
		opt(&req)
	}
	var res signResult
	if err := c.run(ctx, req, &res); err != nil {
		return nil, err
	}
	h := make(http.Header, len(res.Headers))
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	return h, nil
}

// challenge tells the module about a resource server's answer: its
// DPoP-Nonce (kept for the origin) and, for a 401, what to do.
func (c *Client) challenge(ctx context.Context, req *http.Request, resp *http.Response) challengeResult {
	var res challengeResult
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusUnauthorized && nonce == "" {
		return res
	}
	err := c.run(ctx, call{Op: "challenge", Status: resp.StatusCode,
		WWWAuth: strings.Join(resp.Header.Values("WWW-Authenticate"), ", "),
		URL:     req.URL.String(), DPoPNonce: nonce}, &res)
	if err != nil {
		return challengeResult{}
	}
	return res
}
