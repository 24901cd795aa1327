package host

import (
	"io"
	"net/http"
	"strings"
)

// Transport returns an http.RoundTripper that sends requests as user: it
// adds the user's Authorization header, headers and cookies (replacing any
// Authorization the request had). When the server answers 401 with
// WWW-Authenticate error="invalid_token", it drops the token and retries
// once with a new one, if the request body can be replayed. base nil means
// http.DefaultTransport.
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
	resp, err := t.send(req, false)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable || !t.c.invalidToken(req, resp) {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err := t.c.Invalidate(req.Context(), t.user); err != nil {
		return nil, err
	}
	return t.send(req, true)
}

func (t *transport) send(req *http.Request, replay bool) (*http.Response, error) {
	tok, err := t.c.Token(req.Context(), t.user, t.opts...)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	if replay && req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	for k, vs := range tok.header {
		if k == "Cookie" && r.Header.Get("Cookie") != "" {
			r.Header.Set("Cookie", r.Header.Get("Cookie")+"; "+vs[0])
			continue
		}
		r.Header[k] = vs
	}
	return t.base.RoundTrip(r)
}

// invalidToken asks the module whether a 401 means the token went bad.
func (c *Client) invalidToken(req *http.Request, resp *http.Response) bool {
	var res struct {
		Invalidate bool `json:"invalidate"`
	}
	err := c.run(req.Context(), call{Op: "challenge", Status: resp.StatusCode, WWWAuth: strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")}, &res)
	return err == nil && res.Invalidate
}
