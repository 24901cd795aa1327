package host

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Transport returns an http.RoundTripper that sends requests as user: it
// adds the user's Authorization header, headers and cookies (replacing any
// Authorization the request had); for a DPoP token (dpop: true) also a
// fresh DPoP proof for each request. What follows an answer is the
// module's decision (wasm/ABI.md, "After an API's answer"), made the same
// in every host: one retry with the server's DPoP nonce, one retry with a
// new token after invalid_token, same-origin redirects followed (signed
// again for the new URL), a redirect to another origin handed back
// unfollowed. A request whose body cannot be sent again (no GetBody) is
// not retried. base nil means http.DefaultTransport.
//
// Inside an http.Client, which follows redirects on its own: when it
// follows one that this transport handed back because it leads to another
// origin, that hop and every later hop of the chain go out as the
// http.Client made them, with none of the user's credentials. Use
// HTTPClient for a client that does not follow them at all.
func (c *Client) Transport(user string, base http.RoundTripper, opts ...TokenOption) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{c: c, user: user, base: base, opts: opts}
}

// HTTPClient returns an http.Client that sends requests as user through
// Transport(user, nil, opts...) and does not follow a redirect to another
// origin: such a 3xx is the answer, its Location unvisited.
func (c *Client) HTTPClient(user string, opts ...TokenOption) *http.Client {
	return &http.Client{
		Transport:     c.Transport(user, nil, opts...),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type transport struct {
	c    *Client
	user string
	base http.RoundTripper
	opts []TokenOption
}

// awayBody marks the body of a redirect to another origin that the
// transport handed back, so that a hop an http.Client makes to it anyway
// is recognised and sent without credentials.
type awayBody struct{ io.ReadCloser }

// leftOrigin reports whether req is a redirect hop an http.Client follows
// after the transport handed back a redirect to another origin.
func leftOrigin(req *http.Request) bool {
	for r := req.Response; r != nil; r = r.Request.Response {
		if _, away := r.Body.(*awayBody); away {
			return true
		}
		if r.Request == nil {
			break
		}
	}
	return false
}

// The canonical forms of DPoP's header names (Go spells them Dpop), so the
// common path looks them up without canonicalising on every request.
var (
	dpopKey      = http.CanonicalHeaderKey("DPoP")
	dpopNonceKey = http.CanonicalHeaderKey("DPoP-Nonce")
)

// Headers of a body, dropped when a redirect turns the request into a GET
// (as fetch does).
var bodyHeaders = []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Content-Location"}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if leftOrigin(req) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	hasBody := req.Body != nil && req.Body != http.NoBody
	header, err := t.first(ctx, req)
	if err != nil {
		if hasBody {
			req.Body.Close()
		}
		return nil, err
	}
	method, target, body := req.Method, req.URL, hasBody
	var attempt json.RawMessage
	for n := 0; ; n++ {
		r := req.Clone(ctx)
		r.Method, r.URL = method, target
		if target != req.URL {
			r.Host = ""
		}
		switch {
		case !body:
			r.Body, r.GetBody, r.ContentLength = nil, nil, 0
			if hasBody {
				for _, h := range bodyHeaders {
					r.Header.Del(h)
				}
			}
		case n > 0:
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		addHeaders(r.Header, header)
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		if !mayAct(resp) {
			return resp, nil
		}
		var ans answerResult
		a := call{Op: "answer", User: t.user, Method: method, URL: target.String(), Status: resp.StatusCode,
			WWWAuth: strings.Join(resp.Header.Values("WWW-Authenticate"), ", "), DPoPNonce: resp.Header.Get("DPoP-Nonce"),
			Location: resp.Header.Get("Location"), Authorization: header.Get("Authorization"),
			NoReplay: body && req.GetBody == nil, Attempt: attempt}
		for _, opt := range t.opts {
			opt(&a)
		}
		if err := t.c.run(ctx, a, &ans); err != nil {
			resp.Body.Close()
			return nil, err
		}
		if ans.Invalidated {
			t.c.dropMemos(t.user)
		}
		if ans.Action != "retry" && ans.Action != "follow" {
			if ans.Reason == "other_origin" {
				resp.Body = &awayBody{resp.Body}
			}
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if target, err = url.Parse(ans.URL); err != nil {
			return nil, err
		}
		method, attempt = ans.Method, ans.Attempt
		body = body && !ans.DropBody
		header = make(http.Header, len(ans.Headers))
		for k, v := range ans.Headers {
			header.Set(k, v)
		}
	}
}

// mayAct reports whether the module could do anything with resp (ABI.md:
// a host may skip the answer call for every other answer, which keeps the
// common path free of module calls).
func mayAct(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized || len(resp.Header[dpopNonceKey]) > 0 ||
		(resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "")
}

// first is the headers of a caller request's first attempt: the token's,
// or for a DPoP token the module's with a proof for this request.
func (t *transport) first(ctx context.Context, req *http.Request) (http.Header, error) {
	tok, err := t.c.Token(ctx, t.user, t.opts...)
	if err != nil {
		return nil, err
	}
	if tok.TokenType != "DPoP" {
		// The cached bearer path stays free of module calls.
		return tok.header, nil
	}
	return t.c.sign(ctx, t.user, req.Method, req.URL.String(), t.opts)
}

// addHeaders puts the user's headers on a request: they replace the
// caller's of the same name, except Cookie, which is added to.
func addHeaders(dst, add http.Header) {
	delete(dst, dpopKey)
	for k, vs := range add {
		if k == "Cookie" && dst.Get("Cookie") != "" {
			dst.Set("Cookie", dst.Get("Cookie")+"; "+vs[0])
			continue
		}
		dst[k] = vs
	}
}

// Sign returns the headers one request of user to method and url carries:
// Authorization, the user's headers and cookies and, for a DPoP token, a
// DPoP proof made for this request (RFC 9449; a new one each call, so
// call it again for a retry). For a Bearer token they are the cached
// token's headers. Sign makes no decision about the answer: Transport does
// (through the module).
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
