#!/usr/bin/env bash
# Prints the sizes of the two Go commands, one figure a line as run.sh does:
# cctoken (what `go install` puts on people's machines, the embedded module
# included) and cctoken-demo (the demo with its development authorization
# server, ory/fosite). Stripped as `go build -ldflags='-s -w'` builds them
# (target for cctoken: at most 20 MB), and cctoken also as `go install`
# builds it by default. run.sh calls it; it runs on its own too.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-cmdsize.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fig() { printf '%s %s %s\n' "$1" "$2" "$3"; }
bytes() { wc -c <"$1" | tr -d ' '; }

go build -ldflags='-s -w' -o "$tmp/cctoken" ./host/cmd/cctoken
go build -o "$tmp/cctoken-default" ./host/cmd/cctoken
go build -ldflags='-s -w' -o "$tmp/cctoken-demo" ./host/cmd/cctoken-demo
fig size_cmd_cctoken_stripped_bytes "$(bytes "$tmp/cctoken")" bytes
fig size_cmd_cctoken_bytes "$(bytes "$tmp/cctoken-default")" bytes
fig size_cmd_cctoken_demo_stripped_bytes "$(bytes "$tmp/cctoken-demo")" bytes
# What of cctoken is the module it embeds (gzip-compressed; the host keeps
# the decompressed copy in its cache dir), and what the demo's server adds.
fig size_cmd_cctoken_embedded_module_bytes "$(bytes host/embed/cctoken.wasm.gz)" bytes
fig size_cmd_demo_over_cctoken_bytes $(($(bytes "$tmp/cctoken-demo") - $(bytes "$tmp/cctoken"))) bytes
