package jsonlite

import (
	"encoding/json"
	"reflect"
	"testing"
)

var seeds = []string{
	`{"access_token":"a.b.c","token_type":"Bearer","expires_in":3600,"scope":"read write"}`,
	` {"a" : [1, -2.5e+3, {"x": [true, false, null]}], "b": "\u00e9\ud83d\ude00\n\/", "c": {}} `,
	`{"a":1,"a":"2"}`,
	`{}`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":-}`,
	`{"a":"\ud800"}`,
	"{\"a\":\"\xff\"}",
	`{"a":tru}`,
	`{"a":1}x`,
	`[1]`,
	`{"a":nul}`,
	`{"a":1e}`,
	`"str"`,
	`{"a\u0062":1,"ab":2}`,
	// Escapes, decoded by hand.
	`{"a":"\b\f\n\r\t\"\\\/ \u0041\u00E9\uD83D\uDE00"}`,
	`{"a":"\ud83dx","b":"\ude00\ud83d","c":"\ud83d\u0041","d":"\ud83d\"}`,
	`{"a":"\uZZZZ"}`,
	`{"a":"\x"}`,
	`{"a":"\u12"}`,
	`"{\"access_token\":\"t\",\"expires_in\":3600}"`,
	// Headers: objects of strings (StrObject, Lookup).
	`{"Content-Type":"application/json","DPoP-Nonce":"n\u0031","X-\u0041":"1","x-a":"2"}`,
	`{"a":"1","a":"2","A":"3"}`,
	`{"a":"\q"}`,
	`{"a\q":"1"}`,
}

func TestMembersMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		check(t, []byte(s))
	}
	if _, ok := Members([]byte(seeds[0])); !ok {
		t.Fatal("a plain token response was not read by hand")
	}
}

func FuzzMembers(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(check)
}

// check: whatever Members and String take, encoding/json reads the same.
func check(t *testing.T, in []byte) {
	m, ok := Members(in)
	if ok {
		var want map[string]json.RawMessage
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatalf("%q: Members took what encoding/json refuses: %v", in, err)
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("%q: Members %q, encoding/json %q", in, m, want)
		}
		for _, raw := range m {
			if s, ok := String(raw); ok {
				var w string
				if err := json.Unmarshal(raw, &w); err != nil || w != s {
					t.Fatalf("%q: String %q, encoding/json %q (%v)", raw, s, w, err)
				}
			}
		}
	}
	if o, ok := ReadObject(in); ok {
		var want map[string]json.RawMessage
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatalf("%q: ReadObject took what encoding/json refuses: %v", in, err)
		}
		for _, mem := range o {
			if raw, _ := o.Get(string(mem.Name)); string(raw) != string(want[string(mem.Name)]) {
				t.Fatalf("%q: ReadObject %s = %s, encoding/json %s", in, mem.Name, raw, want[string(mem.Name)])
			}
		}
		if len(want) > len(o) {
			t.Fatalf("%q: ReadObject missed members", in)
		}
	}
	d := Reader{S: in}
	if obj, ok := d.StrObject(); ok && d.Done() {
		var want map[string]string
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatalf("%q: StrObject took what encoding/json refuses: %v", in, err)
		}
		for k, v := range want {
			if got, ok := Lookup(obj, k); !ok || got != v {
				t.Fatalf("%q: Lookup(%q) = %q, %v; encoding/json %q", in, k, got, ok, v)
			}
		}
		d = Reader{S: in}
		if m, ok := d.StrMap(); !ok || !reflect.DeepEqual(m, want) {
			t.Fatalf("%q: StrMap %q, %v; encoding/json %q", in, m, ok, want)
		}
	}
	if s, ok := String(in); ok {
		var w string
		if err := json.Unmarshal(in, &w); err != nil || w != s {
			t.Fatalf("%q: String %q, encoding/json %q (%v)", in, s, w, err)
		}
	}
}

// Lookup finds a header as a map and Response.Get did: the exact name
// first (the last of repeated ones), else any case of it.
func TestLookup(t *testing.T) {
	const obj = `{"Content-Type":"a","content-type":"b","DPoP-Nonce":"n","X-\u00e9":"e","X-Dup":"1","X-Dup":"2","K":"kelvin"}`
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"Content-Type", "a", true},
		{"content-type", "b", true},
		{"CONTENT-TYPE", "a", true}, // the first of the others
		{"dpop-nonce", "n", true},
		{"X-\u00e9", "e", true},
		{"x-\u00c9", "e", true},
		{"X-Dup", "2", true},
		{"x-dup", "1", true},
		{"\u212a", "kelvin", true}, // Kelvin sign, K in any case
		{"Retry-After", "", false},
		{"", "", false},
	} {
		name, _ := String([]byte(`"` + c.name + `"`))
		got, ok := Lookup([]byte(obj), name)
		if got != c.want || ok != c.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", name, got, ok, c.want, c.ok)
		}
	}
}
