package abi

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/cctoken/cctoken/internal/version"
)

const presetDoc = `{"preset":[{"type":"oauth_client_credentials","url":"https://auth.example.com/token","users":[{"username":"u","client_id":"c","client_secret":"s3cret-CANARY"}]}]}`

func call(t *testing.T, d *Dispatcher, in string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(d.Handle([]byte(in)), &out); err != nil {
		t.Fatalf("answer to %s is not JSON: %v", in, err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	d := New()
	steps := []struct {
		call string
		want string // a key of the answer
	}{
		{`{"op":"version"}`, "result"},
		{`{"op":"token","user":"u"}`, "error"}, // not loaded
		{`{"op":"load","text":` + quote(presetDoc) + `}`, "result"},
		{`{"op":"users"}`, "result"},
		{`{"op":"token","user":"u"}`, "http"},
		{`{"op":"resume","task":1,"response":{"status":200,"header":{"content-type":"application/json"},"body":"{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":60}"}}`, "result"},
		{`{"op":"token","user":"u"}`, "result"},
		{`{"op":"resume","task":1}`, "error"},
		{`{"op":"challenge","status":401,"www_authenticate":"Bearer error=\"invalid_token\""}`, "result"},
		{`{"op":"answer","user":"u","method":"GET","url":"https://api.example.com/a","status":302,"location":"/b","authorization":"Bearer t","attempt":{}}`, "result"},
		{`{"op":"answer","user":"u","method":"GET","url":"https://api.example.com/a","status":401,"www_authenticate":"Bearer error=\"invalid_token\"","authorization":"Bearer t","attempt":{"hops":1}}`, "http"},
		{`{"op":"answer","user":"u","method":"GET","url":"https://api.example.com/a","status":200,"attempt":{"hops":1,"token":1}}`, "result"},
		{`{"op":"answer","user":"u","method":"GET","url":"https://api.example.com/a"}`, "error"},
		{`{"op":"invalidate","user":"u"}`, "result"},
		{`{"op":"discovery"}`, "result"},
		{`{"op":"metadata","issuer":"https://as.example.com","response":{"status":200,"header":{},"body":"{\"issuer\":\"https://as.example.com\",\"token_endpoint\":\"https://as.example.com/token\"}"}}`, "result"},
		{`{"op":"metadata","issuer":"https://as.example.com","insecure":true,"response":{"status":200,"body":"{\"issuer\":\"https://other.example.com\",\"token_endpoint\":\"https://as.example.com/token\"}"}}`, "error"},
		{`{"op":"metadata","issuer":"https://as.example.com"}`, "error"},
		{`{"op":"nope"}`, "error"},
		{`not json`, "error"},
		{`{}`, "error"},
	}
	for i, s := range steps {
		out := call(t, d, s.call)
		if _, ok := out[s.want]; !ok || len(out) > 2 {
			t.Errorf("step %d %s: answer %v, want key %q", i, s.call, out, s.want)
		}
		if strings.Contains(string(d.Handle([]byte(`{"op":"users"}`))), "CANARY") {
			t.Fatal("users leaks the secret")
		}
	}
}

// TestVersionAnswer checks the version op names the ABI and the project
// release, the one every artifact reports.
func TestVersionAnswer(t *testing.T) {
	var got VersionResult
	out := call(t, New(), `{"op":"version"}`)
	b, _ := json.Marshal(out["result"])
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ABI != Version || got.Version != version.Version || len(got.Instance) != 32 {
		t.Errorf("version answer %s, want abi %d and version %q", b, Version, version.Version)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzDispatch feeds arbitrary calls, after a loaded preset and a pending
// task, and checks the dispatcher always answers one JSON object with one
// outcome and never leaks the secret.
func FuzzDispatch(f *testing.F) {
	f.Add(`{"op":"token","user":"u"}`)
	f.Add(`{"op":"resume","task":1,"response":{"status":200,"body":"{\"access_token\":\"t\",\"token_type\":\"Bearer\"}"}}`)
	f.Add(`{"op":"resume","task":1,"failure":{"kind":"network","message":"reset"}}`)
	f.Add(`{"op":"resume","task":1,"response":{"status":401,"body":"{\"error\":\"invalid_client\",\"error_description\":\"s3cret-CANARY\"}"}}`)
	f.Add(`{"op":"load","text":"preset: [{type: x}]"}`)
	f.Add(`{"op":"lint","text":"{"}`)
	f.Add(`{"op":"challenge","status":401,"www_authenticate":"Bearer error=invalid_token"}`)
	f.Add(`{"op":"discovery"}`)
	f.Add(`{"op":"metadata","issuer":"https://auth.example.com","insecure":true,"response":{"status":200,"body":"{\"issuer\":\"https://auth.example.com\",\"token_endpoint\":\"https://auth.example.com/token\"}"}}`)
	f.Add(`{"op":"answer","user":"u","method":"POST","url":"https://a.example/x","status":401,"www_authenticate":"Bearer error=invalid_token","no_replay":true,"attempt":{"nonce":1}}`)
	f.Add(`{"op":"answer","user":"u","method":"GET","url":"https://a.example/x","status":307,"location":"//b.example/"}`)
	f.Fuzz(func(t *testing.T, in string) {
		checkAnswerTo(t, `{"op":"load","text":`+quote(presetDoc)+`}`, in)
	})
}

// checkAnswerTo loads a preset with the load call, starts a token request
// (task 1, or with a store task 2), sends in and checks the answer: a JSON
// object with exactly one outcome that holds the secret only if in did.
func checkAnswerTo(t *testing.T, load, in string) {
	t.Helper()
	d := New()
	d.Handle([]byte(load))
	d.Handle([]byte(`{"op":"token","user":"u"}`))
	out := d.Handle([]byte(in))
	var a map[string]json.RawMessage
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("answer is not a JSON object: %q", out)
	}
	n := 0
	for _, k := range []string{"result", "error", "http", "env", "store"} {
		if _, ok := a[k]; ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("answer has %d outcomes: %s", n, out)
	}
	if strings.Contains(string(out), "s3cret-CANARY") && !strings.Contains(in, "s3cret-CANARY") {
		t.Fatalf("answer leaks the secret: %s", out)
	}
}

const keboolaDoc = `{"api": {"authentication": {"type": "login",
  "loginRequest": {"endpoint": "https://auth.example.com/token", "method": "FORM",
    "params": {"grant_type": "client_credentials", "client_id": {"attr": "id"}, "client_secret": {"attr": "#secret"}}},
  "apiRequest": {"headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}}}},
  "config": {"id": "app", "#secret": "s3cret-CANARY"}}`

// TestKeboola drives the username field of lint and load and the convert op.
func TestKeboola(t *testing.T) {
	d := New()
	text := quote(keboolaDoc)
	if out := call(t, d, `{"op":"lint","text":`+text+`,"username":"svc"}`); out["result"] == nil ||
		len(out["result"].(map[string]any)["issues"].([]any)) != 0 {
		t.Fatalf("lint: %v", out)
	}
	out := call(t, d, `{"op":"load","text":`+text+`,"username":"svc"}`)
	users, _ := out["result"].(map[string]any)["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["username"] != "svc" || users[0].(map[string]any)["auth_method"] != "client_secret_post" {
		t.Fatalf("load: %v", out)
	}
	out = call(t, d, `{"op":"load","text":`+text+`}`)
	if u := out["result"].(map[string]any)["users"].([]any)[0].(map[string]any)["username"]; u != "keboola" {
		t.Errorf("default username %v", u)
	}
	out = call(t, d, `{"op":"convert","text":`+text+`,"username":"svc"}`)
	res, _ := out["result"].(map[string]any)
	yaml, _ := res["yaml"].(string)
	env, _ := res["env"].([]any)
	if !strings.Contains(yaml, "client_secret: ${env:CCTOKEN_SVC_CLIENT_SECRET}") || len(env) != 1 || env[0] != "CCTOKEN_SVC_CLIENT_SECRET" {
		t.Errorf("convert: %v", out)
	}
	if strings.Contains(yaml, "CANARY") {
		t.Error("convert printed the secret")
	}
	out = call(t, d, `{"op":"convert","text":`+quote(presetDoc)+`}`)
	if e, _ := out["error"].(map[string]any); e == nil || e["code"] != "invalid_preset" || !strings.Contains(e["message"].(string), "already a cctoken preset") {
		t.Errorf("convert of a preset: %v", out)
	}
}

// A resume whose body follows the call's JSON text (body_bytes) is the
// same fetch as one with the body inside it; a body_bytes that does not
// match what follows is a bad_request naming body_bytes.
func TestResumeBodyAfterCall(t *testing.T) {
	const body = `{"access_token":"t\"x","token_type":"Bearer","expires_in":60}`
	for _, c := range []struct {
		name, tail string
		n          int
		want       string // the access token, or the error's field
	}{
		{"body after", body, len(body), `t"x`},
		{"too short", body[1:], len(body), "body_bytes"},
		{"too long", body + " ", len(body), "body_bytes"},
		{"nothing after", "", len(body), "body_bytes"},
		{"no body_bytes", body, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := New()
			call(t, d, `{"op":"load","text":`+quote(presetDoc)+`}`)
			if out := call(t, d, `{"op":"token","user":"u"}`); out["task"] != 1.0 {
				t.Fatalf("token: %v", out)
			}
			resume := `{"op":"resume","task":1,"response":{"status":200,"header":{"Content-Type":"application/json"}`
			if c.n > 0 {
				resume += `,"body_bytes":` + strconv.Itoa(c.n)
			}
			resume += `}}` + c.tail
			var out struct {
				Result struct {
					AccessToken string `json:"access_token"`
				}
				Error struct{ Code, Field string }
			}
			if err := json.Unmarshal(d.Handle([]byte(resume)), &out); err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == `t"x`:
				if out.Result.AccessToken != c.want {
					t.Fatalf("got %+v, want the token", out)
				}
			case out.Error.Code != "bad_request" || out.Error.Field != c.want:
				t.Fatalf("got %+v, want bad_request on %q", out, c.want)
			}
		})
	}
}
