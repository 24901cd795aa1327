// Command proxy measures cctoken's signing proxy (host/proxy, the handler
// cctoken proxy serves) against httputil.ReverseProxy in front of the same
// upstream, in one process and one run, all on 127.0.0.1. It prints
// "name value unit" lines on stdout.
//
// ROUNDS rounds each send REQUESTS requests with CONCURRENCY in flight
// through the signing proxy and through the plain reverse proxy
// (alternating which goes first); figures are medians of the rounds. Every
// loop is bounded.
//
// Environment: PROXY_ROUNDS (5), PROXY_REQUESTS (2000),
// PROXY_CONCURRENCY (16), CCTOKEN_BENCH_CACHE (compilation cache dir).
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/proxy"
)

func num(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func fig(name string, v float64, unit string) { fmt.Printf("%s %.3f %s\n", name, v, unit) }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func pct(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p * float64(len(s)))
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// round sends n requests, c at a time; requests per second and latencies
// in ms.
func round(client *http.Client, target string, n, c int) (float64, []float64, error) {
	lat := make([]float64, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(target)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.CompareAndSwap(nil, err)
				}
				lat[i] = float64(time.Since(t0).Microseconds()) / 1000
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, nil, err
	}
	return float64(n) / time.Since(start).Seconds(), lat, nil
}

func main() {
	if err := bench(); err != nil {
		fmt.Fprintln(os.Stderr, "bench proxy:", err)
		os.Exit(1)
	}
}

func bench() error {
	rounds, requests, conc := num("PROXY_ROUNDS", 5), num("PROXY_REQUESTS", 2000), num("PROXY_CONCURRENCY", 16)
	var tokens atomic.Int64
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}`)
	}))
	defer tokenSrv.Close()
	body := []byte(`{"ok":true,"items":[1,2,3,4,5,6,7,8,9,10]}`)
	var withToken, without atomic.Int64 // the upstream counts both paths' requests
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer bench-token" {
			withToken.Add(1)
		} else {
			without.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer upstream.Close()

	preset := fmt.Sprintf("preset:\n- type: oauth_client_credentials\n  url: %s/token\n  users:\n  - {username: svc, client_id: id, client_secret: secret}\n", tokenSrv.URL)
	opts := []host.Option{}
	if dir := os.Getenv("CCTOKEN_BENCH_CACHE"); dir != "" {
		opts = append(opts, host.WithCacheDir(dir))
	}
	c, err := host.New(context.Background(), []byte(preset), opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	routes, err := proxy.ParseRoutes([]byte(fmt.Sprintf(`[{"path":"/","user":"svc","upstream":%q}]`, upstream.URL)))
	if err != nil {
		return err
	}
	var events atomic.Int64 // what the command's metrics hook costs at least
	signed := httptest.NewServer(proxy.New(c, routes, proxy.WithEvents(func(proxy.Event) { events.Add(1) })))
	defer signed.Close()
	up, _ := url.Parse(upstream.URL)
	// Both go upstream through the same kind of transport (connection
	// pool included), so the figures compare the handlers.
	plain := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(up); r.Out.Host = up.Host },
		Transport: proxy.NewUpstream(60 * time.Second),
	})
	defer plain.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxIdleConns: 2 * conc}}
	// Warm up both paths (the first token, connections).
	for _, u := range []string{signed.URL, plain.URL} {
		if _, _, err := round(client, u+"/items", 2*conc, conc); err != nil {
			return err
		}
	}
	var srps, prps, ratios, slat, plat []float64
	for i := range rounds {
		order := []string{signed.URL, plain.URL}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		got := map[string]float64{}
		for _, u := range order {
			rps, lat, err := round(client, u+"/items", requests, conc)
			if err != nil {
				return err
			}
			got[u] = rps
			if u == signed.URL {
				slat = append(slat, lat...)
			} else {
				plat = append(plat, lat...)
			}
		}
		srps, prps = append(srps, got[signed.URL]), append(prps, got[plain.URL])
		ratios = append(ratios, got[signed.URL]/got[plain.URL])
		fmt.Fprintf(os.Stderr, "== round %d: signed %.0f rps, reverseproxy %.0f rps\n", i+1, got[signed.URL], got[plain.URL])
	}
	fig("proxy_signed_rps", median(srps), "req/s")
	fig("proxy_reverseproxy_rps", median(prps), "req/s")
	fig("proxy_throughput_ratio_vs_reverseproxy", median(srps)/median(prps), "ratio")
	fig("proxy_throughput_ratio_vs_reverseproxy_paired", median(ratios), "ratio")
	fig("proxy_signed_p50_ms", pct(slat, 0.5), "ms")
	fig("proxy_signed_p99_ms", pct(slat, 0.99), "ms")
	fig("proxy_reverseproxy_p50_ms", pct(plat, 0.5), "ms")
	fig("proxy_reverseproxy_p99_ms", pct(plat, 0.99), "ms")
	fig("proxy_token_requests", float64(tokens.Load()), "requests")
	// Each path's requests all reached the upstream (warm-up included).
	fig("proxy_upstream_signed_requests", float64(withToken.Load()), "requests")
	fig("proxy_upstream_plain_requests", float64(without.Load()), "requests")
	return nil
}
