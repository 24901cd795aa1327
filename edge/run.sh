#!/usr/bin/env bash
# Runs the signing worker on workerd at http://127.0.0.1:8787.
#
#   ./edge/run.sh          a local demo: node-oidc-provider, a sample API and
#                          the worker, with one signed request shown; Ctrl-C
#                          stops all three
#   ./edge/run.sh --once   the same, exiting after the signed request
#
# With CCTOKEN_PRESET, CCTOKEN_ROUTES and CCTOKEN_INBOUND_KEY set it serves
# your own preset and routes with edge/config.capnp instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./edge/setup.sh
if [ -n "${CCTOKEN_PRESET:-}" ] && [ -n "${CCTOKEN_ROUTES:-}" ] && [ -n "${CCTOKEN_INBOUND_KEY:-}" ]; then
	exec edge/node_modules/.bin/workerd serve edge/config.capnp "$@"
fi
./tests/setup.sh
exec node edge/demo.mjs "$@"
