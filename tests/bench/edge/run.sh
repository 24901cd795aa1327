#!/usr/bin/env bash
# The signing worker's benchmarks (see bench.mjs): throughput and p50/p99
# through the signing worker against the same worker with signing off, on
# one workerd in one run, and cold start to the first signed response.
# Prints "name value unit" lines; a few minutes at most on 2 cores. Every
# server listens on 127.0.0.1 and every loop is bounded.
#
# Environment: EDGE_ROUNDS (5), EDGE_REQUESTS (2000), EDGE_CONCURRENCY (16),
# EDGE_COLD_RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/../../.."
./tests/setup.sh >&2
./edge/setup.sh >&2
echo "== node $(node --version), workerd $(edge/node_modules/.bin/workerd --version | awk '{print $2}'), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
timeout 600 node tests/bench/edge/bench.mjs
