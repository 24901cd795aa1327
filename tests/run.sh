#!/usr/bin/env bash
# Runs every test of the project on a fresh machine that has Go, Node and
# npm: installs what the tests need (npm packages; Debian's chromium), checks
# formatting, that build.sh reproduces the committed module and bundle, and
# release hygiene (tidy go.mod files, npm lock files, no retracted
# dependency in the installed command), then runs the JavaScript tests, the edge worker on workerd, the Go tests
# (unit, fuzz seed corpora, end to end against a real authorization server,
# the WASI command under wasirun, many processes sharing tokens through a
# real redis-server) and the explorer in a real browser.
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

echo "== go test"
# The shared-store tests (host/redisstore, tests/scale) start real
# redis-server processes: install Debian's when it is missing, and make a
# missing server a failure rather than a skip.
tests/scale/setup-redis.sh
export CCTOKEN_REQUIRE_REDIS=1
go test -count=1 ./...

echo "== browser test"
# The API explorer (index.html) in Debian's chromium, against
# node-oidc-provider, a sample API and `cctoken explore`; installs chromium
# when it is missing. Screenshots: tests/out/explorer*.png.
tests/browser/setup-chromium.sh
node --test tests/browser/
