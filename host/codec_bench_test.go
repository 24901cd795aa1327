package host

import (
	"encoding/json"
	"testing"

	gojson "github.com/goccy/go-json"
)

// The host's share of a token fetch's JSON: encoding the calls (token,
// resume with the endpoint's response) and decoding the answers (the http
// effect, the Token), with encoding/json and with goccy/go-json in the same
// run. tests/bench/README.md records the figures.

var (
	benchHTTPAnswer  = []byte(`{"task":7,"http":{"method":"POST","url":"http://127.0.0.1:41234/token","header":{"Accept":"application/json","Authorization":"Basic c3ZjLWlkOnN2Yy1zZWNyZXQ=","Content-Type":"application/x-www-form-urlencoded"},"body":"grant_type=client_credentials"}}`)
	benchTokenAnswer = []byte(`{"result":{"user":"svc","access_token":"bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH","token_type":"Bearer","expires_at":1796628384000,"expiry_source":"expires_in","refresh_at":1796625504000,"use_until":1796628354000,"headers":{"Authorization":"Bearer bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"}}}`)
	benchResumeCall  = call{Op: "resume", Task: 7, Response: &httpResponse{Status: 200,
		Header: map[string]string{"Cache-Control": "no-store", "Content-Length": "104", "Content-Type": "application/json", "Date": "Mon, 07 Dec 2026 07:26:24 GMT"},
		Body:   `{"access_token":"bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH","token_type":"Bearer","expires_in":3600}`}}
)

type codec struct {
	name      string
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte, any) error
}

var codecs = []codec{
	{"encoding_json", json.Marshal, json.Unmarshal},
	{"go_json", gojson.Marshal, gojson.Unmarshal},
	// decodeAnswer refuses unknown members: through go-json's Decoder, as
	// it did, and through Unmarshal with the Decoder's flag, as it does.
	{"go_json_strict_decoder", gojson.Marshal, func(b []byte, v any) error {
		saved := strictFlags
		strictFlags = nil
		defer func() { strictFlags = saved }()
		return decodeAnswer(b, v)
	}},
	{"go_json_strict_unmarshal", gojson.Marshal, decodeAnswer},
}

func BenchmarkCodec(b *testing.B) {
	for _, c := range codecs {
		b.Run("fetch_calls/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.marshal(call{Op: "invalidate", User: "svc"})
				c.marshal(call{Op: "token", User: "svc"})
				c.marshal(benchResumeCall)
			}
		})
		b.Run("fetch_answers/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var a answer
				c.unmarshal([]byte(`{"result":{"dropped":1}}`), &a)
				a = answer{}
				c.unmarshal(benchHTTPAnswer, &a)
				a = answer{}
				c.unmarshal(benchTokenAnswer, &a)
				var res tokenResult
				c.unmarshal(a.Result, &res)
			}
		})
		b.Run("memo_key/"+c.name, func(b *testing.B) {
			extra := &call{Scopes: []string{"read", "write"}, Audience: "https://api.example.com"}
			b.ReportAllocs()
			for b.Loop() {
				k, _ := c.marshal([]any{extra.Scopes, extra.Audience, extra.Resource})
				_ = "svc\x00" + string(k)
			}
		})
	}
	b.Run("memo_key/hand", func(b *testing.B) {
		extra := &call{Scopes: []string{"read", "write"}, Audience: "https://api.example.com"}
		b.ReportAllocs()
		for b.Loop() {
			memoKey("svc", extra)
		}
	})
}
