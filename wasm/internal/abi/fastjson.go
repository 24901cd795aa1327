package abi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jsonlite"
)

// The hot path of every host is a token fetch: a token call answered with
// an http effect, then a resume carrying the token endpoint's response. The
// calls are read here by hand (with package jsonlite), without reflection:
// in the guest that is what made the module slower when it moved from
// goccy/go-json to the smaller encoding/json (a fetch's calls took about
// 1.5 times as long). Writing the answers by hand as well was measured to
// gain little and cost about 1 KB of the gzipped module, so answers go
// through encoding/json.

// decodeCall reads in into c. Calls of the plain form hosts send (an
// object of the documented members with strings, unsigned integers, bools,
// lists of strings and objects of strings, nothing null, no unknown member)
// are read here; anything else is handed to encoding/json, which also
// words the error for a bad call.
//
// A member Call does not declare is refused (an *unknownMember error), not
// ignored: a host that sends one was written against other ABI types than
// this module's, and dropping the member would silently change what the
// call means. Every host's tests then fail where the two sides drifted.
func decodeCall(in []byte, c *Call) error {
	d := reader{jsonlite.Reader{S: in}}
	if d.call(c) {
		return attachBody(c, d.Rest())
	}
	// A Call of its own for encoding/json, which keeps whatever it is
	// given on the heap: the fetch path's Call then stays on the stack.
	slow := new(Call)
	text, rest := in, []byte(nil)
	if end, ok := jsonlite.End(in); ok {
		text, rest = in[:end], in[end:]
	}
	err := strictUnmarshal(text, slow)
	*c = *slow
	if err != nil {
		return err
	}
	return attachBody(c, rest)
}

// attachBody takes rest, what follows the call's JSON text, as the body
// of its response when the response announced it with body_bytes (ABI.md,
// "The body after the call"); otherwise only white space may follow.
func attachBody(c *Call, rest []byte) error {
	n := 0
	if c.Response != nil {
		n = c.Response.BodyBytes
	}
	if n == 0 {
		if !(&jsonlite.Reader{S: rest}).Done() {
			return errTrailing
		}
		return nil
	}
	if n < 0 || len(rest) != n || c.Response.Body != "" {
		return errBodyBytes
	}
	c.Response.Body = string(rest)
	return nil
}

var (
	errTrailing  = errors.New("data after the call")
	errBodyBytes = errors.New("body_bytes does not match")
)

// strictUnmarshal is json.Unmarshal into a Call that refuses unknown
// members. (json.Decoder's DisallowUnknownFields would do it in one pass
// but adds 7 kB to the gzipped module; this reuses what Unmarshal and the
// reflect package already bring.)
func strictUnmarshal(in []byte, c *Call) error {
	if err := json.Unmarshal(in, c); err != nil {
		return err
	}
	if name, ok := unknownIn(in, reflect.TypeOf(c).Elem()); ok {
		return &unknownMember{name: name}
	}
	return nil
}

// unknownIn is the first member of the JSON object in that struct type t
// does not declare, looking into members that are structs themselves; ok
// is false when there is none (a member may be named ""). Names match as
// encoding/json matches them (case-insensitively).
func unknownIn(in []byte, t reflect.Type) (string, bool) {
	unknown, found := "", false
	check := func(name string, v []byte) {
		if found {
			return
		}
		f, ok := memberField(t, name)
		if !ok {
			unknown, found = name, true
			return
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			unknown, found = unknownIn(v, ft)
		}
	}
	// Every member, repeated ones too: encoding/json merges a repeated
	// object into the first, so an unknown member in either counts.
	if jsonlite.EachMember(in, check) {
		return unknown, found
	}
	// What jsonlite does not read (invalid UTF-8, deep nesting): the last
	// of repeated members only.
	var members map[string]json.RawMessage
	if json.Unmarshal(in, &members) != nil {
		return "", false
	}
	for n, v := range members {
		check(n, v)
	}
	return unknown, found
}

// memberField finds the field of t that encoding/json fills from member
// name: by tag, or by field name without one, inside untagged embedded
// structs too.
func memberField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			if g, ok := memberField(f.Type, name); ok {
				return g, true
			}
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if f.IsExported() && strings.EqualFold(tag, name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// unknownMember is a call member this module does not know.
type unknownMember struct{ name string }

func (e *unknownMember) Error() string { return "unknown member " + e.name }

type reader struct{ jsonlite.Reader }

func (d *reader) call(c *Call) bool {
	if !d.Byte('{') {
		return false
	}
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		if !ok {
			return false
		}
		if end {
			return true // what follows is decodeCall's (attachBody)
		}
		switch string(name) {
		case "op":
			c.Op, ok = d.op()
		case "text":
			c.Text, ok = d.Str()
		case "username":
			c.Username, ok = d.Str()
		case "user":
			c.User, ok = d.Str()
		case "scopes":
			c.Scopes, ok = d.StrList()
		case "audience":
			c.Audience, ok = d.Str()
		case "resource":
			c.Resource, ok = d.StrList()
		case "refresh":
			c.Refresh, ok = d.Bool()
		case "task":
			c.Task, ok = d.Uint()
		// encoding/json merges a repeated object into the first one; such
		// calls are left to it.
		case "env":
			if c.Env != nil {
				return false
			}
			c.Env, ok = d.StrMap()
		case "response":
			if c.Response != nil {
				return false
			}
			c.Response = &httpmsg.Response{}
			ok = d.response(c.Response)
		case "failure":
			if c.Failure != nil {
				return false
			}
			c.Failure = &httpmsg.Failure{}
			ok = d.failure(c.Failure)
		case "status":
			var n uint64
			n, ok = d.Uint()
			ok = ok && n <= 1<<31-1
			c.Status = int(n)
		case "www_authenticate":
			c.WWWAuth, ok = d.Str()
		case "method":
			c.Method, ok = d.Str()
		case "url":
			c.URL, ok = d.Str()
		case "nonce":
			c.Nonce, ok = d.Str()
		case "dpop_nonce":
			c.DPoPNonce, ok = d.Str()
		case "store_reply":
			if c.StoreReply != nil {
				return false
			}
			c.StoreReply = &engine.StoreReply{}
			ok = d.storeReply(c.StoreReply)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

// op reads the op's name; the fetch path's ops come out as constants
// rather than copies.
func (d *reader) op() (string, bool) {
	save := d.Reader
	raw, ok := d.Key()
	if !ok {
		return "", false
	}
	switch string(raw) {
	case "token":
		return "token", true
	case "resume":
		return "resume", true
	case "invalidate":
		return "invalidate", true
	}
	d.Reader = save
	return d.Str()
}

func (d *reader) failure(f *httpmsg.Failure) bool {
	if !d.Byte('{') {
		return false
	}
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		if !ok || end {
			return ok
		}
		switch string(name) {
		case "kind":
			f.Kind, ok = d.Str()
		case "message":
			f.Message, ok = d.Str()
		case "field":
			f.Field, ok = d.Str()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

// storeReply reads the answer to a store effect (ABI.md, Shared store): on
// the path of every token another instance fetched.
func (d *reader) storeReply(r *engine.StoreReply) bool {
	if !d.Byte('{') {
		return false
	}
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		if !ok || end {
			return ok
		}
		switch string(name) {
		case "found":
			r.Found, ok = d.Bool()
		case "value":
			r.Value, ok = d.Str()
		case "ok":
			r.OK, ok = d.Bool()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

func (d *reader) response(r *httpmsg.Response) bool {
	if !d.Byte('{') {
		return false
	}
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		if !ok || end {
			return ok
		}
		switch string(name) {
		case "status":
			var n uint64
			n, ok = d.Uint()
			ok = ok && n <= 1<<31-1
			r.Status = int(n)
		case "header":
			if r.RawHeader != nil {
				return false
			}
			r.RawHeader, ok = d.StrObject()
		case "body":
			r.Body, ok = d.Str()
		case "body_bytes":
			var n uint64
			n, ok = d.Uint()
			ok = ok && n <= 1<<31-1
			r.BodyBytes = int(n)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}
