#!/usr/bin/env bash
# The module's own share of a token fetch, step by step, inside wasm: builds
# wasm/internal/abi's benchmarks (bench_test.go there) for wasip1, runs them
# under wazero's CLI (built from the wazero version in go.mod, the runtime
# the Go host uses) and natively, and prints one figure a line as
# "name value unit" (medians of GUEST_COUNT runs, default 3). Also the
# call decoders (hand-written, encoding/json, goccy/go-json) in wasm.
# Wall clock: on a busy machine compare figures of one run with each other.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
count=${GUEST_COUNT:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "NaN"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

echo "== building the wazero CLI and the benchmarks (wasip1 and native)" >&2
(cd "$root" && go build -o "$tmp/wazero" github.com/tetratelabs/wazero/cmd/wazero)
(cd "$root" && GOOS=wasip1 GOARCH=wasm go test -c -o "$tmp/abi.wasm" ./wasm/internal/abi)
(cd "$root" && go test -c -o "$tmp/abi.test" ./wasm/internal/abi)

echo "== running ($count times each)" >&2
for ((i = 0; i < count; i++)); do
	"$tmp/wazero" run -cachedir "$tmp/cache" "$tmp/abi.wasm" -test.run '^$' -test.bench 'Fetch|Decoders' \
		-test.benchtime 200ms -test.benchmem | awk '/^Benchmark/ { print "wasm", $0 }' >>"$tmp/out.txt"
	"$tmp/abi.test" -test.run '^$' -test.bench 'Fetch|Decoders' -test.benchtime 200ms -test.benchmem |
		awk '/^Benchmark/ { print "native", $0 }' >>"$tmp/out.txt"
done

# "where name value unit" for every figure
awk '{ n = $2; sub(/^Benchmark/, "", n); sub(/-[0-9]+$/, "", n); gsub("/", "_", n)
	for (i = 4; i + 1 <= NF; i += 2) print $1, n, $(i + 1), $i }' "$tmp/out.txt" >"$tmp/triples.txt"
for name in $(awk '{ print $2 }' "$tmp/triples.txt" | sort -u); do
	for where in wasm native; do
		for unit in ns/op allocs/op B/op gc/op; do
			v=$(awk -v w="$where" -v n="$name" -v u="$unit" '$1 == w && $2 == n && $3 == u { print $4 }' "$tmp/triples.txt" | median)
			[ "$v" = NaN ] && continue
			suffix=${unit%/op}
			[ "$suffix" = ns ] && suffix=ns || suffix=$suffix
			printf 'guest_%s_%s_%s %s %s\n' "$where" "${name,,}" "$suffix" "$v" "$unit"
		done
	done
done
