package jose

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// TestAppendJSON checks the encoder against fixed output and, where the
// two agree by design, against encoding/json without HTML escaping.
func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
		std  bool // encoding/json gives the same bytes
	}{
		{"null", nil, `null`, true},
		{"bools", []any{true, false}, `[true,false]`, true},
		{"string escapes", "a\"b\\c\n\r\t\x01\x1f/<>&é€😀", `"a\"b\\c\n\r\t\u0001\u001f/<>&é€😀"`, true},
		{"ints", []any{0, -1, int8(-8), int16(16), int32(-32), int64(math.MinInt64), uint(1), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64)},
			`[0,-1,-8,16,-32,-9223372036854775808,1,8,16,32,18446744073709551615]`, true},
		{"floats", []any{1.5, -0.25, 1700000000.0, 1e20, 1e21, 1e-6, 1e-7, 123456789e-20, float32(0.1), 0.0},
			`[1.5,-0.25,1700000000,100000000000000000000,1e+21,0.000001,1e-7,1.23456789e-12,0.1,0]`, true},
		{"sorted keys at every level", map[string]any{"b": 1, "a": map[string]any{"z": 1, "y": []any{map[string]string{"d": "1", "c": "2"}}}, "A": nil, "é": 1, "": 0},
			`{"":0,"A":null,"a":{"y":[{"c":"2","d":"1"}],"z":1},"b":1,"é":1}`, true},
		{"nil containers", []any{[]string(nil), []any(nil), map[string]any(nil), map[string]string(nil), []string{}, map[string]any{}},
			`[null,null,null,null,[],{}]`, true},
		{"line separator kept", "\u2028", "\"\u2028\"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendJSON(nil, tt.v, "claims", 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %s", got)
			}
			if tt.std {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(tt.v); err != nil {
					t.Fatal(err)
				}
				if std := strings.TrimSuffix(buf.String(), "\n"); std != string(got) {
					t.Fatalf("encoding/json gives %s, we give %s", std, got)
				}
			}
		})
	}
}

func TestAppendJSONErrors(t *testing.T) {
	cycle := map[string]any{}
	cycle["self"] = cycle
	deep := any("x")
	for range maxDepth + 1 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		v    map[string]any
		want string
	}{
		{"channel", map[string]any{"c": make(chan int)}, "claims.c has the Go type chan int"},
		{"struct", map[string]any{"s": struct{ A int }{1}}, "claims.s has the Go type struct"},
		{"NaN", map[string]any{"n": []any{1, math.NaN()}}, "claims.n[1] is not finite"},
		{"infinity", map[string]any{"n": math.Inf(-1)}, "not finite"},
		{"invalid UTF-8 value", map[string]any{"s": "ok\xff"}, "claims.s is not valid UTF-8"},
		{"invalid UTF-8 in a list", map[string]any{"l": []string{"a", "\xc3"}}, "claims.l[1] is not valid UTF-8"},
		{"invalid UTF-8 name", map[string]any{"\xff": 1}, "member name"},
		{"cycle", cycle, "nested more than 32 levels"},
		{"too deep", map[string]any{"d": deep}, "nested more than 32 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encodeObject(tt.v, "claims")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if b, err := encodeObject(nil, "claims"); err != nil || string(b) != "{}" {
		t.Fatalf("nil claims: %s, %v", b, err)
	}
}

func decodePart(t *testing.T, tok string, i int) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSignHeader checks the protected header: defaults, overrides,
// removals and the checks on "alg" and "jwk".
func TestSignHeader(t *testing.T) {
	k, err := ParseKey(jwkJSON(t, testKeys().ed, nil), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		kid    string
		header map[string]any
		want   string
	}{
		{"defaults", "", nil, `{"alg":"EdDSA","typ":"JWT"}`},
		{"kid from the key", "k1", nil, `{"alg":"EdDSA","kid":"k1","typ":"JWT"}`},
		{"typ and kid replaced", "k1", map[string]any{"typ": "dpop+jwt", "kid": "k2"}, `{"alg":"EdDSA","kid":"k2","typ":"dpop+jwt"}`},
		{"typ and kid removed", "k1", map[string]any{"typ": nil, "kid": nil}, `{"alg":"EdDSA"}`},
		{"same alg is fine", "", map[string]any{"alg": "EdDSA", "x5t#S256": "abc"}, `{"alg":"EdDSA","typ":"JWT","x5t#S256":"abc"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k.Kid = tt.kid
			tok, err := k.Sign(tt.header, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodePart(t, tok, 0); got != tt.want {
				t.Fatalf("header %s, want %s", got, tt.want)
			}
			if got := decodePart(t, tok, 1); got != "{}" {
				t.Fatalf("payload %s", got)
			}
			if _, _, err := verifyJWS(tok, "EdDSA", testKeys().ed.Public()); err != nil {
				t.Fatal(err)
			}
		})
	}
	k.Kid = ""
	for name, header := range map[string]map[string]any{
		"other alg":           {"alg": "none"},
		"alg not a string":    {"alg": 1},
		"alg nil":             {"alg": nil},
		"private jwk":         {"jwk": jwkMembers(t, testKeys().ed)},
		"private jwk strings": {"jwk": map[string]string{"kty": "oct", "k": "c2VjcmV0"}},
		"bad value":           {"x": func() {}},
	} {
		if tok, err := k.Sign(header, nil, nil); err == nil {
			t.Errorf("%s: signed %s", name, tok)
		} else {
			checkMessage(t, err.Error(), []byte(jwkMembers(t, testKeys().ed)["d"].(string)))
		}
	}
}

// TestSignDPoP makes a DPoP proof the way RFC 9449 §4 does and checks it
// with the key in its own header.
func TestSignDPoP(t *testing.T) {
	k, err := GenerateES256(nil)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": "https://server.example.com/token", "iat": int64(1562262616)}
	tok, err := k.Sign(map[string]any{"typ": "dpop+jwt", "jwk": k.PublicJWK()}, claims, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var header struct {
		Typ string         `json:"typ"`
		JWK map[string]any `json:"jwk"`
	}
	if err := json.Unmarshal([]byte(decodePart(t, tok, 0)), &header); err != nil {
		t.Fatal(err)
	}
	pub, err := publicFromJWK(header.JWK)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifyJWS(tok, "ES256", pub); err != nil {
		t.Fatal(err)
	}
	if header.Typ != "dpop+jwt" || thumbprintOf(t, header.JWK) != k.Thumbprint() {
		t.Fatalf("header %+v", header)
	}
	if want := `{"htm":"POST","htu":"https://server.example.com/token","iat":1562262616,"jti":"e1j3V_bKic8-LAEB"}`; decodePart(t, tok, 1) != want {
		t.Fatalf("payload %s", decodePart(t, tok, 1))
	}
}

// TestSignDeterministic: the same input gives the same token for the
// algorithms without randomness, and different ES256/PS256 signatures
// still verify.
func TestSignDeterministic(t *testing.T) {
	keys := testKeys()
	claims := map[string]any{"z": 1, "a": []any{"x", map[string]any{"q": 1.5, "b": true}}, "m": map[string]string{"y": "1", "x": "2"}}
	const payload = `{"a":["x",{"b":true,"q":1.5}],"m":{"x":"2","y":"1"},"z":1}`
	for _, tt := range []struct {
		alg   string
		priv  any
		fixed bool
	}{{"RS256", keys.rsa, true}, {"PS256", keys.rsa, false}, {"ES256", keys.ec, false}, {"EdDSA", keys.ed, true}} {
		k, err := ParseKey(pkcs8PEM(t, tt.priv), tt.alg)
		if err != nil {
			t.Fatal(err)
		}
		a, err := k.Sign(nil, claims, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := k.Sign(nil, claims, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if (a == b) != tt.fixed {
			t.Errorf("%s: same token twice = %v", tt.alg, a == b)
		}
		if decodePart(t, a, 1) != payload || decodePart(t, b, 1) != payload {
			t.Errorf("%s payload %s", tt.alg, decodePart(t, a, 1))
		}
	}
	h := HS256([]byte("a client secret of 32 characters"))
	a, _ := h.Sign(nil, claims, nil)
	b, _ := h.Sign(nil, claims, nil)
	if a != b || decodePart(t, a, 1) != payload {
		t.Fatalf("HS256 not deterministic: %s %s", a, b)
	}
}

func TestHS256(t *testing.T) {
	secret := []byte("client-secret")
	k := HS256(secret)
	secret[0] = 'X' // HS256 keeps its own copy
	tok, err := k.Sign(map[string]any{"kid": "cs"}, map[string]any{"iss": "svc", "aud": []string{"https://as.example/token"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifyJWS(tok, "HS256", []byte("client-secret")); err != nil {
		t.Fatal(err)
	}
	if k.Alg != "HS256" || k.PublicJWK() != nil {
		t.Fatal("HS256 key")
	}
	for _, s := range [][]byte{nil, {}} {
		if _, err := HS256(s).Sign(nil, nil, nil); err == nil || !strings.Contains(err.Error(), "secret is empty") {
			t.Fatalf("empty secret: %v", err)
		}
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestSignErrors(t *testing.T) {
	keys := testKeys()
	rsaKey, err := ParseKey(pkcs8PEM(t, keys.rsa), "PS256")
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ParseKey(pkcs8PEM(t, keys.ec), "")
	if err != nil {
		t.Fatal(err)
	}
	relabelled := *ecKey
	relabelled.Alg = "RS256"
	none := *ecKey
	none.Alg = "none"
	secretAsRSA := HS256([]byte("s"))
	secretAsRSA.Alg = "RS256"
	tests := []struct {
		name   string
		k      *Key
		random io.Reader
		want   string
	}{
		{"nil key", nil, nil, "key is empty"},
		{"zero key", &Key{}, nil, "key is empty"},
		{"alg changed to misfit", &relabelled, nil, "cannot sign with RS256"},
		{"alg none", &none, nil, "not supported"},
		{"secret relabelled", secretAsRSA, nil, "a shared secret cannot sign with RS256"},
		{"PS256 without randomness", rsaKey, failReader{}, "random source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.k.Sign(nil, nil, tt.random)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tok != "" {
				t.Fatalf("got %q, %v; want error %q", tok, err, tt.want)
			}
		})
	}
	// ES256 does not depend on the reader (crypto/ecdsa ignores it).
	if _, err := ecKey.Sign(nil, nil, failReader{}); err != nil {
		t.Fatalf("ES256 with a failing reader: %v", err)
	}
}
