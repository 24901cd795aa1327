#!/usr/bin/env bash
# Runs every test of the project on a fresh machine that has Go, Node and
# npm: installs what the tests need (npm packages; Debian's chromium), checks
# formatting, that build.sh reproduces the committed module and bundle, and
# release hygiene (tidy go.mod files, npm lock files, no retracted
# dependency in the installed command), then runs the JavaScript tests, the
# edge worker on workerd, the conformance suite in every host, the Go tests
# (unit, fuzz seed corpora, end to end against a real authorization server,
# the WASI command under wasirun, many processes sharing tokens through a
# real redis-server), the explorer in a real browser and the npm package
# installed from its tarball (Node, a browser bundle, workerd).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup"
./tests/setup.sh

echo "== gofmt, go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tests/node_modules/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
GOOS=wasip1 GOARCH=wasm go vet ./wasm/...
# The guest memory allocator is written per system (host/internal/linmem):
# it also type-checks without mmap (windows) and without MAP_NORESERVE
# (freebsd). About 30 s each with an empty build cache.
for goos in windows freebsd; do
	GOOS=$goos go vet ./host/internal/linmem/
done

echo "== build.sh reproduces the committed module, bundle, NOTICE and THIRD_PARTY.md"
./build.sh --check

echo "== release hygiene"
# Tidy go.mod files, npm lock files that match their package.json, and no
# retracted dependency in the installed command (docs/releasing.md).
tests/scripts/release-check.sh

echo "== js tests"
# js/ is its own npm package ("cctoken"): its dependency is installed into
# js/node_modules from js/package-lock.json (when that is missing or older
# than the lock), then Node's test runner runs js/test/, end to end against
# tests/oidc/server.mjs from tests/node_modules.
if [ ! -f js/node_modules/.package-lock.json ] || [ js/package-lock.json -nt js/node_modules/.package-lock.json ]; then
	(cd js && npm ci --no-audit --no-fund --no-update-notifier --loglevel=error)
fi
node --test --test-timeout=120000 js/test/

echo "== edge tests"
# The signing worker on a real workerd (from npm, pinned in
# edge/package-lock.json) against node-oidc-provider and a sample API.
./edge/setup.sh
node --test --test-timeout=120000 edge/test/

echo "== conformance"
# One set of scenarios (tests/conformance/scenarios/, see
# docs/conformance.md) against a scripted fault server, in every host: the
# JavaScript host in Node, the edge worker on workerd, the Go host and the
# WASI command. Each driver prints a line per scenario (PASS, FAIL or NOT
# APPLICABLE with the reason) and a summary.
# All four run even when one fails, so every host's results are shown.
node_status=0
node --test --test-timeout=120000 tests/conformance/js.test.mjs tests/conformance/edge.test.mjs || node_status=$?
conformance_log=$(mktemp)
go_status=0
go test -count=1 -v ./tests/conformance/ >"$conformance_log" 2>&1 || go_status=$?
if [ "$go_status" -eq 0 ]; then
	grep -E '^(conformance |  (FAIL|N/A) )' "$conformance_log" || true
else
	grep -vE '^(=== |    --- PASS)|note: ' "$conformance_log" || true
fi
rm -f "$conformance_log"
[ "$node_status" -eq 0 ] && [ "$go_status" -eq 0 ]

echo "== go test"
# The shared-store tests (host/redisstore, tests/scale) start real
# redis-server processes: install Debian's when it is missing, and make a
# missing server a failure rather than a skip.
tests/scale/setup-redis.sh
export CCTOKEN_REQUIRE_REDIS=1
# tests/conformance ran in its own step above. tests/scale counts token
# requests of 2 s tokens across 8 processes: it runs after the others, on
# its own, so that no other package's build or test starves its processes
# of the CPU (a stalled lock holder makes another instance fetch too).
go test -count=1 $(go list ./... | grep -v -e /tests/conformance$ -e /tests/scale$)
go test -count=1 ./tests/scale/

echo "== browser test"
# The API explorer (index.html) in Debian's chromium, against
# node-oidc-provider, a sample API and `cctoken explore`; installs chromium
# when it is missing. Screenshots: tests/out/explorer*.png.
tests/browser/setup-chromium.sh
node --test tests/browser/

echo "== npm package test"
# js/ packed with `npm pack` and installed from the tarball into an empty
# project in a temporary folder; there, with no configuration, Node gets a
# token, an esbuild bundle gets one in chromium, and a workerd worker
# importing cctoken/cctoken.wasm signs a request; the TypeScript consumer
# compiles with tsc --strict against the installed types.
node --test --test-timeout=300000 tests/npm/
