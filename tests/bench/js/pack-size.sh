#!/usr/bin/env bash
# What installing the npm package costs, beside openid-client: prints
# "name value unit" lines. cctoken is packed from js/ as `npm publish` would
# (prepack copies the module in); openid-client and the dependencies of both
# are the published tarballs of the versions tests/package.json pins (npm
# takes them from its cache when it has them). The page figures are what a
# browser downloads: a minified esbuild bundle of each library, gzipped,
# plus cctoken's module.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cctoken-pack-size.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fig() { printf '%s %s %s\n' "$1" "$2" "$3"; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'; }
npm_flags=(--json --pack-destination "$tmp" --prefer-offline --no-update-notifier --loglevel=error)
# field JSON NAME: a number from npm pack --json's first entry.
field() { node -e 'const j = JSON.parse(process.argv[1]); console.log(j[0][process.argv[2]])' "$1" "$2"; }
installed() { node -p "require('$root/tests/node_modules/$1/package.json').version"; }

"$root/tests/setup.sh" >&2

# cctoken, and its one dependency.
pack=$(cd "$root/js" && npm pack "${npm_flags[@]}" 2>/dev/null)
fig npm_cctoken_tarball_bytes "$(field "$pack" size)" bytes
fig npm_cctoken_unpacked_bytes "$(field "$pack" unpackedSize)" bytes
fig npm_cctoken_module_bytes "$(wc -c <"$root/js/cctoken.wasm" | tr -d ' ')" bytes
fig npm_cctoken_module_gzip_bytes "$(gz "$root/js/cctoken.wasm")" bytes
shim=$(npm pack "@bjorn3/browser_wasi_shim@$(installed @bjorn3/browser_wasi_shim)" "${npm_flags[@]}")
cc_total=$(($(field "$pack" size) + $(field "$shim" size)))
fig npm_cctoken_with_deps_tarball_bytes "$cc_total" bytes

# openid-client, and its dependencies (oauth4webapi, jose).
oc=$(npm pack "openid-client@$(installed openid-client)" "${npm_flags[@]}")
fig npm_openid_client_tarball_bytes "$(field "$oc" size)" bytes
fig npm_openid_client_unpacked_bytes "$(field "$oc" unpackedSize)" bytes
oc_total=$(field "$oc" size)
for dep in oauth4webapi jose; do
	d=$(npm pack "$dep@$(installed "$dep")" "${npm_flags[@]}")
	oc_total=$((oc_total + $(field "$d" size)))
done
fig npm_openid_client_with_deps_tarball_bytes "$oc_total" bytes
fig npm_with_deps_tarball_ratio_vs_openid_client "$(ratio "$cc_total" "$oc_total")" x

# What a page downloads: each library bundled and minified (cctoken's
# bundle is the committed js/dist/cctoken.bundle.js), gzipped; cctoken also
# fetches its module.
esbuild=$root/tests/node_modules/.bin/esbuild
# (stdin resolves imports from the working directory, tests/.)
echo 'export { Configuration, clientCredentialsGrant, ClientSecretBasic } from "openid-client";' |
	(cd "$root/tests" && "$esbuild" --bundle --format=esm --platform=browser --minify --log-level=error --outfile="$tmp/oc.bundle.js")
bundle_gz=$(gz "$root/js/dist/cctoken.bundle.js")
module_gz=$(gz "$root/js/cctoken.wasm")
oc_gz=$(gz "$tmp/oc.bundle.js")
fig page_cctoken_bundle_gzip_bytes "$bundle_gz" bytes
fig page_cctoken_bundle_and_module_gzip_bytes $((bundle_gz + module_gz)) bytes
fig page_openid_client_bundle_gzip_bytes "$oc_gz" bytes
fig page_download_ratio_vs_openid_client "$(ratio $((bundle_gz + module_gz)) "$oc_gz")" x
