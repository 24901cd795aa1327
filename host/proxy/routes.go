// Package proxy is cctoken's request-signing proxy as an http.Handler: it
// picks a preset user from a route table, removes the caller's
// credentials, and sends the request to the route's upstream origin
// through the user's host.Client.Transport, so every protocol decision
// (retries, DPoP nonces, redirects) is the module's.
//
// The route table is the edge worker's (docs/routes.md); both read the
// shared vectors in tests/routes/cases.json.
package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/cctoken/cctoken/host"
)

// RouteError is a route table that does not load; it names the field and
// the fix, in the edge worker's words.
type RouteError struct {
	Field   string // "(document)", "[i]" or "[i].name"
	Message string
}

func (e *RouteError) Error() string { return "ROUTES: " + e.Field + ": " + e.Message }

// Route is one entry of a loaded table.
type Route struct {
	Host        string // lowercased; "" matches any host
	Path        string // without trailing slashes; "/" matches everything
	User        string
	Origin      string // scheme://host[:port], default port omitted
	Base        string // the upstream's base path without trailing slashes
	StripPrefix bool
	Scopes      []string
	Audience    string
	Resource    []string
	hasScopes   bool
	hasResource bool
}

// Name labels the route in metrics and logs: its host (if any) and path,
// which come from the table and never from a request.
func (r *Route) Name() string { return r.Host + r.Path }

// TokenOptions are the options the route asks its user's token with.
func (r *Route) TokenOptions() []host.TokenOption {
	var opts []host.TokenOption
	if r.hasScopes {
		opts = append(opts, host.WithScopes(r.Scopes...))
	}
	if r.Audience != "" {
		opts = append(opts, host.WithAudience(r.Audience))
	}
	if r.hasResource {
		opts = append(opts, host.WithResource(r.Resource...))
	}
	return opts
}

// Routes is a loaded route table, most specific route first.
type Routes struct{ list []*Route }

// All returns the routes in matching order.
func (t *Routes) All() []*Route { return append([]*Route(nil), t.list...) }

var routeKeys = []string{"host", "path", "user", "upstream", "strip_prefix", "scopes", "audience", "resource"}

var hostPattern = regexp.MustCompile(`(?i)^[a-z0-9.-]+(:[0-9]+)?$`)

// ParseRoutes reads a route table (a JSON array of routes). A table that
// does not load gives a *RouteError.
func ParseRoutes(data []byte) (*Routes, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return nil, &RouteError{"(document)", `is not JSON; give a JSON array of routes like [{"path":"/api/","user":"svc","upstream":"https://api.example.com"}]`}
		}
		raw = nil
	}
	if len(raw) == 0 {
		return nil, &RouteError{"(document)", "must be a non-empty JSON array of routes"}
	}
	list := make([]*Route, len(raw))
	seen := map[string]bool{}
	for i, r := range raw {
		route, err := parseRoute(r, fmt.Sprintf("[%d]", i))
		if err != nil {
			return nil, err
		}
		list[i] = route
	}
	for i, r := range list {
		k := r.Host
		if k == "" {
			k = "*"
		}
		k += " " + r.Path
		if seen[k] {
			return nil, &RouteError{fmt.Sprintf("[%d]", i), "matches the same host and path as an earlier route; give each (host, path) once"}
		}
		seen[k] = true
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if (a.Host != "") != (b.Host != "") {
			return a.Host != ""
		}
		return len(a.Path) > len(b.Path)
	})
	return &Routes{list: list}, nil
}

// object reads a JSON object keeping its keys in document order (the
// first unknown key is the one reported, as in JavaScript).
func object(data json.RawMessage) (keys []string, fields map[string]json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	fields = map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		if _, dup := fields[k]; !dup {
			keys = append(keys, k)
		}
		fields[k] = v
	}
	return keys, fields, true
}

// value decodes a field to string, bool, float64, []any, map or nil;
// absent is (nil, false).
func value(fields map[string]json.RawMessage, k string) (any, bool) {
	raw, ok := fields[k]
	if !ok {
		return nil, false
	}
	var v any
	json.Unmarshal(raw, &v)
	return v, true
}

func parseRoute(data json.RawMessage, at string) (*Route, error) {
	keys, fields, ok := object(data)
	if !ok {
		return nil, &RouteError{at, "must be an object with user and upstream"}
	}
	for _, k := range keys {
		known := false
		for _, rk := range routeKeys {
			known = known || k == rk
		}
		if !known {
			return nil, &RouteError{at + "." + k, "is not a route field; use " + strings.Join(routeKeys, ", ")}
		}
	}
	r := &Route{Path: "/"}
	user, _ := value(fields, "user")
	if s, ok := user.(string); !ok || s == "" {
		return nil, &RouteError{at + ".user", "is required: the preset username whose token this route carries"}
	}
	r.User = user.(string)
	up, _ := value(fields, "upstream")
	upstream, ok := up.(string)
	if !ok {
		return nil, &RouteError{at + ".upstream", "is required: the upstream origin, e.g. https://api.example.com"}
	}
	if err := r.setUpstream(upstream, at+".upstream"); err != nil {
		return nil, err
	}
	if v, ok := value(fields, "host"); ok {
		s, isString := v.(string)
		if !isString || !hostPattern.MatchString(s) {
			return nil, &RouteError{at + ".host", "must be a host name (with an optional :port) as callers send it in Host"}
		}
		r.Host = strings.ToLower(s)
	}
	if v, ok := value(fields, "path"); ok {
		s, isString := v.(string)
		if !isString || !strings.HasPrefix(s, "/") || strings.ContainsAny(s, "?#") {
			return nil, &RouteError{at + ".path", "must be a path prefix starting with / (no query or fragment)"}
		}
		if len(s) > 1 {
			s = strings.TrimRight(s, "/")
			if s == "" {
				s = "/"
			}
		}
		r.Path = s
	}
	if v, ok := value(fields, "strip_prefix"); ok {
		b, isBool := v.(bool)
		if !isBool {
			return nil, &RouteError{at + ".strip_prefix", "must be true or false"}
		}
		r.StripPrefix = b
	}
	var err error
	if r.Scopes, r.hasScopes, err = list(fields, "scopes", at); err != nil {
		return nil, err
	}
	if r.Resource, r.hasResource, err = list(fields, "resource", at); err != nil {
		return nil, err
	}
	if v, ok := value(fields, "audience"); ok {
		s, isString := v.(string)
		if !isString || s == "" {
			return nil, &RouteError{at + ".audience", "must be a non-empty string"}
		}
		r.Audience = s
	}
	return r, nil
}

// list reads scopes (a space-separated string or an array) or resource (a
// string or an array).
func list(fields map[string]json.RawMessage, name, at string) ([]string, bool, error) {
	v, ok := value(fields, name)
	if !ok {
		return nil, false, nil
	}
	bad := &RouteError{at + "." + name, "must be a string or an array of non-empty strings"}
	switch v := v.(type) {
	case string:
		if name == "scopes" {
			out := []string{}
			for _, f := range strings.Split(v, " ") {
				if f != "" {
					out = append(out, f)
				}
			}
			return out, true, nil
		}
		return []string{v}, true, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, isString := e.(string)
			if !isString || s == "" {
				return nil, false, bad
			}
			out = append(out, s)
		}
		return out, true, nil
	}
	return nil, false, bad
}

// setUpstream checks the upstream URL as the edge worker does and keeps
// its origin and base path.
func (r *Route) setUpstream(s, field string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" || (u.Host == "" && (u.Scheme == "http" || u.Scheme == "https")) {
		return &RouteError{field, "is not an absolute URL; give e.g. https://api.example.com"}
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return &RouteError{field, "must be an http or https URL"}
	}
	if u.User != nil {
		return &RouteError{field, "must not hold credentials; tokens come from the preset"}
	}
	if strings.ContainsAny(s, "?#") {
		return &RouteError{field, "must not have a query or fragment; give the origin and at most a base path"}
	}
	r.Origin = origin(scheme, u.Host)
	r.Base = strings.TrimRight(resolveDots(u.EscapedPath()), "/")
	return nil
}

// origin is scheme://host[:port] with the host lowercased and the
// scheme's default port left out, as a URL's origin.
func origin(scheme, hostport string) string {
	hostport = strings.ToLower(hostport)
	h, port, err := net.SplitHostPort(hostport)
	if err == nil && (port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80")) {
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		hostport = h
	}
	return scheme + "://" + hostport
}

// resolveDots resolves . and .. segments (also percent-encoded ones) of an
// escaped absolute path as a URL parser does, so that /a/../admin is
// matched as /admin.
func resolveDots(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, ".") && !strings.Contains(strings.ToLower(p), "%2e") {
		return p
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// Match returns the route for a request's Host and escaped path (as
// r.URL.EscapedPath gives it), or nil.
func (t *Routes) Match(hostHeader, escapedPath string) *Route {
	h := strings.ToLower(hostHeader)
	p := resolveDots(escapedPath)
	for _, r := range t.list {
		if (r.Host == "" || r.Host == h) && under(p, r.Path) {
			return r
		}
	}
	return nil
}

func under(p, prefix string) bool {
	return prefix == "/" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

// Upstream returns the upstream URL for a request's escaped path and raw
// query, or nil when it would leave the route's origin (which building it
// cannot do, but the proxy's security rests on it, so it is checked).
func (r *Route) Upstream(escapedPath, rawQuery string) *url.URL {
	rest := resolveDots(escapedPath)
	if r.StripPrefix && r.Path != "/" {
		rest = rest[len(r.Path):]
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	s := r.Origin + r.Base + rest
	if rawQuery != "" {
		s += "?" + rawQuery
	}
	u, err := url.Parse(s)
	if err != nil || !r.SameOrigin(u) {
		return nil
	}
	return u
}

// SameOrigin reports whether u is on the route's upstream origin.
func (r *Route) SameOrigin(u *url.URL) bool {
	return u.IsAbs() && origin(strings.ToLower(u.Scheme), u.Host) == r.Origin
}
