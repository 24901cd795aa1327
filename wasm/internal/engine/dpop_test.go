package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

const dpopDoc = `preset:
- type: oauth_client_credentials
  url: https://auth.example.com/token?tenant=1
  users:
  - username: d
    client_id: id-d
    client_secret: secret-d-CANARY
    dpop: true
    headers: {X-Team: red}
  - username: b
    client_id: id-b
    client_secret: secret-b-CANARY
`

func dpopLoaded(t *testing.T) (*Engine, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := New(c.now)
	if s := e.Load([]byte(dpopDoc)); s.Error != nil {
		t.Fatalf("load: %v", s.Error.Message)
	}
	return e, c
}

// proofParts verifies a DPoP proof the way a server does (RFC 9449 §4.3:
// typ, alg, the signature under the embedded public jwk) and returns its
// header and claims.
func proofParts(t *testing.T, proof string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q is not a compact JWS", proof)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	h, c := dec(parts[0]), dec(parts[1])
	if h["typ"] != "dpop+jwt" || h["alg"] != "ES256" {
		t.Fatalf("header = %v", h)
	}
	jwk, _ := h["jwk"].(map[string]any)
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := jwk[private]; ok {
			t.Fatalf("the proof's jwk has the private member %q", private)
		}
	}
	coord := func(name string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(jwk[name].(string))
		if err != nil || len(b) != 32 {
			t.Fatalf("jwk %s = %v", name, jwk[name])
		}
		return new(big.Int).SetBytes(b)
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: coord("x"), Y: coord("y")}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the proof's signature does not verify under its jwk")
	}
	return h, c
}

func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func dpopResp(status int, body, nonce string) *httpmsg.Response {
	r := resp(status, body)
	if nonce != "" {
		r.Header["DPoP-Nonce"] = nonce
	}
	return r
}

func TestDPoPTokenRequestNonceRetryAndSign(t *testing.T) {
	e, c := dpopLoaded(t)
	s := e.Token(TokenRequest{User: "d"})
	if s.HTTP == nil {
		t.Fatalf("token = %+v", s)
	}
	h1, c1 := proofParts(t, s.HTTP.Header["DPoP"])
	if c1["htm"] != "POST" || c1["htu"] != "https://auth.example.com/token" || c1["ath"] != nil || c1["nonce"] != nil {
		t.Fatalf("token request proof claims = %v", c1)
	}
	if c1["iat"].(float64) != float64(c.t.Unix()) || len(c1["jti"].(string)) < 16 {
		t.Fatalf("iat/jti = %v", c1)
	}
	// The server wants a nonce: one retry with it.
	s = e.Resume(s.Task, Input{Response: dpopResp(400, `{"error":"use_dpop_nonce","error_description":"nonce required"}`, "n-as-1")})
	if s.HTTP == nil {
		t.Fatalf("use_dpop_nonce was not retried: %+v", s)
	}
	h2, c2 := proofParts(t, s.HTTP.Header["DPoP"])
	if c2["nonce"] != "n-as-1" || c2["jti"] == c1["jti"] {
		t.Fatalf("retry proof claims = %v", c2)
	}
	if h1["jwk"].(map[string]any)["x"] != h2["jwk"].(map[string]any)["x"] {
		t.Fatal("the user's DPoP key changed between proofs")
	}
	// A second use_dpop_nonce is an error, not a loop.
	s2 := e.Token(TokenRequest{User: "d", Scopes: []string{"other"}})
	s2 = e.Resume(s2.Task, Input{Response: dpopResp(400, `{"error":"use_dpop_nonce"}`, "n-as-2")})
	s2 = e.Resume(s2.Task, Input{Response: dpopResp(400, `{"error":"use_dpop_nonce"}`, "n-as-3")})
	if s2.Error == nil || s2.Error.Code != "use_dpop_nonce" {
		t.Fatalf("second use_dpop_nonce = %+v", s2)
	}

	s = e.Resume(s.Task, Input{Response: dpopResp(200, `{"access_token":"tok-d","token_type":"dpop","expires_in":300}`, "")})
	tr, ok := s.Result.(TokenResult)
	if !ok || tr.TokenType != "DPoP" || tr.Headers["Authorization"] != "DPoP tok-d" {
		t.Fatalf("token = %+v", s)
	}

	// sign: Authorization DPoP, a proof bound to the token, the user's headers.
	s = e.Sign(SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GET", URL: "https://API.example.com/v1/x?q=1#f"})
	sr, ok := s.Result.(SignResult)
	if !ok || sr.TokenType != "DPoP" || sr.Headers["Authorization"] != "DPoP tok-d" || sr.Headers["X-Team"] != "red" {
		t.Fatalf("sign = %+v", s)
	}
	_, c3 := proofParts(t, sr.Headers["DPoP"])
	if c3["htm"] != "GET" || c3["htu"] != "https://API.example.com/v1/x" || c3["ath"] != ath("tok-d") || c3["nonce"] != nil {
		t.Fatalf("resource proof claims = %v", c3)
	}

	// A resource server's nonce challenge: remembered for its origin only.
	ch := e.Challenge(ChallengeRequest{Status: 401, WWWAuth: `DPoP error="use_dpop_nonce", error_description="nonce"`,
		URL: "https://api.example.com/v1/x", DPoPNonce: "n-rs-1"}).Result.(ChallengeResult)
	if !ch.UseDPoPNonce || ch.Invalidate {
		t.Fatalf("challenge = %+v", ch)
	}
	s = e.Sign(SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "POST", URL: "https://api.example.com/v1/y"})
	if _, c4 := proofParts(t, s.Result.(SignResult).Headers["DPoP"]); c4["nonce"] != "n-rs-1" {
		t.Fatalf("proof after the challenge = %v", c4)
	}
	s = e.Sign(SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GET", URL: "https://other.example.com/", Nonce: "given"})
	if _, c5 := proofParts(t, s.Result.(SignResult).Headers["DPoP"]); c5["nonce"] != "given" {
		t.Fatalf("proof with a given nonce = %v", c5)
	}
	// The token endpoint's latest nonce goes into its origin's proofs.
	e.Invalidate("d")
	s = e.Token(TokenRequest{User: "d"})
	if _, c6 := proofParts(t, s.HTTP.Header["DPoP"]); c6["nonce"] != "n-as-3" {
		t.Fatalf("token request proof after a nonce = %v", c6)
	}
}

func TestDPoPSignFetchesAndBearer(t *testing.T) {
	e, _ := dpopLoaded(t)
	// No token yet: sign asks for the token request, then signs.
	s := e.Sign(SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GET", URL: "https://api.example.com/"})
	if s.HTTP == nil || s.HTTP.Header["DPoP"] == "" {
		t.Fatalf("sign without a token = %+v", s)
	}
	s = e.Resume(s.Task, Input{Response: ok(`{"access_token":"tok-2","token_type":"DPoP","expires_in":300}`)})
	sr, isSign := s.Result.(SignResult)
	if !isSign || sr.Headers["DPoP"] == "" {
		t.Fatalf("sign after the fetch = %+v", s)
	}
	// A bearer user gets the same headers as its token's.
	s = e.Sign(SignRequest{TokenRequest: TokenRequest{User: "b"}, Method: "GET", URL: "https://api.example.com/"})
	if s.HTTP.Header["DPoP"] != "" {
		t.Fatal("a bearer user's token request carried a DPoP proof")
	}
	s = e.Resume(s.Task, Input{Response: ok(`{"access_token":"tok-b","token_type":"Bearer","expires_in":300}`)})
	sr = s.Result.(SignResult)
	if sr.TokenType != "Bearer" || sr.Headers["Authorization"] != "Bearer tok-b" || sr.Headers["DPoP"] != "" {
		t.Fatalf("bearer sign = %+v", sr)
	}
	// A DPoP token to a bearer user is refused.
	e.Invalidate("b")
	s = fetch(t, e, TokenRequest{User: "b"}, Input{Response: ok(`{"access_token":"x","token_type":"DPoP"}`)})
	if s.Error == nil || s.Error.Code != "unsupported_token_type" || !strings.Contains(s.Error.Message, "dpop: true") {
		t.Fatalf("DPoP token to a bearer user = %+v", s)
	}
}

func TestSignBadInput(t *testing.T) {
	e, _ := dpopLoaded(t)
	for _, tt := range []struct {
		req   SignRequest
		field string
	}{
		{SignRequest{TokenRequest: TokenRequest{User: "d"}, URL: "https://api.example.com/"}, "method"},
		{SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GE T", URL: "https://api.example.com/"}, "method"},
		{SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GET", URL: "/relative"}, "url"},
		{SignRequest{TokenRequest: TokenRequest{User: "d"}, Method: "GET", URL: "ftp://x/"}, "url"},
		{SignRequest{TokenRequest: TokenRequest{User: "nobody"}, Method: "GET", URL: "https://x/"}, "user"},
	} {
		s := e.Sign(tt.req)
		if s.Error == nil || s.Error.Field != tt.field {
			t.Errorf("Sign(%+v) = %+v, want an error at %s", tt.req, s, tt.field)
		}
	}
}

func TestChallengeDPoP(t *testing.T) {
	e, _ := dpopLoaded(t)
	for _, tt := range []struct {
		c                 ChallengeRequest
		invalidate, nonce bool
	}{
		{ChallengeRequest{Status: 401, WWWAuth: `DPoP error="invalid_token"`}, true, false},
		{ChallengeRequest{Status: 401, WWWAuth: `DPoP error="use_dpop_nonce"`, URL: "https://a.example/"}, false, false}, // no nonce given
		{ChallengeRequest{Status: 401, WWWAuth: `Bearer error="use_dpop_nonce"`, URL: "https://a.example/", DPoPNonce: "n"}, false, false},
		{ChallengeRequest{Status: 400, WWWAuth: `DPoP error="use_dpop_nonce"`, URL: "https://a.example/", DPoPNonce: "n"}, false, false},
		{ChallengeRequest{Status: 401, WWWAuth: `Bearer realm="x", DPoP error="use_dpop_nonce"`, URL: "https://a.example/", DPoPNonce: "n"}, false, true},
	} {
		r := e.Challenge(tt.c).Result.(ChallengeResult)
		if r.Invalidate != tt.invalidate || r.UseDPoPNonce != tt.nonce {
			t.Errorf("Challenge(%+v) = %+v", tt.c, r)
		}
	}
}

func TestNoncesBounded(t *testing.T) {
	e, _ := dpopLoaded(t)
	for i := range maxNonces + 10 {
		e.Challenge(ChallengeRequest{Status: 200, URL: fmt.Sprintf("https://h%d.example/", i), DPoPNonce: "n"})
	}
	if len(e.nonces) > maxNonces {
		t.Fatalf("%d nonces kept", len(e.nonces))
	}
	if e.nonces["https://h265.example:443"] != "n" {
		t.Fatal("the newest nonce was not kept")
	}
}
