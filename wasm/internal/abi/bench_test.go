package abi

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strconv"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/cctoken/cctoken/wasm/internal/engine"
	"github.com/cctoken/cctoken/wasm/internal/oauth"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// The module's fetch path, step by step, as a host drives it: invalidate,
// token (answered with an http effect), resume with the endpoint's answer.
// Run natively or in wasm (tests/bench/guest.sh) to see where a fetch goes
// inside the guest; gc/op counts collections per fetch.

const benchPreset = `{"preset":[{"type":"oauth_client_credentials","url":"http://127.0.0.1:1/token","users":[{"username":"svc","client_id":"svc-id","client_secret":"svc-secret"}]}]}`

const benchToken = "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"

var (
	benchInvalidate = []byte(`{"op":"invalidate","user":"svc"}`)
	benchTokenCall  = []byte(`{"op":"token","user":"svc"}`)
)

func benchResume(task uint64) []byte {
	return []byte(`{"op":"resume","task":` + strconv.FormatUint(task, 10) +
		`,"response":{"status":200,"header":{"Cache-Control":"no-store","Content-Length":"104","Content-Type":"application/json","Date":"Mon, 07 Dec 2026 07:26:24 GMT"},"body":"{\"access_token\":\"` + benchToken + `\",\"token_type\":\"Bearer\",\"expires_in\":3600}"}}`)
}

// benchResumeAfter is benchResume with the body after the call's JSON
// text (body_bytes): neither escaped nor unescaped.
func benchResumeAfter(task uint64) []byte {
	body := `{"access_token":"` + benchToken + `","token_type":"Bearer","expires_in":3600}`
	return []byte(`{"op":"resume","task":` + strconv.FormatUint(task, 10) +
		`,"response":{"status":200,"header":{"Cache-Control":"no-store","Content-Length":"104","Content-Type":"application/json","Date":"Mon, 07 Dec 2026 07:26:24 GMT"},"body_bytes":` +
		strconv.Itoa(len(body)) + `}}` + body)
}

func benchDispatcher(b *testing.B) *Dispatcher {
	d := New()
	if out := d.Handle([]byte(`{"op":"load","text":` + quote(benchPreset) + `}`)); !json.Valid(out) || string(out[:9]) != `{"result"` {
		b.Fatalf("load: %s", out)
	}
	return d
}

// gcReport adds gc/op: collections during the timed loop per operation.
func gcReport(b *testing.B) func() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	n := m.NumGC
	return func() {
		b.StopTimer()
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.NumGC-n)/float64(b.N), "gc/op")
	}
}

func BenchmarkFetch(b *testing.B) {
	b.Run("whole", func(b *testing.B) { benchWhole(b, benchResume) })
	b.Run("whole_body_after", func(b *testing.B) { benchWhole(b, benchResumeAfter) })
	b.Run("decode_token_call", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var c Call
			if decodeCall(benchTokenCall, &c) != nil {
				b.Fatal("decode")
			}
		}
	})
	b.Run("decode_resume_call", func(b *testing.B) {
		in := benchResume(1)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var c Call
			if decodeCall(in, &c) != nil {
				b.Fatal("decode")
			}
		}
	})
	b.Run("decode_resume_call_body_after", func(b *testing.B) {
		in := benchResumeAfter(1)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var c Call
			if decodeCall(in, &c) != nil {
				b.Fatal("decode")
			}
		}
	})
	b.Run("engine_whole", func(b *testing.B) {
		// the engine alone: invalidate, token, resume without the codec
		d := benchDispatcher(b)
		e := d.Engine
		var c Call
		decodeCall(benchResume(1), &c)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e.Invalidate("svc")
			s := e.Token(engine.TokenRequest{User: "svc"})
			if r := e.Resume(s.Task, engine.Input{Response: c.Response}); r.Result == nil {
				b.Fatal(r.Error)
			}
		}
	})
	b.Run("build_request", func(b *testing.B) {
		// oauth.TokenRequest, which the engine now makes once per account
		accts, err := preset.Load([]byte(benchPreset), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			oauth.TokenRequest(&accts[0], time.Time{}, nil)
		}
	})
	b.Run("parse_response", func(b *testing.B) {
		var c Call
		decodeCall(benchResume(1), &c)
		now := time.Now()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := oauth.ParseTokenResponseDPoP(c.Response, nil, now, 0, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode_http_answer", func(b *testing.B) {
		d := benchDispatcher(b)
		s := d.Engine.Token(engine.TokenRequest{User: "svc"})
		a := Answer{Task: s.Task, HTTP: s.HTTP}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			encodeAnswer(&a)
		}
	})
	b.Run("encode_token_answer", func(b *testing.B) {
		d := benchDispatcher(b)
		var c Call
		decodeCall(benchResume(1), &c)
		s := d.Engine.Token(engine.TokenRequest{User: "svc"})
		r := d.Engine.Resume(s.Task, engine.Input{Response: c.Response})
		a := Answer{Result: r.Result}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			encodeAnswer(&a)
		}
	})
	b.Run("encode_invalidate_answer", func(b *testing.B) {
		a := Answer{Result: engine.InvalidateResult{Dropped: 1}}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			encodeAnswer(&a)
		}
	})
}

// benchWhole times whole fetches, invalidate, token and resume (made by
// resume), after 2000 untimed ones: until the guest's heap has grown to
// what the loop needs, growing wasm memory (which copies it) would be
// timed with the first sub-benchmark, about 30 us a fetch more.
func benchWhole(b *testing.B, resume func(uint64) []byte) {
	d := benchDispatcher(b)
	fetch := func() {
		d.Handle(benchInvalidate)
		out := d.Handle(benchTokenCall)
		task, ok := taskOf(out)
		if !ok {
			b.Fatalf("token: %s", out)
		}
		out = d.Handle(resume(task))
		if string(out[:9]) != `{"result"` {
			b.Fatalf("resume: %s", out)
		}
	}
	for i := 0; i < 2000; i++ {
		fetch()
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := gcReport(b)
	for i := 0; i < b.N; i++ {
		fetch()
	}
	done()
}

// taskOf finds the task number of an answer without decoding all of it.
func taskOf(out []byte) (uint64, bool) {
	i := bytes.Index(out, []byte(`"task":`))
	if i < 0 {
		return 0, false
	}
	j := i + len(`"task":`)
	k := j
	for k < len(out) && out[k] >= '0' && out[k] <= '9' {
		k++
	}
	n, err := strconv.ParseUint(string(out[j:k]), 10, 64)
	return n, err == nil
}

// BenchmarkDecoders reads the fetch path's two calls (token, then resume
// with the endpoint's response) with the hand-written reader, with
// encoding/json and with goccy/go-json, for tests/bench/README.md's
// comparison; the module itself links only the first two.
func BenchmarkDecoders(b *testing.B) {
	resume := benchResume(1)
	for _, dec := range []struct {
		name string
		fn   func([]byte, *Call) error
	}{
		{"hand", decodeCall},
		{"encoding_json", func(in []byte, c *Call) error { return json.Unmarshal(in, c) }},
		{"go_json", func(in []byte, c *Call) error { return gojson.Unmarshal(in, c) }},
	} {
		b.Run(dec.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var c Call
				if dec.fn(benchTokenCall, &c) != nil || c.User != "svc" {
					b.Fatal("token call")
				}
				c = Call{}
				if dec.fn(resume, &c) != nil || c.Response == nil || c.Response.Status != 200 {
					b.Fatal("resume call")
				}
			}
		})
	}
}
