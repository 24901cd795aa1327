#!/usr/bin/env bash
# Installs Debian's redis-server (and redis-cli) for the shared-store tests
# when it is missing. Quiet and idempotent. Needs root (apt-get); the test
# machines run as root.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tests/scale/setup-redis.sh: redis-server is missing and apt-get is not available; install Redis (or Valkey) so that redis-server and redis-cli are on PATH" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) != 0 ]]; then
  sudo=(sudo)
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -1440 -print -quit 2>/dev/null)" ]]; then
  "${sudo[@]}" apt-get update >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
if ! "${sudo[@]}" apt-get install -y --no-install-recommends redis-server redis-tools >"$log" 2>&1; then
  echo "tests/scale/setup-redis.sh: apt-get install redis-server failed:" >&2
  cat "$log" >&2
  exit 1
fi
# The package starts a system service on port 6379; the tests start their
# own servers on free ports and do not use it.
echo "tests/scale/setup-redis.sh: installed $(redis-server --version | head -c 60)"
