// Package jsonlite reads and writes the plain JSON of the module's hot
// path by hand, without reflection: calls and answers of the ABI, token
// responses. It takes only a strict subset of JSON and says so (ok false)
// for anything else, so callers fall back to encoding/json and both paths
// give the same values.
package jsonlite

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Reader reads JSON from S; every method reports false on anything it does
// not handle (the caller then decodes the text again with encoding/json).
type Reader struct {
	S []byte
	i int
	// loose takes strings with invalid UTF-8 and values nested deeper
	// than maxDepth, as encoding/json does (EachMember).
	loose bool
	// keyEscaped says the last name Key (or Member) read has escapes:
	// the hot paths check it instead of searching the name again.
	keyEscaped bool
}

// Rest is what is left to read.
func (d *Reader) Rest() []byte { return d.S[d.i:] }

// End is where the JSON value text starts with ends; ok is false when it
// does not start with a value jsonlite reads.
func End(text []byte) (end int, ok bool) {
	d := Reader{S: text}
	if !d.skip(0) {
		return 0, false
	}
	return d.i, true
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

// Object calls member for each member of an object; member reads the
// value. name is the member's name as it stands in S, escapes and all (a
// name with escapes matches no plain name), so reading an object copies no
// names: a member that keeps it must copy it.
func (d *Reader) Object(member func(name []byte) bool) bool {
	if !d.Byte('{') {
		return false
	}
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		switch {
		case !ok:
			return false
		case end:
			return true
		case !member(name):
			return false
		}
	}
}

// Member steps to an object's next member, the loop form of Object for
// the hot paths (a closure costs an allocation in wasm): after the
// object's '{' has been read with Byte, call it with first true, then
// false, reading each member's value in between, until end. name is as
// in Object; ok is false on anything but a well-formed object.
func (d *Reader) Member(first bool) (name []byte, end, ok bool) {
	if d.Byte('}') {
		return nil, true, true
	}
	if !first && !d.Byte(',') {
		return nil, false, false
	}
	name, ok = d.Key()
	if !ok || !d.Byte(':') {
		return nil, false, false
	}
	return name, false, true
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
	if !d.Byte('{') {
		return nil, false
	}
	m := make(map[string]string, 8)
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		if !ok {
			return m, false
		}
		if end {
			return m, true
		}
		v, ok := d.Str()
		if !ok {
			return m, false
		}
		key := string(name)
		if bytes.IndexByte(name, '\\') >= 0 {
			if key, ok = unescape(name); !ok {
				return m, false
			}
		}
		m[key] = v
	}
}

// StrObject steps over an object whose values are all strings, checked
// as StrMap checks them, and returns its text without copying anything or
// making a map: the header of a token response, of which the module
// reads one or two members (Lookup).
func (d *Reader) StrObject() ([]byte, bool) {
	if !d.Byte('{') {
		return nil, false
	}
	start := d.i - 1
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		switch {
		case !ok:
			return nil, false
		case end:
			return d.S[start:d.i], true
		case d.keyEscaped && !validEscapes(name):
			return nil, false
		}
		d.ws()
		vstart := d.i
		escaped, ok := d.skipStr()
		if !ok || (escaped && !validEscapes(d.S[vstart+1:d.i-1])) {
			return nil, false
		}
	}
}

// Lookup returns the value of member name of obj, an object StrObject
// returned: the last member named exactly name (as encoding/json keeps
// the last of repeated members), else the first whose name matches name
// case-insensitively, as a header is looked up.
func Lookup(obj []byte, name string) (string, bool) {
	d := Reader{S: obj}
	if !d.Byte('{') {
		return "", false
	}
	var exact, folded []byte
	for first := true; ; first = false {
		key, end, ok := d.Member(first)
		if !ok || end {
			break
		}
		d.ws()
		start := d.i
		if _, ok := d.skipStr(); !ok {
			break
		}
		if d.keyEscaped {
			k, ok := unescape(key)
			if !ok {
				continue
			}
			key = []byte(k)
		}
		switch {
		case string(key) == name:
			exact = d.S[start:d.i]
		case folded == nil && foldEqual(key, name):
			folded = d.S[start:d.i]
		}
	}
	if exact == nil {
		exact = folded
	}
	if exact == nil {
		return "", false
	}
	return String(exact)
}

// foldEqual is strings.EqualFold without converting b.
func foldEqual(b []byte, s string) bool {
	if len(b) != len(s) {
		// Only a non-ASCII letter can match one of another length
		// (the Kelvin sign and k).
		return (!ascii(b) || !ascii(s)) && strings.EqualFold(string(b), s)
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.EqualFold(string(b), s)
		}
		if x != y && (x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}

func ascii[T string | []byte](b T) bool {
	for i := 0; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// validEscapes reports whether every escape in s, the inside of a JSON
// string, is one unescape decodes.
func validEscapes(s []byte) bool {
	for i := bytes.IndexByte(s, '\\'); i >= 0; {
		if i+1 >= len(s) {
			return false
		}
		switch s[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if hex4(s[i+2:]) < 0 {
				return false
			}
			i += 6
		default:
			return false
		}
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			return true
		}
		i += j
	}
	return true
}

// Key reads a string and returns it as it stands, escapes and all (see
// Object), without copying it. It takes what Str takes.
func (d *Reader) Key() ([]byte, bool) {
	d.ws()
	start := d.i
	escaped, ok := d.skipStr()
	if !ok {
		return nil, false
	}
	d.keyEscaped = escaped
	return d.S[start+1 : d.i-1], true
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

// Str reads a string. One without escapes is taken as it is; escapes are
// decoded here as encoding/json does (a lone surrogate becomes U+FFFD):
// a token response arrives as the escaped body of a resume call, and
// encoding/json's scanner costs about 20 times as much in wasm. Invalid
// UTF-8 and bad escapes are left to the caller's fallback.
func (d *Reader) Str() (string, bool) {
	d.ws()
	start := d.i
	escaped, ok := d.skipStr()
	switch {
	case !ok:
		return "", false
	case escaped:
		return unescape(d.S[start+1 : d.i-1])
	}
	return string(d.S[start+1 : d.i-1]), true
}

// skipStr steps over a string whose escapes are still to be checked.
func (d *Reader) skipStr() (escaped, ok bool) {
	if !d.Byte('"') {
		return false, false
	}
	// In locals, and one table look-up a plain byte: the loop every byte
	// of a fetch's calls and token response goes through.
	s, i := d.S, d.i
	for i < len(s) {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			d.i = i + 1
			return escaped, true
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20:
			return false, false
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 && !d.loose {
				return false, false
			}
			i += size
		}
	}
	return false, false
}

// plain marks the bytes that stand for themselves inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape decodes the inside of a JSON string that has escapes; the
// caller has checked everything but the escapes themselves.
func unescape(s []byte) (string, bool) {
	var out strings.Builder // one allocation, no copy for the string
	out.Grow(len(s))
	for i := 0; i < len(s); {
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			out.Write(s[i:])
			break
		}
		out.Write(s[i : i+j])
		i += j
		if i+1 >= len(s) {
			return "", false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			out.WriteByte(s[i+1])
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'u':
			r := hex4(s[i+2:])
			if r < 0 {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out.WriteRune(r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return out.String(), true
}

// hex4 reads the four hex digits of a \u escape; -1 if they are not.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// maxDepth bounds nesting in Skip; deeper values are left to encoding/json.
const maxDepth = 64

// Member is one member of an object: its name as it stands in the text
// (see Reader.Object) and its value as raw JSON text.
type Member struct {
	Name, Raw []byte
}

// Object is an object's members in document order.
type Object []Member

// Get returns the raw value of the last member called name, as
// encoding/json keeps the last of repeated members.
func (o Object) Get(name string) ([]byte, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if string(o[i].Name) == name {
			return o[i].Raw, true
		}
	}
	return nil, false
}

// ReadObject reads a plain JSON object of valid JSON values into its
// members without copying anything; ok is false for anything else, and
// for member names with escapes (Get could not find those).
func ReadObject(text []byte) (o Object, ok bool) {
	return AppendObject(make(Object, 0, 8), text)
}

// AppendObject is ReadObject appending the members to o.
func AppendObject(o Object, text []byte) (Object, bool) {
	d := Reader{S: text}
	if !d.Byte('{') {
		return nil, false
	}
	for first := true; ; first = false {
		name, end, ok := d.Member(first)
		switch {
		case !ok:
			return nil, false
		case end:
			if !d.Done() {
				return nil, false
			}
			return o, true
		case d.keyEscaped:
			return nil, false
		}
		d.ws()
		start := d.i
		if !d.skip(0) {
			return nil, false
		}
		o = append(o, Member{Name: name, Raw: d.S[start:d.i]})
	}
}

// Members reads a JSON object and returns each member's value as its raw
// JSON text, as json.Unmarshal into map[string]json.RawMessage does (the
// last of repeated members wins). ok is false for anything but a plain
// object of valid JSON values.
func Members(text []byte) (m map[string]json.RawMessage, ok bool) {
	m = map[string]json.RawMessage{}
	if !eachMember(&Reader{S: text}, func(name string, raw []byte) { m[name] = json.RawMessage(raw) }) {
		return nil, false
	}
	return m, true
}

// eachMember reads the object d holds and calls f with each member's
// decoded name and raw value; false for anything but an object of valid
// JSON values with nothing after it.
func eachMember(d *Reader, f func(name string, raw []byte)) bool {
	ok := d.Object(func(name []byte) bool {
		key := string(name)
		if bytes.IndexByte(name, '\\') >= 0 {
			var ok bool
			if key, ok = unescape(name); !ok {
				return false
			}
		}
		d.ws()
		start := d.i
		if !d.skip(0) {
			return false
		}
		f(key, d.S[start:d.i])
		return true
	})
	return ok && d.Done()
}

// Unquote decodes raw, the text of a string value that AppendObject
// returned (and so checked already): a string without escapes is taken as
// it is, without stepping through it again.
func Unquote(raw []byte) string {
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in)
	}
	s, _ := unescape(in)
	return s
}

// EachMember calls f with each member of the JSON object text, in order
// and repeated ones too (encoding/json merges those into one value, so a
// check of what a call holds must see them all), its name decoded and its
// value as raw JSON text; ok is false for anything but an object of valid
// JSON values. It is for text encoding/json has taken: strings may hold
// invalid UTF-8 and values nest as deep as encoding/json lets them.
func EachMember(text []byte, f func(name string, raw []byte)) (ok bool) {
	return eachMember(&Reader{S: text, loose: true}, f)
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
	if d.i >= len(d.S) || (depth > maxDepth && !d.loose) {
		return false
	}
	switch c := d.S[d.i]; {
	case c == '"':
		start := d.i
		escaped, ok := d.skipStr()
		return ok && (!escaped || validEscapes(d.S[start+1:d.i-1]))
	case c == '{':
		return d.Object(func([]byte) bool { return d.skip(depth + 1) })
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
