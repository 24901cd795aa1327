#!/usr/bin/env bash
# Release hygiene, checked on every run of tests/run.sh (docs/releasing.md):
#   - go.mod and go.sum are tidy, in the root module and in the two separate
#     ones (tests/bench/jose, tests/wasi/tools);
#   - every npm lock file (js/, tests/, edge/) matches its package.json, as
#     `npm ci` judges it (dry run: nothing is installed or removed);
#   - no module at a retracted version is built into the cctoken command
#     people install (as linked for linux, darwin and windows).
# The versions themselves (internal/version, js/package.json, CHANGELOG.md,
# the module's answer) are compared by Go tests: internal/version, host.
set -euo pipefail
cd "$(dirname "$0")/../.."

failed=0
fail() { echo "release-check: $*" >&2; failed=1; }

for dir in . tests/bench/jose tests/wasi/tools; do
	if ! diff=$(cd "$dir" && go mod tidy -diff 2>&1); then
		fail "$dir/go.mod or go.sum is not tidy; run go mod tidy there and commit:"
		echo "$diff" >&2
	fi
done

for dir in js tests edge; do
	if ! out=$(cd "$dir" && npm ci --dry-run --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=error 2>&1); then
		fail "$dir/package-lock.json does not match $dir/package.json; run npm install in $dir and commit the lock file:"
		echo "$out" >&2
	fi
done

mods=$(for goos in linux darwin windows; do
	GOOS=$goos CGO_ENABLED=0 go list -deps -f '{{with .Module}}{{if .Version}}{{.Path}}@{{.Version}}{{end}}{{end}}' ./host/cmd/cctoken
done | sort -u)
# shellcheck disable=SC2086 # one argument per module
retracted=$(go list -m -retracted -f '{{if .Retracted}}{{.Path}} {{.Version}}: {{join .Retracted "; "}}{{end}}' $mods)
if [ -n "$retracted" ]; then
	fail "the cctoken command is built with retracted versions; upgrade them:"
	echo "$retracted" >&2
fi

[ "$failed" = 0 ] || exit 1
echo "release-check: go.mod files tidy, npm lock files match, no retracted module in cctoken ($(echo "$mods" | wc -l) modules)"
