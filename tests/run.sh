#!/usr/bin/env bash
# Runs every test of the project on a fresh machine that has Go, Node and
# npm: installs what the tests need, checks formatting and that build.sh
# reproduces the committed module, then runs the Go tests (unit, fuzz seed
# corpora, and end to end against a real authorization server).
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

echo "== build.sh reproduces the committed module"
./build.sh --check

echo "== go test"
go test -count=1 ./...
