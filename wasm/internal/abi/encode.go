package abi

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
)

// The answers of a token fetch (the http effect, the Token, invalidate's
// count) are written here by hand, byte for byte as encoding/json writes
// them: in wasm, encoding/json's reflection made up about a fifth of the
// guest's time per fetch (tests/bench/README.md). Every other answer goes
// through encoding/json.

// encodeAnswer writes a as JSON.
func encodeAnswer(a *Answer) []byte { return appendEncoded(nil, a) }

// appendEncoded writes a as JSON after dst.
func appendEncoded(dst []byte, a *Answer) []byte {
	if dst == nil {
		dst = make([]byte, 0, 512)
	}
	if out, ok := appendAnswer(dst, a); ok {
		return out
	}
	slow := *a // for encoding/json alone, which keeps what it is given on the heap
	out, err := json.Marshal(&slow)
	if err != nil {
		out, _ = json.Marshal(Answer{Error: &engine.Error{Code: engine.CodeBadRequest, Message: "the answer could not be encoded"}})
	}
	return append(dst, out...)
}

// appendAnswer writes the answers of the fetch path; ok is false for any
// other answer.
func appendAnswer(b []byte, a *Answer) ([]byte, bool) {
	if a.Error != nil || a.Env != nil || a.Store != nil {
		return nil, false
	}
	switch {
	case a.HTTP != nil && a.Result == nil:
		if a.Task == 0 {
			return nil, false
		}
		b = append(b, `{"task":`...)
		b = strconv.AppendUint(b, a.Task, 10)
		b = append(b, `,"http":`...)
		if r := a.HTTP; r.Kept {
			// The same request for every fetch of its user: written once.
			if r.JSON == nil {
				r.JSON = appendRequest(nil, r)
			}
			b = append(b, r.JSON...)
		} else {
			b = appendRequest(b, a.HTTP)
		}
		return append(b, '}'), true
	case a.HTTP != nil || a.Task != 0:
		return nil, false
	}
	switch r := a.Result.(type) {
	case engine.TokenResult:
		if r.LastError != nil {
			return nil, false
		}
		b = append(b, `{"result":`...)
		b = appendToken(b, &r)
		return append(b, '}'), true
	case engine.InvalidateResult:
		b = append(b, `{"result":{"dropped":`...)
		b = strconv.AppendInt(b, int64(r.Dropped), 10)
		return append(b, "}}"...), true
	}
	return nil, false
}

func appendRequest(b []byte, r *httpmsg.Request) []byte {
	b = append(b, `{"method":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"url":`...)
	b = appendString(b, r.URL)
	if len(r.Header) > 0 {
		b = append(b, `,"header":`...)
		b = appendStrMap(b, r.Header)
	}
	if r.Body != "" {
		b = append(b, `,"body":`...)
		b = appendString(b, r.Body)
	}
	if t := r.TLSClient; t != nil {
		b = append(b, `,"tls_client":{`...)
		n := len(b)
		for _, f := range [...]struct{ name, v string }{
			{"certificate_file", t.CertFile}, {"certificate_pem", t.CertPEM}, {"key_file", t.KeyFile}, {"key_pem", t.KeyPEM},
		} {
			if f.v == "" {
				continue
			}
			if len(b) > n {
				b = append(b, ',')
			}
			b = appendString(b, f.name)
			b = append(b, ':')
			b = appendString(b, f.v)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendToken(b []byte, t *engine.TokenResult) []byte {
	b = append(b, `{"user":`...)
	b = appendString(b, t.User)
	b = append(b, `,"access_token":`...)
	b = appendString(b, t.AccessToken)
	b = append(b, `,"token_type":`...)
	b = appendString(b, t.TokenType)
	b = append(b, `,"expires_at":`...)
	b = strconv.AppendInt(b, t.ExpiresAt, 10)
	b = append(b, `,"expiry_source":`...)
	b = appendString(b, t.ExpirySource)
	if len(t.Scopes) > 0 {
		b = append(b, `,"scopes":[`...)
		for i, s := range t.Scopes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"refresh_at":`...)
	b = strconv.AppendInt(b, t.RefreshAt, 10)
	b = append(b, `,"use_until":`...)
	b = strconv.AppendInt(b, t.UseUntil, 10)
	b = append(b, `,"headers":`...)
	if t.Headers == nil {
		b = append(b, "null"...)
	} else {
		b = appendStrMap(b, t.Headers)
	}
	return append(b, '}')
}

// appendStrMap writes m with its keys sorted, as encoding/json does.
func appendStrMap(b []byte, m map[string]string) []byte {
	var arr [8]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) > 1 {
		slices.Sort(keys)
	}
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// safe marks the bytes appendString writes as they are: one table look-up
// a byte instead of six comparisons.
var safe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString quotes s as encoding/json does: <, > and & as \u003c,
// \u003e and \u0026, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
