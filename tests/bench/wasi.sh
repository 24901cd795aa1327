#!/usr/bin/env bash
# Figures of the standalone WASI command (build/cctoken-wasi.wasm), one a
# line as "name value unit" on stdout (progress on stderr):
#
#   size_wasi_command_bytes, _gzip_bytes   the command, raw and gzip -9
#   native_token_http_wall_ms              `cctoken token` for one user, native,
#   wasi_token_http_wall_ms                and the command under wasirun, against
#   wasi_token_http_wall_ratio_vs_native   a local token endpoint on 127.0.0.1
#   *_https_*                              the same over https (a test CA)
#   *_server_ms                            of that, the time the endpoint saw from
#                                          accepting the connection to the request
#   wasi_lint_wall_ms                      `lint` under wasirun: start-up alone
#
# Wall times are medians of WASI_RUNS (5) processes each. The native command
# starts with its compilation cache warm; wasirun has no such cache and
# compiles the module on every start. About a minute on an idle 2-core
# machine.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
runs=${WASI_RUNS:-5}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-bench-wasi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== building the command (as build.sh does), the native command, wasirun" >&2
(cd "$root" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
	go build -trimpath -ldflags='-s -w -buildid=' -o "$tmp/cctoken-wasi.wasm" ./wasm/command)
(cd "$root" && go build -o "$tmp/cctoken" ./host/cmd/cctoken)
(cd "$root/tests/wasi/tools" && go build -o "$tmp/wasirun" github.com/stealthrocket/wasi-go/cmd/wasirun)
go build -o "$tmp/wasitime" ./wasitime

printf 'size_wasi_command_bytes %s bytes\n' "$(wc -c <"$tmp/cctoken-wasi.wasm" | tr -d ' ')"
printf 'size_wasi_command_gzip_bytes %s bytes\n' "$(gzip -9 -c "$tmp/cctoken-wasi.wasm" | wc -c | tr -d ' ')"

"$tmp/wasitime" -wasirun "$tmp/wasirun" -wasm "$tmp/cctoken-wasi.wasm" -native "$tmp/cctoken" -runs "$runs"
echo "== done" >&2
