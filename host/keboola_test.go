package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// Keboola generic-extractor configurations, end to end through the module.

const (
	kbID     = "my app"
	kbSecret = "s+e&c%r:e=t x y" // needs form-encoding: + & % : = and spaces
	// The two Basic headers for kbID and kbSecret, computed outside Go:
	// base64 of "my+app:s%2Be%26c%25r%3Ae%3Dt+x+y" (RFC 6749 §2.3.1) and of
	// "my app:s+e&c%r:e=t x y" (Keboola, basic_encoding: raw).
	kbBasicForm = "Basic bXkrYXBwOnMlMkJlJTI2YyUyNXIlM0FlJTNEdCt4K3k="
	kbBasicRaw  = "Basic bXkgYXBwOnMrZSZjJXI6ZT10IHggeQ=="
)

// kbBasicDoc is Keboola's Basic Auth variant, as Keboola stores it.
func kbBasicDoc(endpoint string) string {
	return `{"parameters": {
  "api": {
    "baseUrl": "https://api.example.com/",
    "authentication": {
      "type": "login",
      "format": "json",
      "loginRequest": {
        "endpoint": "` + endpoint + `",
        "method": "FORM",
        "headers": {
          "Accept": "application/json",
          "Authorization": {"function": "concat", "args": ["Basic ", {"function": "base64_encode", "args": [
            {"function": "concat", "args": [{"attr": "__CLIENT_ID"}, ":", {"attr": "#__CLIENT_SECRET"}]}]}]}
        },
        "params": {"grant_type": "client_credentials", "scope": "read write"}
      },
      "apiRequest": {"headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}}
    }
  },
  "config": {"__CLIENT_ID": "` + kbID + `", "#__CLIENT_SECRET": "` + kbSecret + `", "jobs": [{"endpoint": "things"}]}
}}`
}

// kbPostDoc is the Post Form variant, without the parameters wrapper and
// with an endpoint relative to api.baseUrl.
func kbPostDoc(baseURL string) string {
	return `{
  "api": {
    "baseUrl": "` + baseURL + `/auth/",
    "authentication": {
      "type": "login",
      "loginRequest": {
        "endpoint": "token",
        "method": "FORM",
        "headers": {"Accept": "application/json", "X-Team": "blue"},
        "params": {
          "grant_type": "client_credentials",
          "scope": "read",
          "tenant": "t 1",
          "client_id": {"attr": "#__CLIENT_ID"},
          "client_secret": {"attr": "#__CLIENT_SECRET"}
        }
      },
      "apiRequest": {"headers": {"Authorization": {"function": "concat", "args": ["Bearer ", {"response": "access_token"}]}}}
    }
  },
  "config": {"#__CLIENT_ID": "` + kbID + `", "#__CLIENT_SECRET": "` + kbSecret + `"}
}`
}

// captured is a token request as the endpoint saw it.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         string
}

// kbEndpoint is a token endpoint that accepts only kbID and kbSecret, sent
// with the Basic header it expects byte for byte, or in the body.
type kbEndpoint struct {
	*tokenServer
	mu        sync.Mutex
	wantBasic string // "" accepts client_secret_post only
	seen      []captured
}

func newKBEndpoint(t *testing.T, wantBasic string) *kbEndpoint {
	e := &kbEndpoint{wantBasic: wantBasic}
	e.tokenServer = newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		e.mu.Lock()
		e.seen = append(e.seen, captured{r.Method, r.URL.RequestURI(), h, string(body)})
		e.mu.Unlock()
		form, err := url.ParseQuery(string(body))
		ok := err == nil && r.Method == http.MethodPost && form.Get("grant_type") == "client_credentials"
		if auth := r.Header.Get("Authorization"); auth != "" {
			ok = ok && e.wantBasic != "" && auth == e.wantBasic && !form.Has("client_secret")
		} else {
			ok = ok && form.Get("client_id") == kbID && form.Get("client_secret") == kbSecret
		}
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		jsonToken("kb-token", 3600)(w, r)
	})
	return e
}

func (e *kbEndpoint) last(t *testing.T) captured {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.seen) == 0 {
		t.Fatal("the token endpoint saw no request")
	}
	return e.seen[len(e.seen)-1]
}

func TestKeboolaBasicEncodings(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		wantBasic string
		raw       bool // add basic_encoding: raw to the converted preset
	}{
		{"RFC 6749 form-encoding, the default", kbBasicForm, false},
		{"Keboola's raw header, with basic_encoding: raw", kbBasicRaw, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newKBEndpoint(t, tt.wantBasic)
			doc := kbBasicDoc(srv.URL + "/token")
			yaml, env, err := Convert(ctx, []byte(doc), WithCacheDir(testCache), WithUsername("svc"))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(env, []string{"CCTOKEN_SVC_CLIENT_SECRET"}) || strings.Contains(yaml, kbSecret) {
				t.Fatalf("convert: env %v\n%s", env, yaml)
			}
			if tt.raw {
				yaml = strings.Replace(yaml, "    # basic_encoding: raw\n", "    basic_encoding: raw\n", 1)
			}
			c := newClient(t, []byte(yaml), WithEnv(lookup(map[string]string{"CCTOKEN_SVC_CLIENT_SECRET": kbSecret})))
			if _, err := c.Token(ctx, "svc"); err != nil {
				t.Fatalf("converted preset: %v", err)
			}
			if got := srv.last(t).Header.Get("Authorization"); got != tt.wantBasic {
				t.Errorf("Authorization %q, want %q", got, tt.wantBasic)
			}
			// The configuration itself follows the RFC.
			direct := newClient(t, []byte(doc), WithUsername("svc"))
			_, err = direct.Token(ctx, "svc")
			if tt.raw {
				var he *Error
				if !errors.As(err, &he) || he.Code != "invalid_client" {
					t.Errorf("a raw-only server accepted the form-encoded header: %v", err)
				}
				if got := srv.last(t).Header.Get("Authorization"); got != kbBasicForm {
					t.Errorf("configuration sent %q, want %q", got, kbBasicForm)
				}
			} else if err != nil {
				t.Errorf("configuration: %v", err)
			}
		})
	}
}

func TestKeboolaPostForm(t *testing.T) {
	srv := newKBEndpoint(t, "")
	c := newClient(t, []byte(kbPostDoc(srv.URL)))
	if u := c.Users(); len(u) != 1 || u[0].Username != "keboola" || u[0].AuthMethod != "client_secret_post" {
		t.Fatalf("users = %+v", u)
	}
	tok, err := c.Token(context.Background(), "keboola")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "kb-token" {
		t.Errorf("token = %+v", tok)
	}
	got := srv.last(t)
	if got.Path != "/auth/token" || got.Header.Get("X-Team") != "blue" || got.Header.Get("Authorization") != "" {
		t.Errorf("request = %+v", got)
	}
	form, _ := url.ParseQuery(got.Body)
	if form.Get("scope") != "read" || form.Get("tenant") != "t 1" {
		t.Errorf("body = %q", got.Body)
	}
}

// TestKeboolaRoundTrip converts each variant, loads the printed preset with
// the variables it names, and checks the endpoint sees the same request.
func TestKeboolaRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		doc  func(srv string) string
		user string
		env  map[string]string
	}{
		{"basic", func(s string) string { return kbBasicDoc(s + "/token") }, "", map[string]string{"CCTOKEN_KEBOOLA_CLIENT_SECRET": kbSecret}},
		{"post", kbPostDoc, "svc.a", map[string]string{"CCTOKEN_SVC_A_CLIENT_ID": kbID, "CCTOKEN_SVC_A_CLIENT_SECRET": kbSecret}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newKBEndpoint(t, kbBasicForm)
			doc := tt.doc(srv.URL)
			user := tt.user
			if user == "" {
				user = "keboola"
			}
			request := func(text string, opts ...Option) captured {
				t.Helper()
				c := newClient(t, []byte(text), opts...)
				if _, err := c.Token(ctx, user); err != nil {
					t.Fatal(err)
				}
				return srv.last(t)
			}
			direct := request(doc, WithUsername(tt.user))
			yaml, env, err := Convert(ctx, []byte(doc), WithCacheDir(testCache), WithUsername(tt.user))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for n := range tt.env {
				want = append(want, n)
			}
			if len(env) != len(want) {
				t.Errorf("env = %v, want %v", env, want)
			}
			// Without the variables the printed preset does not load.
			if _, err := New(ctx, []byte(yaml), WithCacheDir(testCache), WithEnv(lookup(nil))); err == nil {
				t.Error("the printed preset loaded without its variables")
			}
			converted := request(yaml, WithEnv(lookup(tt.env)))
			if !reflect.DeepEqual(direct, converted) {
				t.Errorf("requests differ\nconfiguration %+v\nconverted     %+v\n%s", direct, converted, yaml)
			}
		})
	}
}

func TestKeboolaRefused(t *testing.T) {
	ctx := context.Background()
	srv := newKBEndpoint(t, kbBasicForm)
	doc := kbBasicDoc(srv.URL + "/token")
	for _, tt := range []struct {
		name, old, new, field, says string
	}{
		{"encrypted secret", kbSecret, "KBC::ProjectSecure::eJwLz8kvyk", "parameters.config.#__CLIENT_SECRET", "still encrypted by Keboola"},
		{"unsupported function", `"function": "base64_encode"`, `"function": "md5"`, "parameters.api.authentication.loginRequest.headers.Authorization.args[1]", "this function is not supported here"},
		{"attr in a header", `"Accept": "application/json"`, `"Accept": {"attr": "accept"}`, "parameters.api.authentication.loginRequest.headers.Accept", "an attr reference is not supported here"},
		{"other response reference", `{"response": "access_token"}`, `{"response": "id_token"}`, "parameters.api.authentication.apiRequest.headers.Authorization.args[1]", `only response reference cctoken supports is {"response": "access_token"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(doc, tt.old, tt.new, 1)
			_, err := New(ctx, []byte(bad), WithCacheDir(testCache))
			var he *Error
			if !errors.As(err, &he) || he.Code != "invalid_preset" || he.Field != tt.field || he.Line == 0 || !strings.Contains(he.Message, tt.says) {
				t.Fatalf("New = %#v", err)
			}
			issues, err := Lint(ctx, []byte(bad), WithCacheDir(testCache))
			if err != nil || len(issues) != 1 || issues[0].Field != tt.field {
				t.Errorf("Lint = %v, %v", issues, err)
			}
			if _, _, err := Convert(ctx, []byte(bad), WithCacheDir(testCache)); !errors.As(err, &he) || he.Field != tt.field {
				t.Errorf("Convert = %v", err)
			}
			if s := fmt.Sprint(err, issues); strings.Contains(s, "eJwL") || strings.Contains(s, kbSecret) {
				t.Errorf("value in an error: %s", s)
			}
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("the endpoint was called %d times", n)
	}
	if _, _, err := Convert(ctx, presetFor(srv.URL, ""), WithCacheDir(testCache)); err == nil || !strings.Contains(err.Error(), "already a cctoken preset") {
		t.Errorf("Convert of a preset = %v", err)
	}
}

func lookup(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}
