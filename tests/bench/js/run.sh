#!/usr/bin/env bash
# The JavaScript host's benchmarks: prints one figure a line as
# "name value unit" on stdout (progress goes to stderr). Ratios compare
# with openid-client v6 (or a plain variable read) measured in the same run.
# Nothing here asserts a target: ../README.md lists them next to the figures.
#
# Takes well under two minutes on an idle 2-core machine. Every server (the
# token endpoint, the static server of the page) listens on 127.0.0.1.
# Installs nothing but tests/setup.sh's npm packages; the page figures need
# /usr/bin/chromium (tests/browser/setup-chromium.sh installs it).
#
# Environment:
#   JS_START_COLD_RUNS  fresh processes for the compile-included client
#                       start (default 3; median)
#   PAGE_WARM_RUNS, PAGE_SAME_TAB_RUNS             see page.mjs
#   JS_CACHED_ITERS, JS_CACHED_ROUNDS, JS_FETCH_ITERS, JS_START_RUNS
#                                                  see node.mjs
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)
cold_runs=${JS_START_COLD_RUNS:-3}

log() { echo "== $*" >&2; }
fig() { printf '%s %s %s\n' "$1" "$2" "$3"; }
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "NaN"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }

"$root/tests/setup.sh" >&2
log "node $(node --version), load average $(loadavg) (the figures are wall-clock times: a busy machine inflates them)"

# ---------------------------------------------------------------------------
# 1. The API explorer in Chromium: navigation start to module ready.
if [[ -x ${CHROMIUM:-/usr/bin/chromium} ]]; then
	log "page load in chromium (cold, then warm HTTP cache)"
	timeout 100 node page.mjs
else
	log "no ${CHROMIUM:-/usr/bin/chromium}: page figures skipped (tests/browser/setup-chromium.sh installs it)"
fi

# ---------------------------------------------------------------------------
# 2, 3, 4. Cached token, one token fetch, client start with a compiled module.
log "node: cached token, token fetch, client start"
timeout 100 node node.mjs speed

# 4. Client start including the module's compilation: the first compile of
# a fresh process each (V8 shares a module compiled from the same bytes
# within a process).
log "node: client start with compilation, $cold_runs fresh processes"
out=$(mktemp "${TMPDIR:-/tmp}/cctoken-bench-js.XXXXXX")
trap 'rm -f "$out"' EXIT
for ((i = 0; i < cold_runs; i++)); do
	timeout 60 node node.mjs start-sample >>"$out"
done
fig client_start_with_compile_ms "$(awk '$1 == "start_ms" { print $2 }' "$out" | median)" ms
fig client_start_with_compile_cpu_ms "$(awk '$1 == "start_cpu_ms" { print $2 }' "$out" | median)" ms

# 5. What the npm package weighs, beside openid-client's.
log "npm package size: cctoken packed from js/, openid-client as published"
./pack-size.sh
log "done, load average $(loadavg)"
