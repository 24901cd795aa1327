package oauth

import (
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

const canary = "tok-CANARY"

// FuzzParseTokenResponse checks that no answer makes the parser panic and
// that an access token in the body is never repeated in an error.
func FuzzParseTokenResponse(f *testing.F) {
	f.Add(200, "application/json", `{"access_token":"tok-CANARY","token_type":"bearer","expires_in":3600}`)
	f.Add(400, "application/json", `{"error":"invalid_client","error_description":"bad"}`)
	f.Add(200, "text/plain", "access_token=tok-CANARY&token_type=mac")
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		resp := &httpmsg.Response{Status: status, Header: map[string]string{"Content-Type": contentType}, Body: body}
		tok, err := ParseTokenResponse(resp, []string{"s"}, time.Unix(1700000000, 0), time.Minute)
		if (tok == nil) == (err == nil) {
			t.Fatalf("got token %v and error %v", tok, err)
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error %#v", err)
			}
			// Only when the parser itself read the canary as the access
			// token: elsewhere in the body it is just server text.
			b := decodeBody(resp, nil)
			if strings.Contains(b.str("access_token"), canary) {
				for _, s := range []string{e.Error(), e.Code, e.Description, e.URI} {
					if strings.Contains(s, canary) {
						t.Fatalf("error repeats the access token: %q", s)
					}
				}
			}
			return
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.Lifetime <= 0 || tok.Lifetime > maxLifetime {
			t.Fatalf("bad token %+v", tok)
		}
		if _, err := tok.Expiry.MarshalJSON(); err != nil {
			t.Fatalf("expiry cannot be encoded: %v", err)
		}
	})
}
