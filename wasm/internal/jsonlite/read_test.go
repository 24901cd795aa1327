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
	if s, ok := String(in); ok {
		var w string
		if err := json.Unmarshal(in, &w); err != nil || w != s {
			t.Fatalf("%q: String %q, encoding/json %q (%v)", in, s, w, err)
		}
	}
}
