package oauth

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const ttl = 7 * time.Minute

// jwt builds an unsigned JWT with the given payload JSON.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func jsonResp(status int, body string) *httpmsg.Response {
	return &httpmsg.Response{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: body}
}

func TestParseTokenResponseOK(t *testing.T) {
	future := jwt(`{"sub":"svc","exp":` + itoa(now.Unix()+3000) + `}`)
	past := jwt(`{"sub":"svc","exp":` + itoa(now.Unix()-10) + `}`)
	quoted := jwt(`{"exp":"` + itoa(now.Unix()+3000) + `"}`)
	requested := []string{"read", "write"}
	tests := []struct {
		name     string
		resp     *httpmsg.Response
		token    string
		lifetime time.Duration
		source   string
		scopes   []string
	}{
		{"json", jsonResp(200, `{"access_token":"abc","token_type":"Bearer","expires_in":3600,"scope":"read"}`),
			"abc", time.Hour, SourceExpiresIn, []string{"read"}},
		{"json charset, bearer lower", &httpmsg.Response{Status: 200, Header: map[string]string{"content-type": "application/json; charset=utf-8"},
			Body: `{"access_token":"abc","token_type":"bearer","expires_in":60}`}, "abc", time.Minute, SourceExpiresIn, requested},
		{"BEARER upper, +json type", &httpmsg.Response{Status: 201, Header: map[string]string{"Content-Type": "application/vnd.x+json"},
			Body: `{"access_token":"abc","token_type":"BEARER","expires_in":60}`}, "abc", time.Minute, SourceExpiresIn, requested},
		{"expires_in string", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":"120"}`),
			"abc", 2 * time.Minute, SourceExpiresIn, requested},
		{"expires_in float", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":1.5}`),
			"abc", 1500 * time.Millisecond, SourceExpiresIn, requested},
		{"expires_in 0 is absent", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":0}`),
			"abc", ttl, SourceDefaultTTL, requested},
		{"expires_in null", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":null}`),
			"abc", ttl, SourceDefaultTTL, requested},
		{"expires_in huge is capped", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":1e300}`),
			"abc", maxLifetime, SourceExpiresIn, requested},
		{"jwt exp", jsonResp(200, `{"access_token":"`+future+`","token_type":"Bearer"}`),
			future, 3000 * time.Second, SourceJWTExp, requested},
		{"expires_in wins over jwt", jsonResp(200, `{"access_token":"`+future+`","token_type":"Bearer","expires_in":10}`),
			future, 10 * time.Second, SourceExpiresIn, requested},
		{"jwt exp in the past", jsonResp(200, `{"access_token":"`+past+`","token_type":"Bearer"}`),
			past, ttl, SourceDefaultTTL, requested},
		{"jwt exp quoted is ignored", jsonResp(200, `{"access_token":"`+quoted+`","token_type":"Bearer"}`),
			quoted, ttl, SourceDefaultTTL, requested},
		{"opaque token", jsonResp(200, `{"access_token":"a.b.c","token_type":"Bearer"}`),
			"a.b.c", ttl, SourceDefaultTTL, requested},
		{"form", &httpmsg.Response{Status: 200, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body: "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist+user&token_type=bearer"},
			"gho_16C7e42F292c6912E7710c838347Ae178B4a", ttl, SourceDefaultTTL, []string{"repo,gist", "user"}},
		{"text/plain form", &httpmsg.Response{Status: 200, Header: map[string]string{"Content-Type": "text/plain"},
			Body: "access_token=abc&token_type=bearer&expires_in=30"}, "abc", 30 * time.Second, SourceExpiresIn, requested},
		{"text/plain json", &httpmsg.Response{Status: 200, Header: map[string]string{"Content-Type": "text/plain"},
			Body: `{"access_token":"abc","token_type":"bearer","expires_in":30}`}, "abc", 30 * time.Second, SourceExpiresIn, requested},
		{"no content type json", &httpmsg.Response{Status: 200,
			Body: "\ufeff  {\"access_token\":\"abc\",\"token_type\":\"bearer\"}"}, "abc", ttl, SourceDefaultTTL, requested},
		{"no content type form", &httpmsg.Response{Status: 200,
			Body: "access_token=abc&token_type=bearer"}, "abc", ttl, SourceDefaultTTL, requested},
		{"scope array, empty error", jsonResp(200, `{"access_token":"abc","token_type":"bearer","scope":["x","y"],"error":""}`),
			"abc", ttl, SourceDefaultTTL, []string{"x", "y"}},
		{"empty scope means requested", jsonResp(200, `{"access_token":"abc","token_type":"bearer","scope":""}`),
			"abc", ttl, SourceDefaultTTL, requested},
		{"json escapes", jsonResp(200, `{"access_token":"a\u0062c","token_type":"B\u0065arer"}`),
			"abc", ttl, SourceDefaultTTL, requested},
		{"form with a bad escape elsewhere", &httpmsg.Response{Status: 200, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body: "access_token=abc&token_type=bearer&junk=%zz"}, "abc", ttl, SourceDefaultTTL, requested},
		{"huge-ish body", jsonResp(200, `{"pad":"`+strings.Repeat("x", httpmsg.MaxBody-200)+`","access_token":"abc","token_type":"bearer","expires_in":5}`),
			"abc", 5 * time.Second, SourceExpiresIn, requested},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseTokenResponse(tt.resp, requested, now, ttl)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want := &Token{AccessToken: tt.token, TokenType: "Bearer", Expiry: now.Add(tt.lifetime),
				Lifetime: tt.lifetime, ExpirySource: tt.source, Scopes: tt.scopes}
			if !reflect.DeepEqual(tok, want) {
				t.Errorf("\n got %+v\nwant %+v", tok, want)
			}
		})
	}
}

func TestParseTokenResponseScopesNotAliased(t *testing.T) {
	requested := []string{"a"}
	tok, err := ParseTokenResponse(jsonResp(200, `{"access_token":"abc","token_type":"bearer"}`), requested, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	tok.Scopes[0] = "changed"
	if requested[0] != "a" {
		t.Error("Token.Scopes shares the caller's slice")
	}
	if tok.Lifetime <= 0 || tok.ExpirySource != SourceDefaultTTL {
		t.Errorf("defaultTTL 0 should fall back to the preset default, got %v %s", tok.Lifetime, tok.ExpirySource)
	}
}

func TestParseTokenResponseErrors(t *testing.T) {
	tests := []struct {
		name      string
		resp      *httpmsg.Response
		code      string
		desc      string
		retry     time.Duration
		temporary bool
		msg       []string // substrings of Message
	}{
		{"mac refused", jsonResp(200, `{"access_token":"abc","token_type":"mac","expires_in":60}`),
			CodeUnsupportedTokenType, "", 0, false, []string{`"mac"`, "only Bearer"}},
		{"200 with error", jsonResp(200, `{"error":"invalid_scope","error_description":"scope x unknown"}`),
			"invalid_scope", "scope x unknown", 0, false, []string{"HTTP 200", "invalid_scope", "scopes"}},
		{"400 invalid_client", jsonResp(400, `{"error":"invalid_client","error_description":"Client authentication failed","error_uri":"https://docs.example.com/e"}`),
			"invalid_client", "Client authentication failed", 0, false, []string{"HTTP 400", "client secret"}},
		{"400 invalid_scope form", &httpmsg.Response{Status: 400, Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Body: "error=invalid_scope&error_description=no+such+scope%0A%1b[31mFAKE"},
			"invalid_scope", "no such scope [31mFAKE", 0, false, []string{"invalid_scope"}},
		{"401 without body", &httpmsg.Response{Status: 401},
			CodeHTTPStatus, "", 0, false, []string{"HTTP 401 with an empty body", "client secret"}},
		{"401 invalid_client", jsonResp(401, `{"error":"invalid_client"}`),
			"invalid_client", "", 0, false, []string{"HTTP 401"}},
		{"500 HTML", &httpmsg.Response{Status: 500, Header: map[string]string{"Content-Type": "text/html"},
			Body: "<html><body>Internal error: secret stack trace</body></html>"},
			CodeHTTPStatus, "", 0, true, []string{"HTTP 500", htmlHint}},
		{"502 empty", &httpmsg.Response{Status: 502},
			CodeHTTPStatus, "", 0, true, []string{"HTTP 502 with an empty body", "retry later"}},
		{"503 Retry-After seconds", &httpmsg.Response{Status: 503, Header: map[string]string{"retry-after": "120"}},
			CodeHTTPStatus, "", 2 * time.Minute, true, []string{"HTTP 503", "retry after 2m0s"}},
		{"429 Retry-After date", &httpmsg.Response{Status: 429, Header: map[string]string{"Retry-After": "Sun, 01 Jun 2025 12:00:30 GMT"},
			Body: `{"error":"slow_down"}`}, "slow_down", "", 30 * time.Second, true, []string{"HTTP 429", "rate limiting", "retry after 30s"}},
		{"404 plain text", &httpmsg.Response{Status: 404, Header: map[string]string{"Content-Type": "text/plain"}, Body: "404 page not found"},
			CodeHTTPStatus, "", 0, false, []string{"HTTP 404", "token URL"}},
		{"302", &httpmsg.Response{Status: 302, Header: map[string]string{"Location": "https://login.example.com/"}},
			CodeHTTPStatus, "", 0, false, []string{"redirected"}},
		{"200 HTML without type", &httpmsg.Response{Status: 200, Body: "<!DOCTYPE html><html>login</html>"},
			CodeInvalidResponse, "", 0, false, []string{htmlHint}},
		{"truncated json", jsonResp(200, `{"access_token":"abc","token_type":"bea`),
			CodeInvalidResponse, "", 0, false, []string{"not a valid JSON object"}},
		{"json array", jsonResp(200, `[{"access_token":"abc"}]`),
			CodeInvalidResponse, "", 0, false, []string{"not a valid JSON object"}},
		{"json null", jsonResp(200, `null`),
			CodeInvalidResponse, "", 0, false, []string{"not a valid JSON object"}},
		{"plain text 200", &httpmsg.Response{Status: 200, Header: map[string]string{"Content-Type": "text/plain"}, Body: "OK"},
			CodeInvalidResponse, "", 0, false, []string{"neither JSON nor form"}},
		{"missing access_token", jsonResp(200, `{"token_type":"bearer","expires_in":60}`),
			CodeInvalidResponse, "", 0, false, []string{"no access_token"}},
		{"empty access_token", jsonResp(200, `{"access_token":"","token_type":"bearer"}`),
			CodeInvalidResponse, "", 0, false, []string{"no access_token"}},
		{"numeric access_token", jsonResp(200, `{"access_token":12345,"token_type":"bearer"}`),
			CodeInvalidResponse, "", 0, false, []string{"access_token that is not a string"}},
		{"access_token with newline", jsonResp(200, `{"access_token":"ab\r\nX-Evil: 1","token_type":"bearer"}`),
			CodeInvalidResponse, "", 0, false, []string{"characters"}},
		{"missing token_type", jsonResp(200, `{"access_token":"abc","expires_in":60}`),
			CodeInvalidResponse, "", 0, false, []string{"no token_type"}},
		{"negative expires_in", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":-5}`),
			CodeInvalidResponse, "", 0, false, []string{"expires_in"}},
		{"garbage expires_in", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":"soon"}`),
			CodeInvalidResponse, "", 0, false, []string{"expires_in"}},
		{"bool expires_in", jsonResp(200, `{"access_token":"abc","token_type":"bearer","expires_in":true}`),
			CodeInvalidResponse, "", 0, false, []string{"expires_in"}},
		{"temporarily_unavailable on 400", jsonResp(400, `{"error":"temporarily_unavailable"}`),
			"temporarily_unavailable", "", 0, true, []string{"retry later"}},
		{"nil response", nil, CodeInvalidResponse, "", 0, false, []string{"no response"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseTokenResponse(tt.resp, nil, now, ttl)
			if tok != nil {
				t.Fatalf("got token %+v, want error", tok)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Code != tt.code || e.Description != tt.desc || e.RetryAfter != tt.retry || e.Temporary() != tt.temporary {
				t.Errorf("got code=%q desc=%q retry=%v temporary=%v; want %q %q %v %v",
					e.Code, e.Description, e.RetryAfter, e.Temporary(), tt.code, tt.desc, tt.retry, tt.temporary)
			}
			if tt.resp != nil && e.Status != tt.resp.Status {
				t.Errorf("status %d, want %d", e.Status, tt.resp.Status)
			}
			for _, m := range tt.msg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q lacks %q", e.Message, m)
				}
			}
			if e.Error() != e.Message {
				t.Errorf("Error() = %q, want the message", e.Error())
			}
			if strings.Contains(e.Error(), "secret stack trace") || strings.Contains(e.Error(), "<html") {
				t.Errorf("message echoes the body: %q", e.Error())
			}
		})
	}
}

// A body that carries an access token next to an error must not have any
// of its text repeated, since any of it could be the token.
func TestParseTokenResponseNoTokenInErrors(t *testing.T) {
	const tok = "tok-CANARY-0123456789"
	bodies := []struct {
		status int
		body   string
	}{
		{200, `{"access_token":"` + tok + `","error":"` + tok + `","error_description":"` + tok + `","error_uri":"` + tok + `"}`},
		{200, `{"access_token":"` + tok + `","error":"invalid_request","error_description":"got ` + tok + `"}`},
		{400, `{"access_token":"` + tok + `","error":"x` + tok + `x","error_description":"` + tok + `"}`},
		{200, `{"access_token":"` + tok + `","token_type":"` + tok + `"}`},
		{200, `{"access_token":"` + tok + `","token_type":"CANARY-0123"}`},
		{200, `{"access_token":"` + tok + `","token_type":"bearer","expires_in":"` + tok + `"}`},
	}
	for _, b := range bodies {
		_, err := ParseTokenResponse(jsonResp(b.status, b.body), nil, now, ttl)
		if err == nil {
			t.Fatalf("%s: no error", b.body)
		}
		e := err.(*Error)
		for _, s := range []string{e.Error(), e.Code, e.Description, e.URI} {
			if strings.Contains(s, "CANARY") {
				t.Errorf("%s: error repeats the token: %q", b.body, s)
			}
		}
	}
}

func TestDescriptionSanitised(t *testing.T) {
	long := strings.Repeat("é", 300)
	_, err := ParseTokenResponse(jsonResp(400, `{"error":"invalid_request","error_description":"`+long+`\u202e\u0000x","error_uri":"\u0007https://x"}`), nil, now, ttl)
	e := err.(*Error)
	if n := len([]rune(e.Description)); n != maxText {
		t.Errorf("description has %d runes, want %d", n, maxText)
	}
	if e.URI != "https://x" {
		t.Errorf("URI = %q", e.URI)
	}
}

func TestFailureError(t *testing.T) {
	tests := []struct {
		f         *httpmsg.Failure
		code      string
		temporary bool
		msg       string
	}{
		{&httpmsg.Failure{Kind: httpmsg.FailNetwork, Message: "dial tcp: no such host\n"}, CodeNetwork, true, "(dial tcp: no such host)"},
		{&httpmsg.Failure{Kind: httpmsg.FailTimeout}, CodeTimeout, true, "in time"},
		{&httpmsg.Failure{Kind: httpmsg.FailTooLarge}, CodeTooLarge, false, "1024 KiB"},
		{&httpmsg.Failure{Kind: httpmsg.FailCanceled}, CodeCanceled, false, "canceled"},
		{&httpmsg.Failure{Kind: "weird"}, CodeNetwork, true, "could not reach"},
		{nil, CodeNetwork, true, "could not reach"},
	}
	for _, tt := range tests {
		e := FailureError(tt.f)
		if e.Code != tt.code || e.Temporary() != tt.temporary || e.Status != 0 || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("FailureError(%+v) = %+v (temporary %v)", tt.f, e, e.Temporary())
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestParseTokenResponseDeepNesting(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", httpmsg.MaxBody/2) + `}`
	_, err := ParseTokenResponse(jsonResp(200, deep), nil, now, ttl)
	if e, ok := err.(*Error); !ok || e.Code != CodeInvalidResponse {
		t.Fatalf("got %v", err)
	}
	jwtDeep := jwt(`{"exp":` + strings.Repeat("[", 100000) + `}`)
	tok, err := ParseTokenResponse(jsonResp(200, `{"access_token":"`+jwtDeep+`","token_type":"bearer"}`), nil, now, ttl)
	if err != nil || tok.ExpirySource != SourceDefaultTTL {
		t.Fatalf("got %v, %v", tok, err)
	}
}

// seconds reads short integers by hand and everything else with
// ParseFloat: both give what ParseFloat gives for a JSON number.
func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"3600", 3600, true},
		{" 3600 ", 3600, true},
		{"0", 0, true},
		{"0123", 123, true}, // not JSON, but servers send it and it was always read
		{"999999999999999", 999999999999999, true},
		{"9999999999999999", 9999999999999999, true},
		{"3600.5", 3600.5, true},
		{"1e3", 1000, true},
		{"-5", -5, true},
		{"", 0, false},
		{"36x", 0, false},
		{"+5", 0, false},
		{"0x10", 0, false},
		{"NaN", 0, false},
	} {
		got, ok := seconds(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("seconds(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
