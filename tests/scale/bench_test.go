package scale

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/redisstore"
	"github.com/cctoken/cctoken/internal/redistest"
	"github.com/cctoken/cctoken/internal/tokentest"
)

// BenchmarkHitsPerLifetime runs N = 1, 2, 4, 8 worker processes for 6 s each
// against 2 s tokens and reports token requests per user per token
// lifetime (hits_per_lifetime) and per refresh interval, the time one
// instance alone uses a token (hits_per_interval; 1 is the target: the
// requests of one instance, however many run). Run it with -benchtime 1x
// (tests/bench/store.sh).
func BenchmarkHitsPerLifetime(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			for range b.N {
				r := redistest.Start(b)
				ts := tokentest.Start(lifetime, map[string]string{"u1-id": "u1-SECRET-one", "u2-id": "u2-SECRET-two"})
				preset := filepath.Join(b.TempDir(), "preset.yaml")
				writePresetTB(b, preset, ts.TokenURL())
				begin := time.Now()
				var procs []*proc
				for range n {
					procs = append(procs, spawnTB(b, workerConfig{preset: preset, store: r.URL(), run: 6 * time.Second, lockMS: 2000, goroutines: 2, pause: 5 * time.Millisecond}))
				}
				for _, p := range procs {
					<-p.done
					if p.cmd.ProcessState.ExitCode() != 0 {
						b.Fatalf("worker failed: %s", p.stderr.String())
					}
				}
				elapsed := time.Since(begin)
				hits := ts.Granted(begin)
				ts.Close()
				per := float64(hits["u1-id"]+hits["u2-id"]) / 2
				b.ReportMetric(per/(float64(elapsed)/float64(lifetime)), "hits_per_lifetime")
				b.ReportMetric(per/(float64(elapsed)/float64(interval)), "hits_per_interval")
				b.ReportMetric(per, "hits_per_user")
			}
		})
	}
}

// BenchmarkLatency reports p50 and p99 of one Token call served from the
// memo (with and without a store configured), from the Redis store (memo
// dropped first), and fetched from the token endpoint (without a store, and
// through the store on a miss). Run with -benchtime 2000x.
func BenchmarkLatency(b *testing.B) {
	r := redistest.Start(b)
	ts := tokentest.Start(time.Hour, map[string]string{"u1-id": "u1-SECRET-one", "u2-id": "u2-SECRET-two"})
	defer ts.Close()
	preset := filepath.Join(b.TempDir(), "preset.yaml")
	writePresetTB(b, preset, ts.TokenURL())
	text := mustRead(b, preset)
	ctx := context.Background()
	st, err := redisstore.Open(r.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	plain, err := host.New(ctx, text, host.WithHTTPClient(&http.Client{}))
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	shared, err := host.New(ctx, text, host.WithStore(st), host.WithStoreTimeout(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer shared.Close()
	measure := func(b *testing.B, before func(), op func() error) {
		d := make([]time.Duration, 0, b.N)
		for range b.N {
			if before != nil {
				b.StopTimer()
				before()
				b.StartTimer()
			}
			t0 := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50_ns")
		b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99_ns")
	}
	token := func(c *host.Client) func() error {
		return func() error { _, err := c.Token(ctx, "u1"); return err }
	}
	if err := token(shared)(); err != nil { // fills the store
		b.Fatal(err)
	}
	b.Run("redis_get_alone", func(b *testing.B) {
		measure(b, nil, func() error { _, _, err := st.Get(ctx, "cctoken:{x}:token"); return err })
	})
	b.Run("memo", func(b *testing.B) { token(plain)(); measure(b, nil, token(plain)) })
	b.Run("memo_with_store", func(b *testing.B) { measure(b, nil, token(shared)) })
	b.Run("store_hit", func(b *testing.B) {
		// Another instance puts b.N tokens (one per scope) in the store;
		// then each call of this one is a memo miss and a store hit.
		filler, err := host.New(ctx, text, host.WithStore(st), host.WithStoreTimeout(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		defer filler.Close()
		for i := range b.N {
			if _, err := filler.Token(ctx, "u1", host.WithScopes(fmt.Sprint("s", i))); err != nil {
				b.Fatal(err)
			}
		}
		before := len(ts.Hits())
		i := 0
		measure(b, nil, func() error {
			_, err := shared.Token(ctx, "u1", host.WithScopes(fmt.Sprint("s", i)))
			i++
			return err
		})
		if n := len(ts.Hits()) - before; n != 0 {
			b.Fatalf("%d store hits went to the token endpoint", n)
		}
	})
	b.Run("fetch", func(b *testing.B) {
		measure(b, func() { plain.Invalidate(ctx, "u1") }, token(plain))
	})
	b.Run("fetch_through_store_miss", func(b *testing.B) {
		measure(b, func() {
			shared.Invalidate(ctx, "u1")
			keys, _ := r.Do("KEYS", "cctoken:*")
			for _, k := range splitLines(keys) {
				r.Do("DEL", k)
			}
		}, token(shared))
	})
}
