// Package jsonlite reads and writes the plain JSON of the module's hot
// path by hand, without reflection: calls and answers of the ABI, token
// responses. It takes only a strict subset of JSON and says so (ok false)
// for anything else, so callers fall back to encoding/json and both paths
// give the same values.
package jsonlite

import (
	"encoding/json"
	"unicode/utf8"
)

// Reader reads JSON from S; every method reports false on anything it does
// not handle (the caller then decodes the text again with encoding/json).
type Reader struct {
	S []byte
	i int
}

// Done reports whether only white space is left.
func (d *Reader) Done() bool {
	d.ws()
	return d.i == len(d.S)
}

func (d *Reader) ws() {
	for d.i < len(d.S) {
		switch d.S[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *Reader) Byte(c byte) bool {
	d.ws()
	if d.i < len(d.S) && d.S[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object calls member for each member of an object; member reads the value.
func (d *Reader) Object(member func(name string) bool) bool {
	if !d.Byte('{') {
		return false
	}
	if d.Byte('}') {
		return true
	}
	for {
		name, ok := d.Str()
		if !ok || !d.Byte(':') || !member(name) {
			return false
		}
		if d.Byte(',') {
			continue
		}
		return d.Byte('}')
	}
}

func (d *Reader) StrList() ([]string, bool) {
	if !d.Byte('[') {
		return nil, false
	}
	out := []string{}
	if d.Byte(']') {
		return out, true
	}
	for {
		s, ok := d.Str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if d.Byte(',') {
			continue
		}
		return out, d.Byte(']')
	}
}

func (d *Reader) StrMap() (map[string]string, bool) {
	m := map[string]string{}
	ok := d.Object(func(name string) bool {
		v, ok := d.Str()
		m[name] = v
		return ok
	})
	return m, ok
}

func (d *Reader) Bool() (bool, bool) {
	d.ws()
	switch {
	case len(d.S)-d.i >= 4 && string(d.S[d.i:d.i+4]) == "true":
		d.i += 4
		return true, d.end()
	case len(d.S)-d.i >= 5 && string(d.S[d.i:d.i+5]) == "false":
		d.i += 5
		return false, d.end()
	}
	return false, false
}

// end reports whether a literal or number stops where it should.
func (d *Reader) end() bool {
	if d.i == len(d.S) {
		return true
	}
	switch d.S[d.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// uint reads a plain non-negative integer without leading zeros.
func (d *Reader) Uint() (uint64, bool) {
	d.ws()
	start := d.i
	var n uint64
	for d.i < len(d.S) && d.S[d.i] >= '0' && d.S[d.i] <= '9' {
		if d.i-start >= 18 {
			return 0, false // could overflow; encoding/json decides
		}
		n = n*10 + uint64(d.S[d.i]-'0')
		d.i++
	}
	if d.i == start || (d.S[start] == '0' && d.i-start > 1) {
		return 0, false
	}
	return n, d.end()
}

// Str reads a string. One without escapes is taken as it is; one with
// escapes is unquoted by encoding/json (smaller than doing it here, and
// only that string goes through it). Invalid UTF-8 is left to the caller's
// fallback.
func (d *Reader) Str() (string, bool) {
	if !d.Byte('"') {
		return "", false
	}
	start, escaped := d.i, false
	for d.i < len(d.S) {
		c := d.S[d.i]
		switch {
		case c == '"':
			d.i++
			if !escaped {
				return string(d.S[start : d.i-1]), true
			}
			var s string
			if json.Unmarshal(d.S[start-1:d.i], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			d.i += 2
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.S[d.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			d.i += size
		default:
			d.i++
		}
	}
	return "", false
}

// maxDepth bounds nesting in Skip; deeper values are left to encoding/json.
const maxDepth = 64

// Members reads a JSON object and returns each member's value as its raw
// JSON text, as json.Unmarshal into map[string]json.RawMessage does (the
// last of repeated members wins). ok is false for anything but a plain
// object of valid JSON values.
func Members(text []byte) (m map[string]json.RawMessage, ok bool) {
	d := Reader{S: text}
	m = map[string]json.RawMessage{}
	ok = d.Object(func(name string) bool {
		d.ws()
		start := d.i
		if !d.skip(0) {
			return false
		}
		m[name] = json.RawMessage(d.S[start:d.i])
		return true
	})
	if !ok || !d.Done() {
		return nil, false
	}
	return m, true
}

// String decodes raw, the text of a JSON string value.
func String(raw []byte) (string, bool) {
	d := Reader{S: raw}
	s, ok := d.Str()
	return s, ok && d.Done()
}

// skip steps over one JSON value.
func (d *Reader) skip(depth int) bool {
	d.ws()
	if d.i >= len(d.S) || depth > maxDepth {
		return false
	}
	switch c := d.S[d.i]; {
	case c == '"':
		_, ok := d.Str()
		return ok
	case c == '{':
		return d.Object(func(string) bool { return d.skip(depth + 1) })
	case c == '[':
		d.i++
		if d.Byte(']') {
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			if d.Byte(',') {
				continue
			}
			return d.Byte(']')
		}
	case c == 't' || c == 'f':
		_, ok := d.Bool()
		return ok
	case c == 'n':
		if len(d.S)-d.i >= 4 && string(d.S[d.i:d.i+4]) == "null" {
			d.i += 4
			return d.end()
		}
		return false
	default:
		return d.number()
	}
}

// number steps over a JSON number (RFC 8259 §6).
func (d *Reader) number() bool {
	digits := func() int {
		n := 0
		for d.i < len(d.S) && d.S[d.i] >= '0' && d.S[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.S) && d.S[d.i] == '-' {
		d.i++
	}
	start := d.i
	if n := digits(); n == 0 || (n > 1 && d.S[start] == '0') {
		return false
	}
	if d.i < len(d.S) && d.S[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return false
		}
	}
	if d.i < len(d.S) && (d.S[d.i] == 'e' || d.S[d.i] == 'E') {
		d.i++
		if d.i < len(d.S) && (d.S[d.i] == '+' || d.S[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return d.end()
}
