package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/cctoken/cctoken/wasm/internal/jsonlite"
)

// The hand-written reader must give exactly what encoding/json gives, for
// the calls it takes and (through the fallback) for every other input.
var callSeeds = []string{
	`{"op":"token","user":"svc","scopes":["a","b"],"refresh":true}`,
	`{"op":"token","user":"svc","scopes":[],"resource":["https://api.example.com/"],"audience":"x"}`,
	`{"op":"resume","task":12,"response":{"status":200,"header":{"Content-Type":"application/json","DPoP-Nonce":"n1","X-\u0041":"\u00e9\/","x-a":"2","X-A":"3"},"body":"{\"access_token\":\"a\\u00e9\\ud83d\\ude00\",\"token_type\":\"Bearer\"}"}}`,
	`{"op":"resume","task":3,"failure":{"kind":"client_certificate","message":"bad key","field":"tls_client_key"}}`,
	`{"op":"resume","task":4,"env":{"A":"1","B":""}}`,
	` { "op" : "sign" , "user" : "svc", "method":"GET","url":"https://api.example.com/x?y#z","nonce":"n" } `,
	`{"op":"challenge","status":401,"www_authenticate":"DPoP error=\"use_dpop_nonce\"","url":"https://api.example.com/","dpop_nonce":"abc"}`,
	`{"op":"load","text":"preset:\n- type: oauth_client_credentials\t\u2028\/"}`,
	`{"op":"token","user":"a\ud800"}`,
	`{"op":"resume","task":7,"store_reply":{"found":true,"value":"Gx-_0"}}`,
	`{"op":"resume","task":8,"store_reply":{"ok":false},"failure":{"kind":"timeout","message":""}}`,
	// Forms left to encoding/json.
	`{"op":"resume","store_reply":{"ok":true},"store_reply":{"found":true}}`,
	`{"op":"load","text":"x","store":{"lock_ms":2000}}`,
	`{"OP":"version"}`,
	`{"op":"token","user":null}`,
	`{"op":"resume","task":1.0}`,
	`{"op":"resume","task":-1}`,
	`{"op":"resume","task":01}`,
	`{"op":"resume","task":99999999999999999999999}`,
	`{"op":"resume","env":{"A":"1"},"env":{"B":"2"}}`,
	`{"op":"resume","response":{"status":200},"response":{"body":"x"}}`,
	"{\"op\":\"token\",\"user\":\"\xff\"}",
	`{"op":"token"} x`,
	`{"op":"token",}`,
	`{"op":"token","refresh":truex}`,
	`{"op":"token","extra":{"deep":[1,2,{"x":null}]}}`,
	`[1,2]`,
	``,
	`{"op":"version","status":2147483648}`,
	`{"":{}}`,                           // a member named "" is as unknown as any other
	`{"response":{"":0},"response":{}}`, // and one in the first of repeated objects
	// The body after the call (body_bytes).
	`{"op":"resume","task":5,"response":{"status":200,"header":{"Content-Type":"application/json"},"body_bytes":27}}{"access_token":"a\u00e9"}` + "\n",
	`{"op":"resume","task":5,"response":{"status":200,"body_bytes":3}} {}`,
	`{"op":"resume","task":5,"response":{"status":200,"body_bytes":3}}{}`,
	`{"op":"resume","task":5,"response":{"status":200,"body_bytes":2}}`,
	`{"op":"resume","task":5,"response":{"status":200,"body":"x","body_bytes":2}}{}`,
	`{"op":"resume","task":5,"response":{"status":200,"body_bytes":0}}{}`,
	`{"op":"resume","task":5,"response":{"status":200,"body_bytes":-2}}{}`,
	`{"op":"resume","task":5,"response":{"status":null,"body_bytes":2}}{}`,
}

func TestDecodeCallMatchesEncodingJSON(t *testing.T) {
	for i, in := range callSeeds {
		checkDecode(t, []byte(in))
		if strings.Contains(in, "body_bytes") {
			continue // what follows the JSON text is the body
		}
		// The first eleven are the plain form: read by hand.
		d := reader{jsonlite.Reader{S: []byte(in)}}
		if fast := d.call(&Call{}) && d.Done(); fast != (i < 11) {
			t.Errorf("%q: read by hand %v, want %v", in, fast, i < 11)
		}
	}
}

func FuzzDecodeCall(f *testing.F) {
	for _, in := range callSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(checkDecode)
}

// checkDecode compares decodeCall with encoding/json refusing unknown
// members (the module's rule for calls).
func checkDecode(t *testing.T, in []byte) {
	var want, got Call
	gerr := decodeCall(in, &got)
	var werr error
	if gerr == nil && got.Response != nil && got.Response.BodyBytes > 0 {
		// The body after the call: the JSON text before it reads the same,
		// and the body is the bytes after it, as they are.
		n := got.Response.BodyBytes
		if werr = strictDecode(in[:len(in)-n], &want); werr == nil {
			want.Response.Body = string(in[len(in)-n:])
		}
	} else if werr = strictDecode(in, &want); werr == nil && want.Response != nil && want.Response.BodyBytes != 0 {
		werr = errors.New("body_bytes without the body after the call")
	}
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json error %v, decodeCall error %v", in, werr, gerr)
	}
	if werr == nil && got.Response != nil && got.Response.RawHeader != nil {
		// Read by hand, the header stays text: every member must come out
		// of Get as encoding/json decoded it, and the text must decode to
		// the same map.
		for k, v := range want.Response.Header {
			if g := got.Response.Get(k); g != v {
				t.Fatalf("%q: header %q is %q, Get gives %q", in, k, v, g)
			}
		}
		var h map[string]string
		if err := json.Unmarshal(got.Response.RawHeader, &h); err != nil {
			t.Fatalf("%q: header text %q: %v", in, got.Response.RawHeader, err)
		}
		got.Response.Header, got.Response.RawHeader = h, nil
	}
	if werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q:\nencoding/json %+v\ndecodeCall    %+v", in, want, got)
	}
}

// strictDecode is encoding/json refusing unknown members and anything
// after the value.
func strictDecode(in []byte, c *Call) error {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.DisallowUnknownFields()
	err := dec.Decode(c)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return errors.New("trailing data")
		}
	}
	return err
}
