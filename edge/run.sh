#!/usr/bin/env bash
# Runs the signing worker on workerd at http://127.0.0.1:8787.
#
#   ./edge/run.sh          a local demo: node-oidc-provider, a sample API and
#                          the worker, with one signed request shown; Ctrl-C
#                          stops all three
#   ./edge/run.sh --once   the same, exiting after the signed request
#   ./edge/run.sh --shared with config-shared.capnp: a Durable Object per
#                          user fetches tokens for every isolate
#
# With CCTOKEN_PRESET, CCTOKEN_ROUTES and CCTOKEN_INBOUND_KEY set it serves
# your own preset and routes with edge/config.capnp (config-shared.capnp
# with --shared) instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./edge/setup.sh
if [ -n "${CCTOKEN_PRESET:-}" ] && [ -n "${CCTOKEN_ROUTES:-}" ] && [ -n "${CCTOKEN_INBOUND_KEY:-}" ]; then
	cd edge
	config=config.capnp
	if [ "${1:-}" = --shared ]; then
		config=config-shared.capnp
		shift
		mkdir -p .owners
	fi
	exec node_modules/.bin/workerd serve "$config" "$@"
fi
./tests/setup.sh
exec node edge/demo.mjs "$@"
