#!/usr/bin/env bash
# Figures of the shared token store (docs/store.md),
# one a line as "name value unit" on stdout (progress on stderr), in about a
# minute: a real redis-server and a token endpoint on 127.0.0.1, worker
# processes of the Go host (the test binary of tests/scale run again).
#
#   store_hits_per_lifetime_N{1,2,4,8}   token requests per user per 2 s token
#                                        lifetime, N processes for 6 s each
#   store_hits_per_interval_N{1,2,4,8}   the same per refresh interval (the time
#                                        one instance alone uses a token: 1.71 s);
#                                        target 1 for every N (+1 for the first fetch)
#   latency_{memo,memo_with_store,store_hit,fetch,fetch_through_store_miss}_{p50,p99}_us
#                                        one Token call, 2000 samples each
#
# Installs redis-server when it is missing (tests/scale/setup-redis.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { echo "== $*" >&2; }
tests/scale/setup-redis.sh
export CCTOKEN_REQUIRE_REDIS=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-store-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

log "hits per token lifetime with N = 1, 2, 4, 8 processes (about 30 s)"
go test -timeout 5m -run '^$' -bench 'HitsPerLifetime' -benchtime 1x -count 1 ./tests/scale >"$tmp/hits.txt" 2>&1 ||
	{ cat "$tmp/hits.txt" >&2; exit 1; }
awk '/^BenchmarkHitsPerLifetime\/N=/ {
	n = $1; sub(/^BenchmarkHitsPerLifetime\/N=/, "", n); sub(/-[0-9]+$/, "", n)
	for (i = 3; i + 1 <= NF; i += 2) {
		if ($(i + 1) == "hits_per_lifetime") printf "store_hits_per_lifetime_N%s %s ratio\n", n, $i
		if ($(i + 1) == "hits_per_interval") printf "store_hits_per_interval_N%s %s ratio\n", n, $i
	}
}' "$tmp/hits.txt"

log "latency of one Token call: memo, store hit, fetch (2000 samples each)"
go test -timeout 5m -run '^$' -bench 'Latency' -benchtime 2000x -count 1 ./tests/scale >"$tmp/lat.txt" 2>&1 ||
	{ cat "$tmp/lat.txt" >&2; exit 1; }
awk '/^BenchmarkLatency\// {
	n = $1; sub(/^BenchmarkLatency\//, "", n); sub(/-[0-9]+$/, "", n)
	for (i = 3; i + 1 <= NF; i += 2) {
		if ($(i + 1) == "p50_ns") printf "latency_%s_p50_us %.3f us\n", n, $i / 1000
		if ($(i + 1) == "p99_ns") printf "latency_%s_p99_us %.3f us\n", n, $i / 1000
	}
}' "$tmp/lat.txt"
log "done"
