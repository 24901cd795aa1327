package engine

import (
	"fmt"
	"strings"
	"testing"
)

// apiAnswer is what a fake resource server answers to its n-th request
// (from 0) of one caller request.
type apiAnswer struct {
	status   int
	www      string
	nonce    string
	location string
}

// sent is one request the simulated host sent to the API.
type sent struct {
	method, url string
	headers     map[string]string
	body        bool
}

// hostSim plays a host: it signs the first request, sends it to api,
// reports each answer to Answer and follows what the module says, issuing
// tokens tok-1, tok-2, … for every token request. It returns the API
// requests, the number of token requests and the last answer.
func hostSim(t *testing.T, e *Engine, user, method, url string, noReplay bool, tokens *int, api func(n int, s sent) apiAnswer) ([]sent, AnswerResult) {
	t.Helper()
	tokenType := map[string]string{"d": "DPoP", "b": "Bearer"}[user]
	run := func(s Step) any {
		for i := 0; s.HTTP != nil; i++ {
			if i > 3 {
				t.Fatal("too many effects")
			}
			*tokens++
			s = e.Resume(s.Task, Input{Response: ok(fmt.Sprintf(`{"access_token":"tok-%d","token_type":%q,"expires_in":3600}`, *tokens, tokenType))})
		}
		if s.Error != nil {
			t.Fatalf("step error: %+v", s.Error)
		}
		return s.Result
	}
	first := run(e.Sign(SignRequest{TokenRequest: TokenRequest{User: user}, Method: method, URL: url})).(SignResult)
	cur := sent{method: method, url: url, headers: first.Headers, body: method != "GET"}
	var reqs []sent
	var attempt Attempt
	for n := 0; n < 20; n++ {
		reqs = append(reqs, cur)
		a := api(n, cur)
		res := run(e.Answer(AnswerRequest{TokenRequest: TokenRequest{User: user}, Method: cur.method, URL: cur.url,
			Status: a.status, WWWAuth: a.www, DPoPNonce: a.nonce, Location: a.location,
			Authorization: cur.headers["Authorization"], NoReplay: noReplay && cur.body, Attempt: attempt})).(AnswerResult)
		if res.Action == ActionDone {
			return reqs, res
		}
		attempt = res.Attempt
		cur = sent{method: res.Method, url: res.URL, headers: res.Headers, body: cur.body && !res.DropBody}
	}
	t.Fatal("the module never said done")
	return nil, AnswerResult{}
}

const (
	nonceWWW   = `DPoP error="use_dpop_nonce", error_description="send the nonce"`
	invalidWWW = `Bearer realm="api", error="invalid_token"`
)

func TestAnswerPolicy(t *testing.T) {
	api := "https://api.example.com/v1/things?page=2"
	always := func(a apiAnswer) func(int, sent) apiAnswer { return func(int, sent) apiAnswer { return a } }
	seq := func(as ...apiAnswer) func(int, sent) apiAnswer {
		return func(n int, _ sent) apiAnswer {
			if n < len(as) {
				return as[n]
			}
			return as[len(as)-1]
		}
	}
	tests := []struct {
		name      string
		user      string
		method    string
		url       string
		noReplay  bool
		api       func(int, sent) apiAnswer
		requests  int
		tokens    int
		reason    string
		lastURL   string // "" means url
		lastMeth  string // "" means method
		lastBody  bool
		lastNonce string // the last proof's nonce (DPoP users)
	}{
		{name: "200", user: "b", api: always(apiAnswer{status: 200}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "404", user: "d", api: always(apiAnswer{status: 404}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "401 without an error", user: "b", api: always(apiAnswer{status: 401, www: `Bearer realm="api"`}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "403 invalid_token is not a 401", user: "b", api: always(apiAnswer{status: 403, www: invalidWWW}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "invalid_token always: one new token, one retry", user: "b", api: always(apiAnswer{status: 401, www: invalidWWW}), requests: 2, tokens: 2, reason: ReasonRetriesUsed},
		{name: "invalid_token once", user: "b", api: seq(apiAnswer{status: 401, www: invalidWWW}, apiAnswer{status: 200}), requests: 2, tokens: 2, reason: ReasonFinal},
		{name: "invalid_token, body not replayable", user: "b", method: "POST", noReplay: true, api: always(apiAnswer{status: 401, www: invalidWWW}), requests: 1, tokens: 1, reason: ReasonNotReplayable},
		{name: "DPoP invalid_token in a DPoP challenge", user: "d", api: always(apiAnswer{status: 401, www: `DPoP error="invalid_token"`}), requests: 2, tokens: 2, reason: ReasonRetriesUsed},
		{name: "nonce always: one retry with the nonce", user: "d", api: always(apiAnswer{status: 401, www: nonceWWW, nonce: "n1"}), requests: 2, tokens: 1, reason: ReasonRetriesUsed, lastNonce: "n1"},
		{name: "nonce, then 200", user: "d", api: seq(apiAnswer{status: 401, www: nonceWWW, nonce: "n1"}, apiAnswer{status: 200}), requests: 2, tokens: 1, reason: ReasonFinal, lastNonce: "n1"},
		{name: "nonce challenge without a DPoP-Nonce", user: "d", api: always(apiAnswer{status: 401, www: nonceWWW}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "nonce challenge to a Bearer request", user: "b", api: always(apiAnswer{status: 401, www: nonceWWW, nonce: "n1"}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "the issue's case: nonce, then invalid_token to everything", user: "d",
			api:      seq(apiAnswer{status: 401, www: nonceWWW, nonce: "n1"}, apiAnswer{status: 401, www: `DPoP error="invalid_token"`, nonce: "n2"}),
			requests: 3, tokens: 2, reason: ReasonRetriesUsed, lastNonce: "n2"},
		{name: "invalid_token, then nonce to everything", user: "d",
			api:      seq(apiAnswer{status: 401, www: `DPoP error="invalid_token"`}, apiAnswer{status: 401, www: nonceWWW, nonce: "n3"}),
			requests: 3, tokens: 2, reason: ReasonRetriesUsed, lastNonce: "n3"},
		{name: "both in one answer: nonce first, then the token", user: "d",
			api:      always(apiAnswer{status: 401, www: nonceWWW + `, Bearer error="invalid_token"`, nonce: "n4"}),
			requests: 3, tokens: 2, reason: ReasonRetriesUsed, lastNonce: "n4"},
		{name: "same-origin redirect", user: "d", api: seq(apiAnswer{status: 302, location: "/v2/things"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://api.example.com/v2/things"},
		{name: "same origin with the default port spelled out", user: "b", api: seq(apiAnswer{status: 301, location: "https://API.example.com:443/x#frag"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://API.example.com:443/x"},
		{name: "redirect to another host", user: "b", api: always(apiAnswer{status: 302, location: "https://evil.example/x"}), requests: 1, tokens: 1, reason: ReasonOtherOrigin},
		{name: "redirect to another port", user: "b", api: always(apiAnswer{status: 307, location: "https://api.example.com:8443/x"}), requests: 1, tokens: 1, reason: ReasonOtherOrigin},
		{name: "redirect to http", user: "b", api: always(apiAnswer{status: 308, location: "http://api.example.com/x"}), requests: 1, tokens: 1, reason: ReasonOtherOrigin},
		{name: "redirect to a scheme-relative other host", user: "d", api: always(apiAnswer{status: 302, location: "//evil.example/x"}), requests: 1, tokens: 1, reason: ReasonOtherOrigin},
		{name: "redirect to javascript:", user: "b", api: always(apiAnswer{status: 302, location: "javascript:alert(1)"}), requests: 1, tokens: 1, reason: ReasonBadLocation},
		{name: "3xx without a Location", user: "b", api: always(apiAnswer{status: 302}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "304 is not a redirect", user: "b", api: always(apiAnswer{status: 304, location: "/x"}), requests: 1, tokens: 1, reason: ReasonFinal},
		{name: "redirect loop: five hops", user: "b", api: always(apiAnswer{status: 302, location: "/again"}), requests: 6, tokens: 1, reason: ReasonRedirectLimit,
			lastURL: "https://api.example.com/again"},
		{name: "303 after POST: GET without the body", user: "b", method: "POST", api: seq(apiAnswer{status: 303, location: "/done"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://api.example.com/done", lastMeth: "GET"},
		{name: "303 after POST whose body is gone", user: "b", method: "POST", noReplay: true, api: seq(apiAnswer{status: 303, location: "/done"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://api.example.com/done", lastMeth: "GET"},
		{name: "302 after PUT: GET", user: "d", method: "PUT", api: seq(apiAnswer{status: 302, location: "/done"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://api.example.com/done", lastMeth: "GET"},
		{name: "303 after HEAD stays HEAD", user: "b", method: "HEAD", api: seq(apiAnswer{status: 303, location: "/h"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://api.example.com/h", lastMeth: "HEAD"},
		{name: "307 after POST keeps the method and body", user: "d", method: "POST", api: seq(apiAnswer{status: 307, location: "/v3"}, apiAnswer{status: 200}),
			requests: 2, tokens: 1, reason: ReasonFinal, lastURL: "https://api.example.com/v3", lastMeth: "POST", lastBody: true},
		{name: "307 after POST whose body is gone", user: "b", method: "POST", noReplay: true, api: always(apiAnswer{status: 307, location: "/v3"}),
			requests: 1, tokens: 1, reason: ReasonNotReplayable},
		{name: "redirect, then invalid_token, then nonce: the retries count per caller request", user: "d",
			api: seq(apiAnswer{status: 308, location: "/moved"}, apiAnswer{status: 401, www: `DPoP error="invalid_token"`},
				apiAnswer{status: 401, www: nonceWWW, nonce: "n5"}, apiAnswer{status: 401, www: `DPoP error="invalid_token"`, nonce: "n6"}),
			requests: 4, tokens: 2, reason: ReasonRetriesUsed, lastURL: "https://api.example.com/moved", lastNonce: "n5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := dpopLoaded(t)
			method, url := tt.method, tt.url
			if method == "" {
				method = "GET"
			}
			if url == "" {
				url = api
			}
			tokens := 0
			reqs, last := hostSim(t, e, tt.user, method, url, tt.noReplay, &tokens, tt.api)
			if len(reqs) != tt.requests || tokens != tt.tokens || last.Reason != tt.reason {
				t.Fatalf("%d API requests, %d token requests, done %q; want %d, %d, %q", len(reqs), tokens, last.Reason, tt.requests, tt.tokens, tt.reason)
			}
			end := reqs[len(reqs)-1]
			wantURL, wantMethod := tt.lastURL, tt.lastMeth
			if wantURL == "" {
				wantURL = url
			}
			if wantMethod == "" {
				wantMethod = method
			}
			if end.url != wantURL || end.method != wantMethod {
				t.Errorf("last request %s %s, want %s %s", end.method, end.url, wantMethod, wantURL)
			}
			if tt.lastBody != (end.body && method != "GET" && method != "HEAD") && tt.lastBody {
				t.Errorf("last request body %v, want %v", end.body, tt.lastBody)
			}
			if (tt.lastMeth == "GET" && method != "GET") && end.body {
				t.Error("the body was kept after a change to GET")
			}
			jtis := map[string]bool{}
			for i, r := range reqs {
				// Every request carries the user's headers and the token.
				if r.headers["X-Team"] != "red" && tt.user == "d" || !strings.HasPrefix(r.headers["Authorization"], map[string]string{"d": "DPoP tok-", "b": "Bearer tok-"}[tt.user]) {
					t.Errorf("request %d headers %v", i, r.headers)
				}
				if tt.user != "d" {
					if _, ok := r.headers["DPoP"]; ok {
						t.Errorf("request %d of a Bearer user has a proof", i)
					}
					continue
				}
				_, c := proofParts(t, r.headers["DPoP"])
				if jtis[c["jti"].(string)] {
					t.Errorf("request %d reuses a proof", i)
				}
				jtis[c["jti"].(string)] = true
				htu := strings.SplitN(strings.SplitN(r.url, "?", 2)[0], "#", 2)[0]
				if c["htm"] != r.method || c["htu"] != htu {
					t.Errorf("request %d %s %s has a proof for %v %v", i, r.method, r.url, c["htm"], c["htu"])
				}
				if i == len(reqs)-1 && tt.lastNonce != "" && c["nonce"] != tt.lastNonce {
					t.Errorf("last proof nonce %v, want %s", c["nonce"], tt.lastNonce)
				}
			}
		})
	}
}

// A token retry after another request already replaced the refused token
// uses the current one: no second token request, but the host is still
// told to drop the refused token from its memos.
func TestAnswerKeepsANewerToken(t *testing.T) {
	e, _ := dpopLoaded(t)
	tokens := 0
	hostSim(t, e, "b", "GET", "https://api.example.com/", false, &tokens, func(int, sent) apiAnswer { return apiAnswer{status: 200} })
	s := e.Answer(AnswerRequest{TokenRequest: TokenRequest{User: "b"}, Method: "GET", URL: "https://api.example.com/",
		Status: 401, WWWAuth: invalidWWW, Authorization: "Bearer tok-old"})
	r, _ := s.Result.(AnswerResult)
	if s.HTTP != nil || r.Action != ActionRetry || !r.Invalidated || r.Headers["Authorization"] != "Bearer tok-1" {
		t.Fatalf("answer = %+v %+v", s, r)
	}
	// The refused token is the current one: dropped, a new one fetched.
	s = e.Answer(AnswerRequest{TokenRequest: TokenRequest{User: "b"}, Method: "GET", URL: "https://api.example.com/",
		Status: 401, WWWAuth: invalidWWW, Authorization: "Bearer tok-1"})
	if s.HTTP == nil {
		t.Fatalf("no token request after the current token was refused: %+v", s)
	}
	s = e.Resume(s.Task, Input{Response: ok(`{"access_token":"tok-2","token_type":"Bearer","expires_in":3600}`)})
	if r, _ := s.Result.(AnswerResult); !r.Invalidated || r.Headers["Authorization"] != "Bearer tok-2" || r.Attempt.Token != 1 {
		t.Fatalf("answer = %+v", s)
	}
}

// A DPoP-Nonce on any answer, whatever its status, is the origin's nonce
// from then on; other origins keep theirs.
func TestAnswerRemembersNonces(t *testing.T) {
	e, _ := dpopLoaded(t)
	tokens := 0
	hostSim(t, e, "d", "GET", "https://api.example.com/a", false, &tokens, func(int, sent) apiAnswer { return apiAnswer{status: 200, nonce: "fresh"} })
	for _, tt := range []struct{ url, nonce string }{
		{"https://api.example.com:443/b", "fresh"},
		{"https://api.example.com:8443/b", ""},
		{"https://auth.example.com/token", ""},
	} {
		s := e.Sign(SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GET", URL: tt.url})
		_, c := proofParts(t, s.Result.(SignResult).Headers["DPoP"])
		if got, _ := c["nonce"].(string); got != tt.nonce {
			t.Errorf("%s: nonce %q, want %q", tt.url, got, tt.nonce)
		}
	}
}

func TestAnswerBadRequests(t *testing.T) {
	e, _ := dpopLoaded(t)
	for _, tt := range []struct {
		r     AnswerRequest
		field string
	}{
		{AnswerRequest{TokenRequest: TokenRequest{User: "b"}, URL: "https://a.example/", Status: 200}, "method"},
		{AnswerRequest{TokenRequest: TokenRequest{User: "b"}, Method: "GET", URL: "/relative", Status: 200}, "url"},
		{AnswerRequest{TokenRequest: TokenRequest{User: "b"}, Method: "GET", URL: "ftp://a.example/", Status: 200}, "url"},
		{AnswerRequest{TokenRequest: TokenRequest{User: "b"}, Method: "GET", URL: "https://a.example/"}, "status"},
		{AnswerRequest{TokenRequest: TokenRequest{User: "nobody"}, Method: "GET", URL: "https://a.example/", Status: 200}, "user"},
	} {
		s := e.Answer(tt.r)
		if s.Error == nil || (s.Error.Field != tt.field && !(tt.field == "user" && s.Error.Code == CodeUnknownUser)) {
			t.Errorf("Answer(%+v) = %+v", tt.r, s.Error)
		}
	}
}
