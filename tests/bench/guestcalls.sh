#!/usr/bin/env bash
# The module's function calls in one token fetch, by function: builds the
# reactor as build.sh does but with its function names (build.sh --named)
# and counts the calls of invalidate, token and resume with a canned 200
# under wazero's interpreter with a function listener (guestcalls/).
# Prints "guest_calls_per_fetch N calls", then the TOP (40) most called.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-calls.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && ./build.sh --named "$tmp/cctoken.wasm")
(cd "$root" && go run ./tests/bench/guestcalls "$tmp/cctoken.wasm" "${TOP:-40}")
