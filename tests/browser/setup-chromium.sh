#!/usr/bin/env bash
# Installs Debian's chromium for the browser test when it is missing.
# Quiet and idempotent: does nothing when /usr/bin/chromium already exists.
# Needs root or sudo (apt-get); the test machines run as root.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
"$(dirname "$0")/../scripts/apt-install.sh" tests/browser/setup-chromium.sh chromium fonts-dejavu-core
echo "tests/browser/setup-chromium.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
