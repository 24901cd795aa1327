#!/usr/bin/env bash
# Runs cctoken's speed, memory and size measurements and prints one figure a
# line as "name value unit" on stdout (progress goes to stderr). Every ratio
# compares with golang.org/x/oauth2 measured in the same run. Nothing here
# asserts a target: README.md lists them next to the figures.
#
# Takes about a minute on an idle 2-core machine. Every token endpoint is a
# local httptest server on 127.0.0.1.
#
# Environment:
#   BENCH_COUNT  repetitions of each in-process benchmark (default 3; medians)
#   COLD_RUNS    cold-start samples with a warm cache (default 5; median)
#   NOCACHE_RUNS cold-start samples without a cache (default 3; median; each
#                compiles the whole module, several seconds)
set -euo pipefail
cd "$(dirname "$0")"
bench_dir=$(pwd)
root=$(cd ../.. && pwd)

count=${BENCH_COUNT:-3}
cold_runs=${COLD_RUNS:-5}
nocache_runs=${NOCACHE_RUNS:-3}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-bench.XXXXXX")
sizes="$bench_dir/.sizes"
cleanup() {
	rm -rf "$tmp" "$sizes"
}
trap cleanup EXIT

log() { echo "== $*" >&2; }

# fig NAME VALUE UNIT
fig() { printf '%s %s %s\n' "$1" "$2" "$3"; }

# median: the median of the numbers on stdin ("NaN" when there are none).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "NaN"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "NaN" || b == "NaN") print "NaN"; else printf "%.2f\n", a / b }'; }

# triples FILE: "benchmark unit value" for every figure of a go test -bench
# output, benchmark without the Benchmark prefix and the -GOMAXPROCS suffix.
triples() {
	awk '/^Benchmark/ {
		n = $1; sub(/^Benchmark/, "", n); sub(/-[0-9]+$/, "", n)
		for (i = 3; i + 1 <= NF; i += 2) print n, $(i + 1), $i
	}' "$1"
}

# bench FILE BENCHMARK UNIT: median over the -count runs.
bench() { triples "$1" | awk -v b="$2" -v u="$3" '$1 == b && $2 == u { print $3 }' | median; }

# ---------------------------------------------------------------------------
log "building the cold-start and RSS programs"
go build -o "$tmp/coldstart" ./coldstart
go build -o "$tmp/rss" ./rss
go build -o "$tmp/coldstart-xoauth2" ./coldstart/xoauth2
cache="$tmp/wazero-cache"
mkdir -p "$cache"

log "warming the compilation cache (one full compile)"
"$tmp/coldstart" -cache "$cache" >/dev/null

# ---------------------------------------------------------------------------
# 1, 2. Cached token and one token fetch, against x/oauth2.
log "go test -bench 'CachedToken|TokenFetch|Transport' (count $count)"
export CCTOKEN_BENCH_CACHE="$cache" # the test binary compiles once more: wazero keys its cache by its own build info
go test -timeout 5m -run '^$' -bench 'CachedToken|TokenFetch|Transport' -benchtime 300ms -count "$count" . >"$tmp/speed.txt" 2>&1 ||
	{ cat "$tmp/speed.txt" >&2; exit 1; }
log "go test -bench Codec ./host (count $count)"
(cd "$root" && go test -timeout 5m -run '^$' -bench Codec -benchtime 300ms -count "$count" ./host) >"$tmp/codec.txt" 2>&1 ||
	{ cat "$tmp/codec.txt" >&2; exit 1; }

s=$tmp/speed.txt
a=$(bench "$s" CachedToken/cctoken ns/op)
b=$(bench "$s" CachedToken/x_oauth2 ns/op)
fig cached_token_ns "$a" ns/op
fig cached_token_x_oauth2_ns "$b" ns/op
fig cached_token_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
fig cached_token_allocs "$(bench "$s" CachedToken/cctoken allocs/op)" allocs/op
fig cached_token_x_oauth2_allocs "$(bench "$s" CachedToken/x_oauth2 allocs/op)" allocs/op
fig cached_token_bytes "$(bench "$s" CachedToken/cctoken B/op)" B/op
fig cached_token_endpoint_hits "$(bench "$s" CachedToken/cctoken hits)" hits
a=$(bench "$s" CachedToken/cctoken cpu-ns/op)
b=$(bench "$s" CachedToken/x_oauth2 cpu-ns/op)
fig cached_token_cpu_ns "$a" ns/op
fig cached_token_x_oauth2_cpu_ns "$b" ns/op
fig cached_token_cpu_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
fig cached_token_options_ns "$(bench "$s" CachedTokenOptions ns/op)" ns/op
fig cached_token_options_cpu_ns "$(bench "$s" CachedTokenOptions cpu-ns/op)" ns/op
fig cached_token_options_allocs "$(bench "$s" CachedTokenOptions allocs/op)" allocs/op
a=$(bench "$s" CachedTokenParallel/cctoken ns/op)
b=$(bench "$s" CachedTokenParallel/x_oauth2 ns/op)
fig cached_token_parallel_ns "$a" ns/op
fig cached_token_parallel_x_oauth2_ns "$b" ns/op
fig cached_token_parallel_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio

a=$(bench "$s" TokenFetch/cctoken ns/op)
b=$(bench "$s" TokenFetch/x_oauth2 ns/op)
fig token_fetch_ns "$a" ns/op
fig token_fetch_x_oauth2_ns "$b" ns/op
fig token_fetch_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
fig token_fetch_allocs "$(bench "$s" TokenFetch/cctoken allocs/op)" allocs/op
fig token_fetch_x_oauth2_allocs "$(bench "$s" TokenFetch/x_oauth2 allocs/op)" allocs/op
fig token_fetch_endpoint_hits_per_op "$(bench "$s" TokenFetch/cctoken hits/op)" hits/op
fig token_fetch_invalidate_only_ns "$(bench "$s" TokenFetch/cctoken_invalidate_only ns/op)" ns/op
fig token_fetch_guest_abi_only_ns "$(bench "$s" TokenFetch/guest_abi_only ns/op)" ns/op
fig token_fetch_bare_http_ns "$(bench "$s" TokenFetch/bare_http_post ns/op)" ns/op
# Against an endpoint that answers after 1 ms: what each client adds to the
# wait, when its code has gone cold during it.
a=$(bench "$s" TokenFetch/cctoken_endpoint_1ms ns/op)
b=$(bench "$s" TokenFetch/x_oauth2_endpoint_1ms ns/op)
fig token_fetch_endpoint_1ms_ns "$a" ns/op
fig token_fetch_endpoint_1ms_x_oauth2_ns "$b" ns/op
fig token_fetch_endpoint_1ms_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
fig token_fetch_endpoint_1ms_added_over_x_oauth2_ns "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", a - b }')" ns/op
# The same in CPU time (every thread of the process), which a busy machine
# disturbs far less than the wall clock.
a=$(bench "$s" TokenFetch/cctoken cpu-ns/op)
b=$(bench "$s" TokenFetch/x_oauth2 cpu-ns/op)
fig token_fetch_cpu_ns "$a" ns/op
fig token_fetch_x_oauth2_cpu_ns "$b" ns/op
fig token_fetch_cpu_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
g=$(bench "$s" TokenFetch/guest_abi_only cpu-ns/op)
fig token_fetch_guest_abi_only_cpu_ns "$g" ns/op
fig token_fetch_guest_abi_only_cpu_share_of_x_oauth2 "$(ratio "$g" "$b")" ratio
# The same three calls as the Go host sends them: the body after the
# resume call's JSON text (ABI.md, "The body after the call").
g=$(bench "$s" TokenFetch/guest_abi_only_body_after cpu-ns/op)
fig token_fetch_guest_abi_only_body_after_cpu_ns "$g" ns/op
fig token_fetch_guest_abi_only_body_after_cpu_share_of_x_oauth2 "$(ratio "$g" "$b")" ratio
fig token_fetch_bare_http_cpu_ns "$(bench "$s" TokenFetch/bare_http_post cpu-ns/op)" ns/op

# The host's JSON per fetch: encoding/json against goccy/go-json.
s=$tmp/codec.txt
for what in fetch_calls fetch_answers; do
	a=$(bench "$s" "Codec/$what/encoding_json" ns/op)
	b=$(bench "$s" "Codec/$what/go_json" ns/op)
	fig "host_codec_${what}_encoding_json_ns" "$a" ns/op
	fig "host_codec_${what}_go_json_ns" "$b" ns/op
	fig "host_codec_${what}_go_json_ratio_vs_encoding_json" "$(ratio "$b" "$a")" ratio
done
fig host_memo_key_json_ns "$(bench "$s" Codec/memo_key/encoding_json ns/op)" ns/op
fig host_memo_key_ns "$(bench "$s" Codec/memo_key/hand ns/op)" ns/op

# An API request through Transport with a cached token (the module's answer
# step is not called for a 200), against x/oauth2's Transport.
s=$tmp/speed.txt
a=$(bench "$s" Transport/cctoken ns/op)
b=$(bench "$s" Transport/x_oauth2 ns/op)
fig transport_request_ns "$a" ns/op
fig transport_request_x_oauth2_ns "$b" ns/op
fig transport_request_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
fig transport_request_allocs "$(bench "$s" Transport/cctoken allocs/op)" allocs/op
fig transport_request_x_oauth2_allocs "$(bench "$s" Transport/x_oauth2 allocs/op)" allocs/op

# ---------------------------------------------------------------------------
# 3, 6. 1000 cold callers; guest memory with 1000 users cached.
log "go test -bench 'ColdCallers|GuestMemory'"
go test -timeout 5m -run '^$' -bench 'ColdCallers|GuestMemory' -benchtime 3x -count 1 . >"$tmp/cold.txt" 2>&1 ||
	{ cat "$tmp/cold.txt" >&2; exit 1; }
s=$tmp/cold.txt
fig cold_callers_1000_endpoint_hits "$(bench "$s" ColdCallers/cctoken hits/round)" hits
fig cold_callers_1000_x_oauth2_endpoint_hits "$(bench "$s" ColdCallers/x_oauth2 hits/round)" hits
fig cold_callers_1000_failures "$(bench "$s" ColdCallers/cctoken failures)" errors
ms() { awk -v v="$1" 'BEGIN { if (v == "NaN") print v; else printf "%.2f\n", v / 1e6 }'; }
fig cold_callers_1000_ms "$(ms "$(bench "$s" ColdCallers/cctoken ns/op)")" ms
fig cold_callers_1000_x_oauth2_ms "$(ms "$(bench "$s" ColdCallers/x_oauth2 ns/op)")" ms
initial=$(bench "$s" GuestMemory initial_bytes)
loaded=$(bench "$s" GuestMemory loaded_bytes)
full=$(bench "$s" GuestMemory full_bytes)
fig guest_memory_initial_bytes "$initial" bytes
fig guest_memory_loaded_1000_users_bytes "$loaded" bytes
fig guest_memory_1000_users_bytes "$full" bytes
fig guest_memory_tokens_growth_bytes "$(awk -v a="$full" -v b="$loaded" 'BEGIN { print a - b }')" bytes

# ---------------------------------------------------------------------------
# 4. Cold start, a fresh process per sample.
log "cold start: $cold_runs runs with a warm cache, $nocache_runs without"
coldstart() { # DIR RUNS PREFIX
	local out=$tmp/cold-$3.txt i
	: >"$out"
	for ((i = 0; i < $2; i++)); do
		CCTOKEN_T0=$EPOCHREALTIME "$tmp/coldstart" -cache "$1" >>"$out"
	done
	fig "$3_ms" "$(awk '$1 == "main_ms" { print $2 }' "$out" | median)" ms
	fig "$3_wall_ms" "$(awk '$1 == "wall_ms" { print $2 }' "$out" | median)" ms
	fig "$3_min_ms" "$(awk '$1 == "main_ms" { print $2 }' "$out" | sort -g | head -1)" ms
	fig "$3_cpu_ms" "$(awk '$1 == "cpu_ms" { print $2 }' "$out" | median)" ms
}
coldstart "$cache" "$cold_runs" coldstart_warm_cache
# The peer: a native process getting its first token with x/oauth2.
out=$tmp/cold-xoauth2.txt
: >"$out"
for ((i = 0; i < cold_runs; i++)); do
	CCTOKEN_T0=$EPOCHREALTIME "$tmp/coldstart-xoauth2" >>"$out"
done
a=$(awk '$1 == "wall_ms" { print $2 }' "$tmp/cold-coldstart_warm_cache.txt" | median)
b=$(awk '$1 == "wall_ms" { print $2 }' "$out" | median)
fig coldstart_x_oauth2_ms "$(awk '$1 == "main_ms" { print $2 }' "$out" | median)" ms
fig coldstart_x_oauth2_wall_ms "$b" ms
fig coldstart_x_oauth2_cpu_ms "$(awk '$1 == "cpu_ms" { print $2 }' "$out" | median)" ms
fig coldstart_warm_cache_wall_ratio_vs_x_oauth2 "$(ratio "$a" "$b")" ratio
coldstart "" "$nocache_runs" coldstart_no_cache

# ---------------------------------------------------------------------------
# 7. RSS over 1,000,000 cached calls.
log "RSS over 1,000,000 cached Token calls"
"$tmp/rss" "$cache"

# ---------------------------------------------------------------------------
# 5. Module size, and what each dependency costs in a reactor of its own.
log "module size and dependency attribution (wasip1 builds)"
size() { # NAME FILE
	fig "size_$1_bytes" "$(wc -c <"$2" | tr -d ' ')" bytes
	fig "size_$1_gzip_bytes" "$(gzip -9 -c "$2" | wc -c | tr -d ' ')" bytes
}
size module "$root/host/embed/cctoken.wasm"

# The installed command and the demo, stripped (commands.sh).
log "command sizes: cctoken and cctoken-demo"
"$bench_dir/commands.sh"

# Throwaway reactors: each exports one function that really uses its
# dependency, so the linker keeps what a real caller pulls in.
variant() { # NAME, then main.go on stdin
	mkdir -p "$sizes/$1"
	cat >"$sizes/$1/main.go"
}
variant minimal <<'EOF'
package main

//go:wasmexport probe
func probe(n uint32) uint32 { return n + 1 }

func main() {}
EOF
variant stdlib <<'EOF'
package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

var in = make([]byte, 4096)

//go:wasmexport probe
func probe(n uint32) uint32 {
	s := string(in[:n])
	u, err := url.Parse(s)
	if err != nil {
		return 0
	}
	v, _ := url.ParseQuery(u.RawQuery)
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := make([]byte, 8)
	rand.Read(b)
	out := fmt.Sprintf("%s %v %s %s", strings.Join(keys, ","), time.Now().Add(time.Second), base64.StdEncoding.EncodeToString(b), strconv.Quote(s))
	return uint32(len(out))
}

func main() {}
EOF
json_variant() { # NAME IMPORT
	variant "$1" <<EOF
package main

import json "$2"

type msg struct {
	Op    string            \`json:"op"\`
	Task  uint64            \`json:"task,omitempty"\`
	Attrs map[string]string \`json:"attrs,omitempty"\`
}

var (
	in  = make([]byte, 4096)
	out []byte
)

//go:wasmexport probe
func probe(n uint32) uint32 {
	var m msg
	if json.Unmarshal(in[:n], &m) != nil {
		return 0
	}
	var v any
	json.Unmarshal(in[:n], &v)
	out, _ = json.Marshal([]any{m, v})
	return uint32(len(out))
}

func main() {}
EOF
}
json_variant encoding_json encoding/json
json_variant go_json github.com/goccy/go-json
variant go_yaml <<'EOF'
package main

import (
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

var in = make([]byte, 4096)

type counter struct{ n int }

func (c *counter) Visit(node ast.Node) ast.Visitor {
	if node != nil && node.GetToken() != nil {
		c.n += len(node.GetToken().Value) + node.GetToken().Position.Line
	}
	return c
}

//go:wasmexport probe
func probe(n uint32) uint32 {
	f, err := parser.ParseBytes(in[:n], 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return uint32(len(err.Error()))
	}
	c := &counter{}
	for _, d := range f.Docs {
		ast.Walk(c, d)
	}
	return uint32(c.n + len(f.String()))
}

func main() {}
EOF
declare -A gz raw
# Packed like the module (build.sh's pack_data), so their sizes compare.
(cd "$root" && go build -o "$tmp/wasmdata" ./internal/wasmdata)
for name in minimal stdlib encoding_json go_json go_yaml; do
	(cd "$root" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		go build -trimpath -buildmode=c-shared -ldflags='-s -w -buildid=' \
		-o "$tmp/$name.linked.wasm" "./tests/bench/.sizes/$name")
	"$tmp/wasmdata" "$tmp/$name.linked.wasm" "$tmp/$name.wasm"
	size "$name" "$tmp/$name.wasm"
	raw[$name]=$(wc -c <"$tmp/$name.wasm" | tr -d ' ')
	gz[$name]=$(gzip -9 -c "$tmp/$name.wasm" | wc -c | tr -d ' ')
done
# What each adds on top of the bare Go runtime. Linking drops what is not
# called and shares what two packages both use, so these do not add up.
for name in stdlib encoding_json go_json go_yaml; do
	fig "size_cost_${name}_bytes" $((raw[$name] - raw[minimal])) bytes
	fig "size_cost_${name}_gzip_bytes" $((gz[$name] - gz[minimal])) bytes
done
# Inside the module itself, by package: these add up to the code section.
# The same build as build.sh's but keeping function names (no -s), which
# changes no code.
(cd "$root" && ./build.sh --named "$tmp/named.wasm")
go build -o "$tmp/wasmsize" ./wasmsize
"$tmp/wasmsize" "$tmp/named.wasm"
log "done"
