#!/usr/bin/env bash
# Installs Debian's redis-server (and redis-cli) for the shared-store tests
# when it is missing. Quiet and idempotent. Needs root or sudo (apt-get);
# the test machines run as root.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi
"$(dirname "$0")/../scripts/apt-install.sh" tests/scale/setup-redis.sh redis-server redis-tools
# The package starts a system service on port 6379; the tests start their
# own servers on free ports and do not use it.
echo "tests/scale/setup-redis.sh: installed $(redis-server --version | head -c 60)"
