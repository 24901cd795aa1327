// Two versions of js/cctoken.js side by side in one process: the
// no-network token fetch of node.mjs (invalidate, then token with a fetch
// that answers at once) and a cached token, timed in interleaved rounds
// with openid-client's no-network grant beside them. One process, one
// compiled module: what differs is only the host's JavaScript. Prints
// "name value unit" lines; asserts nothing (tests/bench/README.md).
//
//   node compare.mjs OTHER_CCTOKEN_JS [rounds]     (default 40 rounds)
//
// OTHER_CCTOKEN_JS is the older host (for example main's js/cctoken.js,
// extracted with `git archive main js`, its node_modules beside it);
// "this" is the working tree's js/cctoken.js.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import * as oidc from "openid-client";

import * as current from "../../../js/cctoken.js";
import { canned, fig, now, preset } from "./canned.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmPath = path.resolve(here, "../../../host/embed/cctoken.wasm");
if (!process.argv[2]) {
  console.error("usage: node compare.mjs OTHER_CCTOKEN_JS [rounds]");
  process.exit(2);
}
const other = await import(pathToFileURL(path.resolve(process.argv[2])).href);
const ROUNDS = Number(process.argv[3]) > 0 ? Number(process.argv[3]) : 40;
const OPS = 1000; // operations per timed loop
const CACHED_OPS = 300_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const module = await WebAssembly.compile(fs.readFileSync(wasmPath));
const clients = {
  other: await other.createClient({ preset, wasm: module, env: {}, fetch: canned }),
  this: await current.createClient({ preset, wasm: module, env: {}, fetch: canned }),
};
const config = new oidc.Configuration({ issuer: "http://127.0.0.1:9", token_endpoint: "http://127.0.0.1:9/token" },
  "svc-id", "svc-secret", oidc.ClientSecretBasic());
oidc.allowInsecureRequests(config);
config[oidc.customFetch] = canned;

const loops = {
  other: () => fetchLoop(clients.other),
  this: () => fetchLoop(clients.this),
  openid_client: async () => {
    const t0 = now();
    for (let i = 0; i < OPS; i++) {
      const t = await oidc.clientCredentialsGrant(config);
      if (!t.access_token) throw new Error("no token");
    }
    return (now() - t0) / OPS;
  },
};
async function fetchLoop(client) {
  const t0 = now();
  for (let i = 0; i < OPS; i++) {
    await client.invalidate("svc");
    const t = await client.token("svc");
    if (!t.accessToken) throw new Error("no token");
  }
  return (now() - t0) / OPS;
}
async function cachedLoop(client) {
  const t0 = now();
  for (let i = 0; i < CACHED_OPS; i++) await client.token("svc");
  return ((now() - t0) / CACHED_OPS) * 1e3; // ns
}

const names = Object.keys(loops);
for (let i = 0; i < 10; i++) for (const n of names) await loops[n](); // warm-up, V8's tier-up
const r = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 ? [...names].reverse() : names) r[n].push(await loops[n]());
}
const cached = { other: [], this: [] };
for (let round = 0; round < 6; round++) {
  for (const n of round % 2 ? ["this", "other"] : ["other", "this"]) cached[n].push(await cachedLoop(clients[n]));
}
for (const c of Object.values(clients)) c.close();

fig("compare_no_network_other_us", median(r.other).toFixed(1), "us/op");
fig("compare_no_network_this_us", median(r.this).toFixed(1), "us/op");
fig("compare_no_network_openid_client_us", median(r.openid_client).toFixed(1), "us/op");
fig("compare_no_network_this_vs_other_paired", median(r.this.map((v, i) => v / r.other[i])).toFixed(3), "ratio");
fig("compare_no_network_other_ratio_vs_openid_client", (median(r.other) / median(r.openid_client)).toFixed(2), "ratio");
fig("compare_no_network_this_ratio_vs_openid_client", (median(r.this) / median(r.openid_client)).toFixed(2), "ratio");
fig("compare_cached_other_ns", median(cached.other).toFixed(0), "ns/op");
fig("compare_cached_this_ns", median(cached.this).toFixed(0), "ns/op");
