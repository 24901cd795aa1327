package engine

import (
	"net/url"
	"strings"

	"github.com/cctoken/cctoken/wasm/internal/oauth"
)

// What happens after a resource server answers a request a host sent for a
// user is decided here, once for every host: the host reports the answer
// and gets back either "done" or the next request to send with its complete
// headers. The whole policy (ABI.md, "After an API's answer"):
//
//   - 401 with a DPoP use_dpop_nonce challenge and a DPoP-Nonce, to a request
//     made with a DPoP token: retry once with a new proof that has the nonce;
//   - 401 with error="invalid_token" (Bearer or DPoP challenge): drop the
//     token the request carried, get a new one, retry once;
//   - both at most once per caller request, in either order (so at most three
//     requests and one extra token);
//   - 301, 302, 303, 307, 308 with a Location on the same origin: follow, at
//     most MaxRedirects hops, signed anew for the new URL; to another origin:
//     done, so nothing of the user's ever reaches it;
//   - a DPoP-Nonce on any answer replaces the origin's remembered nonce;
//   - anything else: done.

// MaxRedirects is how many same-origin redirects one caller request follows.
const MaxRedirects = 5

// Attempt is what the module remembers about one caller request between
// its answers. The host passes back the one it got, unchanged, with the
// next answer of the same caller request; the first answer has none.
type Attempt struct {
	Nonce int `json:"nonce,omitempty"` // use_dpop_nonce retries made (0 or 1)
	Token int `json:"token,omitempty"` // invalid_token retries made (0 or 1)
	Hops  int `json:"hops,omitempty"`  // same-origin redirects followed
}

// AnswerRequest is a resource server's answer to a request of a user: the
// request as sent (Method, URL, the Authorization it carried, whether its
// body can be sent again) and the answer's status and headers.
type AnswerRequest struct {
	TokenRequest
	Method        string  `json:"method"`
	URL           string  `json:"url"`
	Status        int     `json:"status"`
	WWWAuth       string  `json:"www_authenticate,omitempty"`
	DPoPNonce     string  `json:"dpop_nonce,omitempty"`
	Location      string  `json:"location,omitempty"`
	Authorization string  `json:"authorization,omitempty"`
	NoReplay      bool    `json:"no_replay,omitempty"`
	Attempt       Attempt `json:"attempt"`
}

// The actions of an AnswerResult.
const (
	ActionDone   = "done"
	ActionRetry  = "retry"
	ActionFollow = "follow"
)

// The reasons of an AnswerResult.
const (
	ReasonFinal         = "final"          // nothing in the answer calls for another request
	ReasonRetriesUsed   = "retries_used"   // a 401 whose retry was already made
	ReasonNotReplayable = "not_replayable" // the body cannot be sent again
	ReasonOtherOrigin   = "other_origin"   // a redirect to another origin: not followed
	ReasonRedirectLimit = "redirect_limit" // MaxRedirects hops followed already
	ReasonBadLocation   = "bad_location"   // a Location that is not an http(s) URL
	ReasonNonce         = "use_dpop_nonce" // retry with the server's nonce
	ReasonInvalidToken  = "invalid_token"  // retry with a new token
	ReasonRedirect      = "redirect"       // follow a same-origin redirect
)

// AnswerResult says what the host does next: Action done (hand the answer
// to the caller as is), retry or follow (send Method to URL with Headers,
// without a body when DropBody). Invalidated: the request's token was
// refused and the module no longer serves it (it dropped the user's tokens
// if that one was still current), so the host drops its memos of the user
// and tells any token source of its own.
type AnswerResult struct {
	Action      string            `json:"action"`
	Reason      string            `json:"reason"`
	Method      string            `json:"method,omitempty"`
	URL         string            `json:"url,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	DropBody    bool              `json:"drop_body,omitempty"`
	Invalidated bool              `json:"invalidated,omitempty"`
	Attempt     Attempt           `json:"attempt"`
}

// Answer decides what follows a resource server's answer (see above). It
// may ask the host for a token request first (after invalid_token, or when
// no token is cached).
func (e *Engine) Answer(r AnswerRequest) Step {
	if !validMethod(r.Method) {
		return fail(&Error{Code: CodeBadRequest, Field: "method", Message: "answer needs the method the request was sent with, an HTTP method name such as GET"})
	}
	sent, err := url.Parse(r.URL)
	if err != nil || !httpURL(sent) {
		return fail(&Error{Code: CodeBadRequest, Field: "url", Message: "answer needs the absolute http:// or https:// URL the request was sent to"})
	}
	if r.Status < 100 || r.Status > 999 {
		return fail(&Error{Code: CodeBadRequest, Field: "status", Message: "answer needs the response's status code, 100 to 999"})
	}
	if _, errStep := e.account(r.User); errStep.Error != nil {
		return errStep
	}
	if r.DPoPNonce != "" {
		e.setNonce(originOf(sent), r.DPoPNonce)
	}
	a := r.Attempt
	done := func(reason string) Step {
		return Step{Result: AnswerResult{Action: ActionDone, Reason: reason, Attempt: a}}
	}
	switch {
	case r.Status == 401:
		return e.answer401(r, a, done)
	case isRedirect(r.Status) && r.Location != "":
		next, err := sent.Parse(r.Location)
		if err != nil || !httpURL(next) {
			return done(ReasonBadLocation)
		}
		if originOf(next) != originOf(sent) {
			return done(ReasonOtherOrigin)
		}
		if a.Hops >= MaxRedirects {
			return done(ReasonRedirectLimit)
		}
		method, drop := redirectMethod(r.Status, r.Method)
		if r.NoReplay && !drop {
			return done(ReasonNotReplayable)
		}
		a.Hops++
		next.Fragment, next.RawFragment = "", ""
		return e.signThen(r.TokenRequest, method, next.String(), func(s SignResult) Step {
			return Step{Result: AnswerResult{Action: ActionFollow, Reason: ReasonRedirect, Method: method,
				URL: next.String(), Headers: s.Headers, DropBody: drop, Attempt: a}}
		})
	}
	return done(ReasonFinal)
}

// answer401 decides on a 401: a nonce retry before a token retry when the
// answer asks for both.
func (e *Engine) answer401(r AnswerRequest, a Attempt, done func(string) Step) Step {
	wantsNonce := r.DPoPNonce != "" && oauth.UseDPoPNonce(r.WWWAuth)
	invalid := oauth.InvalidToken(r.WWWAuth)
	if !wantsNonce && !invalid {
		return done(ReasonFinal)
	}
	if (!wantsNonce || a.Nonce > 0) && (!invalid || a.Token > 0) {
		return done(ReasonRetriesUsed)
	}
	if r.NoReplay {
		return done(ReasonNotReplayable)
	}
	return e.then(e.Token(r.TokenRequest), func(tr TokenResult) Step {
		if wantsNonce && a.Nonce == 0 && tr.TokenType == "DPoP" {
			// Same token, a new proof: it carries the nonce just remembered.
			a.Nonce++
			return e.retry(r, tr, ReasonNonce, false, a)
		}
		if !invalid {
			// A nonce for a Bearer request: a new try would be the same.
			return done(ReasonFinal)
		}
		if a.Token > 0 {
			return done(ReasonRetriesUsed)
		}
		a.Token++
		_, carried, _ := strings.Cut(r.Authorization, " ")
		if r.Authorization != "" && carried != tr.AccessToken {
			// Another request replaced the refused token already (or the
			// host's token came from elsewhere): use the current one.
			return e.retry(r, tr, ReasonInvalidToken, true, a)
		}
		e.Invalidate(r.User)
		return e.then(e.Token(r.TokenRequest), func(tr TokenResult) Step {
			return e.retry(r, tr, ReasonInvalidToken, true, a)
		})
	})
}

// retry answers "send the request again" with tr's headers for it.
func (e *Engine) retry(r AnswerRequest, tr TokenResult, reason string, invalidated bool, a Attempt) Step {
	s, err := e.signWith(tr, r.Method, r.URL)
	if err != nil {
		return fail(err)
	}
	return Step{Result: AnswerResult{Action: ActionRetry, Reason: reason, Method: r.Method, URL: r.URL,
		Headers: s.Headers, Invalidated: invalidated, Attempt: a}}
}

// signThen signs one request as Sign does and hands the headers to f.
func (e *Engine) signThen(req TokenRequest, method, rawURL string, f func(SignResult) Step) Step {
	return e.then(e.Token(req), func(tr TokenResult) Step {
		s, err := e.signWith(tr, method, rawURL)
		if err != nil {
			return fail(err)
		}
		return f(s)
	})
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// redirectMethod is the method of the request a redirect leads to, as
// fetch makes it: 303, and 301 or 302 after anything but GET or HEAD, turn
// into a GET without a body (drop).
func redirectMethod(status int, method string) (string, bool) {
	safe := method == "GET" || method == "HEAD"
	if !safe && (status == 303 || status == 301 || status == 302) {
		return "GET", true
	}
	return method, false
}

func httpURL(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// originOf is scheme://host:port of an http(s) URL, lowercased, with the
// scheme's default port made explicit, so that https://a and https://a:443
// are one origin (RFC 6454).
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port
}
