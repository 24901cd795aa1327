package host

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// faultAPI is a resource server that answers by path and records every
// request it got.
type faultAPI struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
	body []string
}

func newFaultAPI(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) *faultAPI {
	t.Helper()
	a := &faultAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		n := len(a.seen)
		a.seen = append(a.seen, r)
		a.body = append(a.body, string(b))
		a.mu.Unlock()
		h(n, w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *faultAPI) requests() []*http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*http.Request(nil), a.seen...)
}

// countingTokens issues tok-1, tok-2, … of tokenType.
func countingTokens(t *testing.T, tokenType string) (*tokenServer, *atomic.Int32) {
	var n atomic.Int32
	srv := newTokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":%q,"expires_in":3600}`, n.Add(1), tokenType)
	})
	return srv, &n
}

// The case: an API that answers use_dpop_nonce, then invalid_token
// to every request. The module's policy gives 3 API requests and 2 token
// requests (the Go host used to make 4 token requests).
func TestTransportNonceThenInvalidToken(t *testing.T) {
	for _, tt := range []struct {
		name     string
		dpop     bool
		api      int
		tokens   int32
		lastAuth string
	}{
		{"DPoP", true, 3, 2, "DPoP tok-2"},
		// A Bearer request has no proof to put a nonce in: no retry.
		{"Bearer", false, 1, 1, "Bearer tok-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			typ, extra := "Bearer", ""
			if tt.dpop {
				typ, extra = "DPoP", "    dpop: true\n"
			}
			srv, issued := countingTokens(t, typ)
			api := newFaultAPI(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					w.Header().Set("DPoP-Nonce", "rs-nonce")
					w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
				} else {
					w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token", Bearer error="invalid_token"`)
				}
				w.WriteHeader(401)
			})
			c := newClient(t, presetFor(srv.URL, extra))
			req, _ := http.NewRequest("POST", api.URL+"/x", strings.NewReader("payload"))
			resp, err := (&http.Client{Transport: c.Transport("svc", nil)}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			seen := api.requests()
			if resp.StatusCode != 401 || len(seen) != tt.api || issued.Load() != tt.tokens {
				t.Fatalf("status %d after %d API requests and %d token requests, want 401, %d and %d", resp.StatusCode, len(seen), issued.Load(), tt.api, tt.tokens)
			}
			for i, b := range api.body {
				if b != "payload" {
					t.Errorf("request %d body %q", i, b)
				}
			}
			if got := seen[len(seen)-1].Header.Get("Authorization"); got != tt.lastAuth {
				t.Errorf("last request Authorization %q, want %q", got, tt.lastAuth)
			}
			if tt.dpop {
				if c := proofClaims(t, seen[1].Header.Get("DPoP")); c["nonce"] != "rs-nonce" {
					t.Errorf("the nonce retry's proof has nonce %v", c["nonce"])
				}
				if c := proofClaims(t, seen[2].Header.Get("DPoP")); c["nonce"] != "rs-nonce" || c["ath"] == proofClaims(t, seen[1].Header.Get("DPoP"))["ath"] {
					t.Errorf("the token retry's proof: %v", c)
				}
			}
		})
	}
}

// sink records what reaches another origin.
type sink struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
	back string // where /bounce redirects to
}

// newSink listens on 127.0.0.1 and is addressed as localhost: another
// origin than the API's 127.0.0.1 (another host and another port).
func newSink(t *testing.T) (*sink, string) {
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Header.Clone())
		back := s.back
		s.mu.Unlock()
		if r.URL.Path == "/bounce" && back != "" {
			http.Redirect(w, r, back, http.StatusFound)
			return
		}
		io.WriteString(w, "sink")
	}))
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	return s, "http://localhost:" + port
}

func (s *sink) headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.seen...)
}

// credentialsIn lists the user's credentials found in h.
func credentialsIn(h http.Header) []string {
	var found []string
	for _, name := range []string{"Authorization", "Dpop", "X-Team", "Cookie"} {
		if v := h.Get(name); v != "" {
			found = append(found, name+": "+v)
		}
	}
	return found
}

// A redirect to another origin never carries the user's token, proof,
// headers or cookies: Transport hands it back, HTTPClient stops there, and
// an http.Client that follows it anyway sends the hop bare.
func TestTransportRedirectToAnotherOrigin(t *testing.T) {
	for _, dpop := range []bool{false, true} {
		t.Run(fmt.Sprintf("dpop=%v", dpop), func(t *testing.T) {
			typ, extra := "Bearer", ""
			if dpop {
				typ, extra = "DPoP", "    dpop: true\n"
			}
			srv, _ := countingTokens(t, typ)
			away, awayURL := newSink(t)
			api := newFaultAPI(t, func(n int, w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/go":
					http.Redirect(w, r, awayURL+"/sink", http.StatusFound)
				case "/bounce":
					http.Redirect(w, r, awayURL+"/bounce", http.StatusFound)
				default:
					io.WriteString(w, "back")
				}
			})
			away.mu.Lock()
			away.back = api.URL + "/back"
			away.mu.Unlock()
			c := newClient(t, presetFor(srv.URL, extra))

			// A default http.Client follows; the hop goes out bare.
			resp, err := (&http.Client{Transport: c.Transport("svc", nil)}).Get(api.URL + "/go")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "sink" || len(away.headers()) != 1 {
				t.Fatalf("status %d body %q, sink saw %d", resp.StatusCode, b, len(away.headers()))
			}
			if got := credentialsIn(away.headers()[0]); got != nil {
				t.Errorf("the other origin received %v", got)
			}
			if len(api.requests()) != 1 || api.requests()[0].Header.Get("Authorization") == "" {
				t.Errorf("the API got %d requests", len(api.requests()))
			}

			// A chain that left the origin stays bare, even when it comes
			// back: the module never decided to follow it.
			resp, err = (&http.Client{Transport: c.Transport("svc", nil)}).Get(api.URL + "/bounce")
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			seen := api.requests()
			if string(b) != "back" || len(seen) != 3 || seen[2].URL.Path != "/back" {
				t.Fatalf("bounce: %q, API saw %d requests", b, len(seen))
			}
			if got := credentialsIn(seen[2].Header); got != nil {
				t.Errorf("the hop back after leaving the origin carried %v", got)
			}
			if got := credentialsIn(away.headers()[1]); got != nil {
				t.Errorf("the other origin received %v", got)
			}

			// HTTPClient does not follow it at all.
			resp, err = c.HTTPClient("svc").Get(api.URL + "/go")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 302 || resp.Header.Get("Location") != awayURL+"/sink" || len(away.headers()) != 2 {
				t.Fatalf("HTTPClient: status %d, sink saw %d requests", resp.StatusCode, len(away.headers()))
			}
		})
	}
}

// A redirect to the same origin is followed by the transport and signed
// again, the DPoP proof made for the new URL; 303 after POST is a GET
// without the body.
func TestTransportSameOriginRedirect(t *testing.T) {
	srv, issued := countingTokens(t, "DPoP")
	api := newFaultAPI(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/new?x=1", http.StatusPermanentRedirect)
		case "/form":
			http.Redirect(w, r, "/result", http.StatusSeeOther)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
		}
	})
	c := newClient(t, presetFor(srv.URL, "    dpop: true\n"))
	hc := c.HTTPClient("svc")
	check := func(method, path, body, want string, requests int) []*http.Request {
		t.Helper()
		before := len(api.requests())
		req, _ := http.NewRequest(method, api.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "text/plain")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen := api.requests()[before:]
		if string(b) != want || len(seen) != requests {
			t.Fatalf("%s %s: %d %q after %d requests, want %q after %d", method, path, resp.StatusCode, b, len(seen), want, requests)
		}
		for _, r := range seen {
			p := proofClaims(t, r.Header.Get("DPoP"))
			if r.Header.Get("Authorization") != "DPoP tok-1" || r.Header.Get("X-Team") != "a" || r.Header.Get("Cookie") != "tenant=acme" ||
				p["htm"] != r.Method || p["htu"] != api.URL+r.URL.Path {
				t.Errorf("%s %s: headers %v, proof %v", r.Method, r.URL, r.Header, p)
			}
		}
		return seen
	}
	seen := check("PUT", "/old", "data", "PUT /new", 2)
	if api.body[len(api.body)-1] != "data" {
		t.Error("308 did not keep the body")
	}
	seen = check("POST", "/form", "a=1", "GET /result", 2)
	if seen[1].Header.Get("Content-Type") != "" || api.body[len(api.body)-1] != "" {
		t.Error("303 kept the body")
	}
	// Five redirects, then the 3xx is the answer.
	if seen = check("GET", "/loop", "", "<a href=\"/loop\">Found</a>.\n\n", 6); len(seen) != 6 {
		t.Fatal(len(seen))
	}
	if issued.Load() != 1 {
		t.Errorf("%d token requests", issued.Load())
	}
}
