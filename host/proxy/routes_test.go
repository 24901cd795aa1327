package proxy

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
)

// vectors is tests/routes/cases.json, which edge/test/routes.test.mjs runs
// against the edge worker's implementation.
type vectors struct {
	Tables []struct {
		Name     string          `json:"name"`
		Routes   json.RawMessage `json:"routes"`
		Requests []struct {
			URL      string  `json:"url"`
			User     *string `json:"user"`
			Upstream string  `json:"upstream"`
			Options  *struct {
				Scopes   []string `json:"scopes"`
				Audience string   `json:"audience"`
				Resource []string `json:"resource"`
			} `json:"options"`
		} `json:"requests"`
	} `json:"tables"`
	Errors []struct {
		Text    *string         `json:"text"`
		Routes  json.RawMessage `json:"routes"`
		Field   string          `json:"field"`
		Message string          `json:"message"`
	} `json:"errors"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("../../tests/routes/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Tables) == 0 || len(v.Errors) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestSharedRouteVectors(t *testing.T) {
	n := 0
	for _, tc := range loadVectors(t).Tables {
		table, err := ParseRoutes(tc.Routes)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		for _, c := range tc.Requests {
			n++
			u, err := url.Parse(c.URL)
			if err != nil {
				t.Fatal(err)
			}
			route := table.Match(u.Host, u.EscapedPath())
			if c.User == nil {
				if route != nil {
					t.Errorf("%s: %s matched %q, want no route", tc.Name, c.URL, route.User)
				}
				continue
			}
			if route == nil || route.User != *c.User {
				t.Errorf("%s: %s matched %+v, want user %q", tc.Name, c.URL, route, *c.User)
				continue
			}
			target := route.Upstream(u.EscapedPath(), u.RawQuery)
			if target == nil || target.String() != c.Upstream {
				t.Errorf("%s: %s goes to %v, want %s", tc.Name, c.URL, target, c.Upstream)
			}
			if o := c.Options; o != nil {
				if !reflect.DeepEqual(route.Scopes, o.Scopes) || route.Audience != o.Audience || !reflect.DeepEqual(route.Resource, o.Resource) {
					t.Errorf("%s: %s options %q %q %q, want %+v", tc.Name, c.URL, route.Scopes, route.Audience, route.Resource, *o)
				}
				if got, want := len(route.TokenOptions()), btoi(o.Scopes != nil)+btoi(o.Audience != "")+btoi(o.Resource != nil); got != want {
					t.Errorf("%s: %s gives %d token options, want %d", tc.Name, c.URL, got, want)
				}
			}
		}
	}
	t.Logf("%d request vectors", n)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSharedRouteErrorVectors(t *testing.T) {
	for _, c := range loadVectors(t).Errors {
		input := []byte(c.Routes)
		if c.Text != nil {
			input = []byte(*c.Text)
		}
		_, err := ParseRoutes(input)
		var re *RouteError
		if !errors.As(err, &re) {
			t.Errorf("%s: got %v, want a RouteError", input, err)
			continue
		}
		if re.Field != c.Field || !strings.Contains(re.Error(), c.Message) || !strings.HasPrefix(re.Error(), "ROUTES: "+c.Field+": ") {
			t.Errorf("%s: got %q (field %q), want field %q and %q", input, re.Error(), re.Field, c.Field, c.Message)
		}
	}
}

func TestResolveDots(t *testing.T) {
	for in, want := range map[string]string{
		"":           "/",
		"/":          "/",
		"/a/b":       "/a/b",
		"/a/./b":     "/a/b",
		"/a/..":      "/",
		"/a/.":       "/a/",
		"/../../x":   "/x",
		"/a/%2E%2e/": "/",
		"/a/.b/..c":  "/a/.b/..c",
		"//x/../y":   "//y",
	} {
		if got := resolveDots(in); got != want {
			t.Errorf("resolveDots(%q) = %q, want %q", in, got, want)
		}
	}
}
