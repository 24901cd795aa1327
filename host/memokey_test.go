package host

import (
	"strings"
	"testing"
)

// Every distinct set of options gets its own memo key, and every key of a
// user starts with the user and a NUL (Invalidate relies on that).
func TestMemoKeyDistinct(t *testing.T) {
	cases := []call{
		{},
		{Scopes: []string{}},
		{Scopes: []string{"a"}},
		{Scopes: []string{"a", "b"}},
		{Scopes: []string{"a b"}},
		{Scopes: []string{"ab"}},
		{Scopes: []string{"1:a"}},
		{Scopes: []string{"1", "a"}},
		{Audience: "a"},
		{Audience: "1:a"},
		{Resource: []string{}},
		{Resource: []string{"a"}},
		{Scopes: []string{"a"}, Resource: []string{"a"}},
		{Scopes: []string{"a"}, Audience: "a"},
		{Audience: "-"},
		{Scopes: []string{"-"}},
	}
	seen := map[string]int{}
	for i, c := range cases {
		k := memoKey("svc", &c)
		if !strings.HasPrefix(k, "svc\x00") {
			t.Errorf("case %d: key %q does not start with the user and a NUL", i, k)
		}
		if j, dup := seen[k]; dup {
			t.Errorf("cases %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
	}
}
