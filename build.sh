#!/usr/bin/env bash
# Builds every artifact from source. The reactor wasm is committed and
# embedded by the Go host; CI runs `./build.sh --check` to prove this script
# reproduces it byte for byte.
set -euo pipefail
cd "$(dirname "$0")"

wasm=host/embed/cctoken.wasm

build_reactor() {
	# Pinned flags: -trimpath and an empty build id keep the output free of
	# paths and of anything that differs between machines.
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		go build -trimpath -buildmode=c-shared -ldflags='-s -w -buildid=' -o "$1" ./wasm/module
}

case "${1:-}" in
--check)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	build_reactor "$tmp/cctoken.wasm"
	if ! cmp -s "$tmp/cctoken.wasm" "$wasm"; then
		echo "build.sh: $wasm differs from a fresh build; run ./build.sh and commit it" >&2
		exit 1
	fi
	echo "build.sh: $wasm is reproducible ($(wc -c <"$wasm") bytes)"
	;;
"")
	build_reactor "$wasm"
	echo "built $wasm ($(wc -c <"$wasm") bytes)"
	;;
*)
	echo "usage: ./build.sh [--check]" >&2
	exit 2
	;;
esac
