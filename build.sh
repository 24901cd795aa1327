#!/usr/bin/env bash
# Builds every artifact from source. The reactor wasm, its gzip-compressed
# copy and the browser bundle are committed (the Go host embeds the
# compressed wasm, the JavaScript host and the edge worker load the wasm,
# `cctoken explore` serves the bundle),
# with NOTICE and THIRD_PARTY.md, which list the third-party code they carry;
# CI runs `./build.sh --check` to prove this script reproduces all five byte
# for byte.
set -euo pipefail
cd "$(dirname "$0")"

wasm=host/embed/cctoken.wasm
wasmgz=host/embed/cctoken.wasm.gz
bundle=js/dist/cctoken.bundle.js
command=build/cctoken-wasi.wasm

build_reactor() {
	# Pinned flags: -trimpath and an empty build id keep the output free of
	# paths and of anything that differs between machines. Code off the
	# token-fetch path is built without inlining, which keeps the module
	# under the 2 MB gzipped budget: the YAML parser and the preset and
	# Keboola loaders run once per load (51 KB, then 13 KB less); math/big
	# only parses keys (RSA and EC signing use the crypto packages' own
	# arithmetic), and encoding/json writes only the answers the fetch path
	# does not write by hand (27 KB less together, 2.001 -> 1.974 MB).
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		go build -trimpath -buildmode=c-shared -gcflags='github.com/goccy/go-yaml/...=-l' \
		-gcflags='github.com/cctoken/cctoken/wasm/internal/preset=-l' \
		-gcflags='github.com/cctoken/cctoken/wasm/internal/keboola=-l' \
		-gcflags='github.com/cctoken/cctoken/wasm/internal/yamlnode=-l' \
		-gcflags='math/big=-l' -gcflags='encoding/json=-l' \
		-ldflags="${2:--s} -w -buildid=" -o "$1.linked" ./wasm/module
	pack_data "$1.linked" "$1"
}

# Go's linker writes the module's initial memory as some 80,000 data
# segments a few zero bytes apart; internal/wasmdata joins them (the zeros
# written out), which leaves the memory the same and the module 7 % smaller
# gzip-compressed, as every host downloads or embeds it.
pack_data() {
	go run ./internal/wasmdata "$1" "$2"
	rm -f "$1"
}

# The copy the Go host embeds: gzip at best compression with an empty
# header, written by Go's compress/gzip, so the same module gives the same
# bytes on every machine with this Go version.
compress_reactor() {
	go run ./internal/gzipfile "$1" "$2"
}

# The standalone WASI command (wasm/command): lint, token and validate doing
# their own HTTP over WasmEdge's socket extensions. Same pinned flags; not
# committed (it is large), so --check builds it twice and compares.
build_command() {
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		go build -trimpath -ldflags='-s -w -buildid=' -o "$1.linked" ./wasm/command
	pack_data "$1.linked" "$1"
}

# The bundle is js/cctoken.js with its one dependency, as one ES module for
# browsers and edge workers. esbuild and the dependency come pinned from
# tests/package.json (tests/setup.sh installs them, and does nothing when
# they are up to date). The dependency is resolved from tests/node_modules
# whatever else is installed, so every machine bundles the same files.
build_bundle() {
	./tests/setup.sh
	local shim=tests/node_modules/@bjorn3/browser_wasi_shim
	local shim_version
	shim_version=$(node -p "require('./$shim/package.json').version")
	tests/node_modules/.bin/esbuild js/cctoken.js \
		--bundle --format=esm --platform=browser --target=es2022 --minify --charset=utf8 \
		--legal-comments=eof --log-level=warning \
		--alias:@bjorn3/browser_wasi_shim="./$shim" \
		--banner:js="// cctoken browser bundle, built by build.sh from js/cctoken.js: do not edit. Includes @bjorn3/browser_wasi_shim $shim_version (MIT OR Apache-2.0)." \
		--outfile="$1"
}

# NOTICE and THIRD_PARTY.md: the third-party code each artifact carries,
# with its license, from the module graph and tests/node_modules (so after
# build_bundle has run tests/setup.sh). Writes both into $1.
build_notices() {
	go run ./internal/thirdparty -dir "$1"
}

case "${1:-}" in
--check)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	build_reactor "$tmp/cctoken.wasm"
	compress_reactor "$tmp/cctoken.wasm" "$tmp/cctoken.wasm.gz"
	build_bundle "$tmp/cctoken.bundle.js"
	build_notices "$tmp"
	failed=0
	for pair in "$tmp/cctoken.wasm:$wasm" "$tmp/cctoken.wasm.gz:$wasmgz" "$tmp/cctoken.bundle.js:$bundle" "$tmp/NOTICE:NOTICE" "$tmp/THIRD_PARTY.md:THIRD_PARTY.md"; do
		if ! cmp -s "${pair%%:*}" "${pair#*:}"; then
			echo "build.sh: ${pair#*:} differs from a fresh build; run ./build.sh and commit it" >&2
			failed=1
		fi
	done
	# The second build normally reuses Go's build cache (cheap: it proves
	# the link step deterministic); CCTOKEN_FRESH_CACHE=1 makes it compile
	# everything again in an empty cache (about a minute). Either way the
	# output must not name a directory of this machine.
	build_command "$tmp/command1.wasm"
	if [ "${CCTOKEN_FRESH_CACHE:-}" = 1 ]; then
		GOCACHE="$tmp/gocache" build_command "$tmp/command2.wasm"
	else
		build_command "$tmp/command2.wasm"
	fi
	if ! cmp -s "$tmp/command1.wasm" "$tmp/command2.wasm"; then
		echo "build.sh: two builds of $command differ" >&2
		failed=1
	fi
	if grep -qaF -e "$PWD" -e "$(go env GOROOT)" -e "$(go env GOMODCACHE)" "$tmp/command1.wasm"; then
		echo "build.sh: $command names a local directory" >&2
		failed=1
	fi
	[ "$failed" = 0 ] || exit 1
	echo "build.sh: $wasm ($(wc -c <"$wasm") bytes), $wasmgz ($(wc -c <"$wasmgz") bytes) and $bundle ($(wc -c <"$bundle") bytes) are reproducible; NOTICE and THIRD_PARTY.md are current"
	echo "build.sh: $command builds the same twice ($(wc -c <"$tmp/command1.wasm") bytes)"
	;;
--named)
	# The reactor with its function names kept (no -s, which changes no
	# code), for tests/bench/run.sh's size attribution by package.
	build_reactor "$2" -s=false
	;;
--reactor | --command)
	# One artifact to a path of the caller's, with the same flags: the
	# tests that run the WASI command build it this way (internal/wasitest).
	"build_${1#--}" "$2"
	;;
"")
	build_reactor "$wasm"
	echo "built $wasm ($(wc -c <"$wasm") bytes)"
	compress_reactor "$wasm" "$wasmgz"
	echo "built $wasmgz ($(wc -c <"$wasmgz") bytes)"
	mkdir -p "$(dirname "$bundle")"
	build_bundle "$bundle"
	echo "built $bundle ($(wc -c <"$bundle") bytes)"
	build_notices .
	echo "built NOTICE and THIRD_PARTY.md"
	mkdir -p "$(dirname "$command")"
	build_command "$command"
	echo "built $command ($(wc -c <"$command") bytes)"
	;;
*)
	echo "usage: ./build.sh [--check | --reactor FILE | --command FILE | --named FILE]" >&2
	exit 2
	;;
esac
