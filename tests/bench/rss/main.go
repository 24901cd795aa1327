// Command rss checks that cached Token calls do not grow the process: it
// gets one token from a local token server, warms up, then reads VmRSS from
// /proc/self/status after the warm-up, after 500,000 and after 1,000,000
// cached calls. It prints one "name value unit" line per reading and the
// growth from the warm-up reading to the last one.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cctoken/cctoken/host"
)

const (
	warmup = 10_000
	half   = 500_000
	total  = 1_000_000
)

func main() {
	cacheDir := ""
	if len(os.Args) > 1 {
		cacheDir = os.Args[1]
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"rss-token-0123456789abcdef","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	preset := fmt.Sprintf("preset:\n- type: oauth_client_credentials\n  url: %s/token\n  users:\n  - username: svc\n    client_id: svc-id\n    client_secret: svc-secret\n", srv.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c, err := host.New(ctx, []byte(preset), host.WithCacheDir(cacheDir))
	if err != nil {
		fail(err)
	}
	defer c.Close()

	calls := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := c.Token(ctx, "svc"); err != nil {
				fail(err)
			}
		}
	}
	calls(warmup)
	warm := vmRSS()
	calls(half)
	mid := vmRSS()
	calls(total - half)
	end := vmRSS()

	fmt.Println("rss_after_warmup_kb", warm, "kB")
	fmt.Println("rss_after_500k_kb", mid, "kB")
	fmt.Println("rss_after_1m_kb", end, "kB")
	fmt.Println("rss_growth_kb", end-warm, "kB")
	fmt.Println("rss_growth_second_half_kb", end-mid, "kB")
	fmt.Println("rss_token_endpoint_hits", hits.Load(), "hits")
}

// vmRSS returns the resident set size in kB, as /proc/self/status says.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				fail(err)
			}
			return n
		}
	}
	fail(fmt.Errorf("no VmRSS line in /proc/self/status"))
	return 0
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rss:", err)
	os.Exit(1)
}
