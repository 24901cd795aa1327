#!/usr/bin/env bash
# Signing inside the module against golang-jwt/jwt/v5 natively, in one run:
# ES256 DPoP proofs per second and private_key_jwt token fetches per second
# (RS256 and ES256 assertions). Prints "name value unit" lines with the
# ratios; asserts nothing. About half a minute on an idle 2-core machine.
#
#   BENCH_COUNT  repetitions of each benchmark (default 3; medians)
set -euo pipefail
cd "$(dirname "$0")"
count=${BENCH_COUNT:-3}
out=$(mktemp "${TMPDIR:-/tmp}/cctoken-jose-bench.XXXXXX")
trap 'rm -f "$out"' EXIT

go test -timeout 5m -run '^$' -bench . -benchtime 300ms -count "$count" . >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
# The module's signing code built natively: a benchmark of its own package
# (wasm/internal/jose), which nothing outside the module may import.
(cd ../../.. && go test -timeout 5m -run '^$' -bench JoseNative -benchtime 300ms -count "$count" ./wasm/internal/jose) >>"$out" 2>&1 || { cat "$out" >&2; exit 1; }

# med BENCHMARK: the median ns/op over the runs.
med() {
	awk -v b="$1" '$1 ~ "^Benchmark" b "(-[0-9]+)?$" { for (i = 3; i < NF; i++) if ($(i + 1) == "ns/op") print $i }' "$out" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NaN"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fig() { printf '%s %s %s\n' "$1" "$2" "$3"; }
persec() { awk -v ns="$1" 'BEGIN { if (ns == "NaN" || ns == 0) print "NaN"; else printf "%.0f\n", 1e9 / ns }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NaN" || b == "NaN" || b == 0) print "NaN"; else printf "%.2f\n", a / b }'; }

pair() { # NAME CCTOKEN_BENCH PEER_BENCH
	local a b
	a=$(med "$2")
	b=$(med "$3")
	fig "$1_per_s" "$(persec "$a")" ops/s
	fig "$1_golang_jwt_per_s" "$(persec "$b")" ops/s
	fig "$1_time_ratio_vs_golang_jwt" "$(ratio "$a" "$b")" ratio
}
pair dpop_proof_es256 DPoPProof/cctoken DPoPProof/golang_jwt
a=$(med DPoPProof/cctoken)
b=$(med JoseNative/dpop_proof)
fig dpop_proof_es256_wasm_jose_native_per_s "$(persec "$b")" ops/s
fig dpop_proof_es256_time_ratio_wasm_vs_native_same_code "$(ratio "$a" "$b")" ratio
fig rs256_assertion_wasm_jose_native_per_s "$(persec "$(med JoseNative/rs256_assertion)")" ops/s
pair private_key_jwt_fetch_rs256 PrivateKeyJWTFetch/cctoken_RS256 PrivateKeyJWTFetch/golang_jwt_RS256
pair private_key_jwt_fetch_es256 PrivateKeyJWTFetch/cctoken_ES256 PrivateKeyJWTFetch/golang_jwt_ES256
