#!/usr/bin/env bash
# The signing proxy's benchmark (see main.go): throughput and p50/p99
# through host/proxy's handler against httputil.ReverseProxy in front of
# the same upstream, and the token requests over the run (1). Prints
# "name value unit" lines; about a minute on 2 cores. Everything listens on
# 127.0.0.1 and every loop is bounded.
#
# Environment: PROXY_ROUNDS (5), PROXY_REQUESTS (2000), PROXY_CONCURRENCY (16).
set -euo pipefail
cd "$(dirname "$0")/../../.."
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
echo "== $(go version), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
CCTOKEN_BENCH_CACHE="$cache" timeout 600 go run ./tests/bench/proxy
