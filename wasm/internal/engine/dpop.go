package engine

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"maps"
	"net/url"
	"strings"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jose"
	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// DPoP (RFC 9449). A user with dpop: true gets a P-256 key pair, made here
// from the host's randomness the first time it is needed and kept until the
// next load; it never leaves the engine (proofs carry its public half).
// Every token request of such a user carries a proof, and so does every
// request made with a DPoP token: hosts get those headers from Sign. Nonces
// a server hands out in DPoP-Nonce headers are kept per origin and put in
// the following proofs for that origin.

// useDPoPNonce is the error a server answers when it wants a proof with its
// nonce (RFC 9449 §8, §9).
const useDPoPNonce = "use_dpop_nonce"

// dpopHeader is the request and response header names of RFC 9449.
const (
	dpopHeader      = "DPoP"
	dpopNonceHeader = "DPoP-Nonce"
)

// SignRequest asks for the headers of one outgoing request of a user: the
// token is picked as by TokenRequest, Method and URL are the request's,
// Nonce is a DPoP nonce the resource server gave (else the one remembered
// for the URL's origin is used).
type SignRequest struct {
	TokenRequest
	Method string `json:"method"`
	URL    string `json:"url"`
	Nonce  string `json:"nonce,omitempty"`
}

// SignResult is what one outgoing request carries: Authorization (Bearer
// or DPoP), the DPoP proof when the token is a DPoP one, and the user's
// headers and cookies. UseUntil is the token's (Unix ms).
type SignResult struct {
	User      string            `json:"user"`
	TokenType string            `json:"token_type"`
	UseUntil  int64             `json:"use_until"`
	Headers   map[string]string `json:"headers"`
}

// Sign returns the headers for one request of req.User to req.URL, asking
// the host for a token first when none is cached.
func (e *Engine) Sign(req SignRequest) Step {
	if !validMethod(req.Method) {
		return fail(&Error{Code: CodeBadRequest, Field: "method", Message: "sign needs the request's method, an HTTP method name such as GET or POST"})
	}
	if _, ok := origin(req.URL); !ok {
		return fail(&Error{Code: CodeBadRequest, Field: "url", Message: "sign needs the request's absolute http:// or https:// URL"})
	}
	if req.Nonce != "" {
		o, _ := origin(req.URL)
		e.setNonce(o, req.Nonce)
	}
	return e.signThen(req.TokenRequest, req.Method, req.URL, func(s SignResult) Step { return Step{Result: s} })
}

// signWith makes the headers of one request with tr: the token's own for a
// Bearer token; for a DPoP one, Authorization: DPoP and a new proof for
// method and rawURL.
func (e *Engine) signWith(tr TokenResult, method, rawURL string) (SignResult, *Error) {
	res := SignResult{User: tr.User, TokenType: tr.TokenType, UseUntil: tr.UseUntil, Headers: tr.Headers}
	if tr.TokenType != "DPoP" {
		return res, nil
	}
	proof, err := e.proof(tr.User, method, rawURL, tr.AccessToken)
	if err != nil {
		return res, err
	}
	res.Headers = maps.Clone(tr.Headers)
	res.Headers["Authorization"] = "DPoP " + tr.AccessToken
	res.Headers[dpopHeader] = proof
	return res, nil
}

// then runs f on the TokenResult that s ends with, now or after the host
// has performed the effects s asks for.
func (e *Engine) then(s Step, f func(TokenResult) Step) Step {
	switch {
	case s.Task != 0:
		next := e.tasks[s.Task]
		e.tasks[s.Task] = func(in Input) Step { return e.then(next(in), f) }
		return s
	case s.Result != nil:
		if tr, ok := s.Result.(TokenResult); ok {
			return f(tr)
		}
	}
	return s
}

// ChallengeRequest is a resource server's answer to a signed request: its
// status, WWW-Authenticate and DPoP-Nonce headers, and the request's URL.
type ChallengeRequest struct {
	Status    int    `json:"status"`
	WWWAuth   string `json:"www_authenticate"`
	URL       string `json:"url,omitempty"`
	DPoPNonce string `json:"dpop_nonce,omitempty"`
}

// Challenge tells the host what to do with a resource server's answer:
// invalidate the token and retry once (a 401 whose WWW-Authenticate says
// error="invalid_token", RFC 6750 §3), or sign again and retry once (a 401
// with a DPoP use_dpop_nonce challenge and a DPoP-Nonce, RFC 9449 §9). A
// DPoP-Nonce of any answer is remembered for the URL's origin.
func (e *Engine) Challenge(c ChallengeRequest) Step {
	o, ok := origin(c.URL)
	if ok && c.DPoPNonce != "" {
		e.setNonce(o, c.DPoPNonce)
	}
	return Step{Result: ChallengeResult{
		Invalidate:   c.Status == 401 && oauth.InvalidToken(c.WWWAuth),
		UseDPoPNonce: c.Status == 401 && ok && c.DPoPNonce != "" && oauth.UseDPoPNonce(c.WWWAuth),
	}}
}

// dpopRequest adds a proof for the token request to r, for a DPoP user.
func (e *Engine) dpopRequest(acct *preset.Account, r *httpmsg.Request) *Error {
	if !acct.DPoP {
		return nil
	}
	proof, err := e.proof(acct.Username, r.Method, r.URL, "")
	if err != nil {
		return err
	}
	r.Header[dpopHeader] = proof
	return nil
}

// rememberNonce keeps the DPoP-Nonce of a response to rawURL.
func (e *Engine) rememberNonce(rawURL string, resp *httpmsg.Response) {
	if resp == nil {
		return
	}
	if n := resp.Get(dpopNonceHeader); n != "" {
		if o, ok := origin(rawURL); ok {
			e.setNonce(o, n)
		}
	}
}

// maxNonces bounds the origins whose nonce is kept: a host passes the
// URLs of every request, so the map must not grow with them.
const maxNonces = 256

func (e *Engine) setNonce(origin, nonce string) {
	if _, known := e.nonces[origin]; !known && len(e.nonces) >= maxNonces {
		e.nonces = map[string]string{}
	}
	e.nonces[origin] = nonce
}

// proof makes a DPoP proof (RFC 9449 §4.2) of user for a request; token is
// the access token it is presented with, or "" for a token request.
func (e *Engine) proof(user, method, rawURL, token string) (string, *Error) {
	key := e.dpopKeys[user]
	if key == nil {
		var err error
		if key, err = jose.GenerateES256(e.random); err != nil {
			return "", &Error{Code: CodeSigningFailed, User: user, Field: "dpop", Message: err.Error()}
		}
		e.dpopKeys[user] = key
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", &Error{Code: CodeBadRequest, User: user, Field: "url", Message: "the request URL cannot be parsed; give an absolute http:// or https:// URL"}
	}
	o, _ := origin(rawURL)
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	var jti [16]byte
	if _, err := io.ReadFull(e.random, jti[:]); err != nil {
		return "", &Error{Code: CodeSigningFailed, User: user, Field: "dpop", Message: "no random bytes for a DPoP proof's jti; the host must give the module a working random source (WASI random_get)"}
	}
	b64 := base64.RawURLEncoding.EncodeToString
	claims := map[string]any{
		"jti": b64(jti[:]),
		"htm": method,
		"htu": u.String(),
		"iat": e.now().Unix(),
	}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims["ath"] = b64(sum[:])
	}
	if n := e.nonces[o]; n != "" {
		claims["nonce"] = n
	}
	jwt, err := key.Sign(map[string]any{"typ": "dpop+jwt", "jwk": key.PublicJWK()}, claims, e.random)
	if err != nil {
		return "", &Error{Code: CodeSigningFailed, User: user, Field: "dpop", Message: "the DPoP proof could not be signed: " + err.Error()}
	}
	return jwt, nil
}

// origin is the origin of an absolute http(s) URL (see originOf).
func origin(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || !httpURL(u) {
		return "", false
	}
	return originOf(u), true
}

// validMethod: an HTTP method is a token (RFC 9110 §9.1).
func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
