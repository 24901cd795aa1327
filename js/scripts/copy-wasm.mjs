// Copies the committed module (host/embed/cctoken.wasm, reproduced byte for
// byte by build.sh) into the package as cctoken.wasm. npm runs it before
// every pack and publish (the prepack script), so the package always ships
// the repository's module while git holds it only once (js/cctoken.wasm is
// ignored). LICENSE is copied likewise.

import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const js = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(js, "..", "host", "embed", "cctoken.wasm");
const to = join(js, "cctoken.wasm");

if (!existsSync(from)) {
  console.error(`copy-wasm: ${from} is missing; run ./build.sh at the repository root`);
  process.exit(1);
}
copyFileSync(from, to);
// The license goes with every copy (npm packs a LICENSE file whatever
// "files" says); it too is held once, at the repository root.
copyFileSync(join(js, "..", "LICENSE"), join(js, "LICENSE"));
