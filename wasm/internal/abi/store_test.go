package abi

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStoreEffects walks one token call through the store effects over the
// JSON interface: get (miss), lock (taken), get, http, put, unlock.
func TestStoreEffects(t *testing.T) {
	d := New()
	if out := string(d.Handle([]byte(`{"op":"load","store":{"lock_ms":1500},"text":` + quote(presetDoc) + `}`))); !strings.Contains(out, `"result"`) {
		t.Fatal(out)
	}
	type answer struct {
		Task  uint64 `json:"task"`
		Store *struct {
			Op    string `json:"op"`
			Key   string `json:"key"`
			Value string `json:"value"`
			TTLMS int64  `json:"ttl_ms"`
		} `json:"store"`
		HTTP   json.RawMessage `json:"http"`
		Result json.RawMessage `json:"result"`
	}
	step := func(in string) answer {
		t.Helper()
		var a answer
		out := d.Handle([]byte(in))
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "s3cret-CANARY") {
			t.Fatalf("the secret in an answer: %s", out)
		}
		return a
	}
	a := step(`{"op":"token","user":"u"}`)
	var ops []string
	var put string
	for range 10 {
		switch {
		case a.Store != nil:
			ops = append(ops, a.Store.Op)
			reply := `{}`
			switch a.Store.Op {
			case "lock":
				if a.Store.TTLMS != 1500 || !strings.HasSuffix(a.Store.Key, "}:lock") {
					t.Fatalf("lock %+v", a.Store)
				}
				reply = `{"ok":true}`
			case "put":
				put = a.Store.Value
			}
			a = step(`{"op":"resume","task":` + itoa(a.Task) + `,"store_reply":` + reply + `}`)
		case a.HTTP != nil:
			ops = append(ops, "http")
			a = step(`{"op":"resume","task":` + itoa(a.Task) + `,"response":{"status":200,"header":{"Content-Type":"application/json"},"body":"{\"access_token\":\"tok-CANARY\",\"token_type\":\"Bearer\",\"expires_in\":60}"}}`)
		}
		if a.Result != nil {
			break
		}
	}
	if got := strings.Join(ops, ","); got != "get,lock,get,http,put,unlock" || a.Result == nil {
		t.Fatalf("ops %s, result %s", got, a.Result)
	}
	if put == "" || strings.Contains(put, "CANARY") {
		t.Fatalf("stored value %q", put)
	}
	// A failure answering a store effect is a miss, even with a reply.
	d.Handle([]byte(`{"op":"invalidate","user":"u"}`))
	a = step(`{"op":"token","user":"u"}`)
	a = step(`{"op":"resume","task":` + itoa(a.Task) + `,"store_reply":{"found":true,"value":` + quote(put) + `},"failure":{"kind":"timeout","message":""}}`)
	if a.HTTP == nil {
		t.Fatalf("a failed get should go to the token endpoint: %+v", a)
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func FuzzDispatchStore(f *testing.F) {
	f.Add(`{"op":"resume","task":2,"store_reply":{"found":true,"value":"AAAA"}}`)
	f.Add(`{"op":"resume","task":2,"store_reply":{"ok":true}}`)
	f.Add(`{"op":"resume","task":2,"failure":{"kind":"store","message":"down"}}`)
	f.Add(`{"op":"resume","task":2,"store_reply":{"found":true,"value":"!!"},"response":{"status":200}}`)
	f.Fuzz(func(t *testing.T, in string) {
		checkAnswerTo(t, `{"op":"load","store":{},"text":`+quote(presetDoc)+`}`, in)
	})
}
