package bench

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// BenchmarkGuestAfterPause: the resume call of guest_abi_only timed alone,
// sent at once after the token call or after the thread slept (as a flight
// waits for the token endpoint) or spun. resume-ns is the call; the rest
// of ns/op is the pause. The module makes the same function calls either
// way (tests/bench/guestcalls), so what a pause adds is the machine's:
// the module's code and memory are no longer in the CPU's caches.
func BenchmarkGuestAfterPause(b *testing.B) {
	for _, c := range []struct {
		name  string
		pause func()
	}{
		{"none", func() {}},
		{"sleep_100us", func() { time.Sleep(100 * time.Microsecond) }},
		{"spin_100us", func() {
			for t := time.Now(); time.Since(t) < 100*time.Microsecond; {
			}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := benchCtx(b)
			g, err := newGuest(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer g.close(ctx)
			if _, _, err := g.run(ctx, map[string]any{"op": "load", "text": string(presetFor("http://127.0.0.1:1", 1))}, ""); err != nil {
				b.Fatal(err)
			}
			invalidate := []byte(`{"op":"invalidate","user":"svc"}`)
			token := []byte(`{"op":"token","user":"svc"}`)
			var in time.Duration
			for b.Loop() {
				g.raw(ctx, invalidate)
				out, err := g.raw(ctx, token)
				task, ok := taskOf(out)
				if err != nil || !ok {
					b.Fatalf("token: %s %v", out, err)
				}
				resume := append(append([]byte(`{"op":"resume","task":`), task...),
					`,"response":{"status":200,"header":{"Content-Type":"application/json"},"body_bytes":`+strconv.Itoa(len(tokenBody))+`}}`+tokenBody...)
				c.pause()
				t0 := time.Now()
				out, err = g.raw(ctx, resume)
				in += time.Since(t0)
				if err != nil || !bytes.Contains(out, []byte(accessToken)) {
					b.Fatalf("resume: %.200s %v", out, err)
				}
			}
			b.ReportMetric(float64(in)/float64(b.N), "resume-ns")
		})
	}
}
