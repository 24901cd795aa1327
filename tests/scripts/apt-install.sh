#!/usr/bin/env bash
# Installs Debian packages for a test set-up script, quietly: updates the
# package lists when they are missing or a day old, uses sudo when not
# root, and on failure prints apt's output.
#
#   tests/scripts/apt-install.sh WHO PACKAGE...    (WHO names the caller in errors)
set -euo pipefail
who=$1
shift
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who: apt-get is not available; install $* another way" >&2
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
  "${sudo[@]}" apt-get update >"$log" 2>&1 || { echo "$who: apt-get update failed:" >&2; cat "$log" >&2; exit 1; }
fi
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >"$log" 2>&1; then
  echo "$who: apt-get install $* failed:" >&2
  cat "$log" >&2
  exit 1
fi
