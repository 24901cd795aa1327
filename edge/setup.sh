#!/usr/bin/env bash
# Installs workerd (from npm, pinned in edge/package-lock.json) into
# edge/node_modules; does nothing when it is already there and current.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] \
	&& [ -x node_modules/.bin/workerd ]; then
	exit 0
fi
npm ci --no-audit --no-fund --no-update-notifier --loglevel=error
echo "edge/setup.sh: workerd $(node_modules/.bin/workerd --version | awk '{print $2}') installed in edge/node_modules"
