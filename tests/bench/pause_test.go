package bench

import (
	"testing"
	"time"
)

// BenchmarkGuestAfterPause: the resume call of guest_abi_only timed alone,
// sent at once after the token call or after the thread slept (as a flight
// waits for the token endpoint) or spun. resume-ns is the call; the rest
// of ns/op is the pause. The module makes the same function calls either
// way (tests/bench/guestcalls), so what a pause adds is the machine's
// (pause-ns is how long the pause really lasted):
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
			g := loadedGuest(b, ctx)
			var in, paused time.Duration
			for b.Loop() {
				resume := guestToken(b, ctx, g, resumeWithBodyAfter)
				p0 := time.Now()
				c.pause()
				t0 := time.Now()
				guestResume(b, ctx, g, resume)
				in += time.Since(t0)
				paused += t0.Sub(p0)
			}
			b.ReportMetric(float64(in)/float64(b.N), "resume-ns")
			// What the pause really was: a 100 µs sleep can last a
			// millisecond where the timer slack is coarse.
			b.ReportMetric(float64(paused)/float64(b.N), "pause-ns")
		})
	}
}
