#!/usr/bin/env bash
# Installs the Node.js tooling used by cctoken's end-to-end tests into
# tests/node_modules (everything listed in tests/package.json, e.g. the
# oidc-provider test authorization server).
#
# Idempotent and quiet: it does nothing when tests/node_modules is already at
# least as new as tests/package.json and tests/package-lock.json. Uses `npm ci`
# when the lock file exists (reproducible), `npm install` otherwise (which
# then writes the lock file; commit it).
#
#   CCTOKEN_SETUP_FORCE=1 tests/setup.sh   reinstall regardless
#   CCTOKEN_SETUP_VERBOSE=1 tests/setup.sh show npm's output
set -euo pipefail

tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$tests_dir"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "tests/setup.sh: '$tool' not found; install Node.js (>= 20) first" >&2
    exit 1
  fi
done

# Written after every successful install; its age is what is compared.
stamp="node_modules/.cctoken-setup-stamp"

needs_install() {
  [[ "${CCTOKEN_SETUP_FORCE:-}" == 1 ]] && return 0
  [[ -d node_modules && -f "$stamp" ]] || return 0
  [[ package.json -nt "$stamp" ]] && return 0
  [[ -f package-lock.json && package-lock.json -nt "$stamp" ]] && return 0
  return 1
}

if ! needs_install; then
  exit 0
fi

npm_flags=(--no-audit --no-fund --no-update-notifier)
if [[ "${CCTOKEN_SETUP_VERBOSE:-}" != 1 ]]; then
  npm_flags+=(--loglevel=error)
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if [[ -f package-lock.json ]]; then
  cmd=(npm ci "${npm_flags[@]}")
else
  cmd=(npm install "${npm_flags[@]}")
fi

if [[ "${CCTOKEN_SETUP_VERBOSE:-}" == 1 ]]; then
  "${cmd[@]}"
elif ! "${cmd[@]}" >"$log" 2>&1; then
  echo "tests/setup.sh: '${cmd[*]}' failed in $tests_dir:" >&2
  cat "$log" >&2
  exit 1
fi

touch "$stamp"
echo "tests/setup.sh: node dependencies installed in tests/node_modules (${cmd[0]} ${cmd[1]})"
