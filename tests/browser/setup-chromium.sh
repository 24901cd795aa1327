#!/usr/bin/env bash
# Installs Debian's chromium for the browser test when it is missing.
# Quiet and idempotent: does nothing when /usr/bin/chromium already exists.
# Needs root (apt-get); the test machines run as root.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tests/browser/setup-chromium.sh: /usr/bin/chromium is missing and apt-get is not available; install Chromium" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) != 0 ]]; then
  sudo=(sudo)
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Update the package lists first when they are missing or a day old.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -1440 -print -quit 2>/dev/null)" ]]; then
  "${sudo[@]}" apt-get update >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
if ! "${sudo[@]}" apt-get install -y --no-install-recommends chromium fonts-dejavu-core >"$log" 2>&1; then
  echo "tests/browser/setup-chromium.sh: apt-get install chromium failed:" >&2
  cat "$log" >&2
  exit 1
fi
echo "tests/browser/setup-chromium.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
