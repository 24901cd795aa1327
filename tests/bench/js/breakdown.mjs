// Where the JavaScript host's no-network token fetch goes: the same
// operation as node.mjs's cctoken_no_network (invalidate, then token with a
// fetch that answers at once), split into the module's calls, the WASI
// imports they make, the fetch, and the host's own JavaScript, plus the
// JSON of those calls and answers timed on its own. Prints "name value
// unit" lines on stdout; asserts nothing (tests/bench/README.md).
//
//   node breakdown.mjs [operations]      (default 20000, after 3000 untimed)
//
// CCTOKEN_JS names another cctoken.js to measure (an older one, to compare).
//
// It wraps, from outside js/cctoken.js, what the host calls: the module's
// exports (through a WebAssembly.Instance that hands out wrapped exports),
// the WASI imports (each a wrapper timing its call, nested inside the
// module's time) and the fetch option. The wrappers cost a little each, so
// the parts add up to a bit more than the plain operation (reported as
// breakdown_op_plain_us, timed without them in the same process).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmPath = path.resolve(here, "../../../host/embed/cctoken.wasm");
const OPS = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : 20_000;
const WARM = 3_000;
const { createClient } = await import(process.env.CCTOKEN_JS
  ? pathToFileURL(path.resolve(process.env.CCTOKEN_JS)).href
  : "../../../js/cctoken.js");

const TOKEN_BODY = JSON.stringify({
  access_token: "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH", token_type: "Bearer", expires_in: 3600,
});
const canned = () => Promise.resolve(new Response(TOKEN_BODY, {
  status: 200, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
}));
const preset = `preset:
- type: oauth_client_credentials
  url: http://127.0.0.1:9/token
  users:
  - username: svc
    client_id: svc-id
    client_secret: svc-secret
`;

const fig = (name, value, unit) => console.log(`${name} ${value} ${unit}`);
const now = () => performance.now() * 1e3; // µs

// Accumulated µs and counts, reset before the timed loop.
const acc = { call: 0, calls: 0, buffer: 0, imports: 0, importCalls: 0, fetch: 0 };
const importCounts = {};
/** The last calls and answers, as text, for the JSON figures. */
const seen = { calls: [], answers: [] };
let timing = false;

const Plain = WebAssembly.Instance;
/** A WebAssembly.Instance whose imports and exports are timed. */
function Timed(module, imports) {
  const wrapped = {};
  for (const [name, fn] of Object.entries(imports.wasi_snapshot_preview1)) {
    wrapped[name] = (...args) => {
      const t0 = now();
      try {
        return fn(...args);
      } finally {
        acc.imports += now() - t0;
        acc.importCalls++;
        if (timing) importCounts[name] = (importCounts[name] ?? 0) + 1;
      }
    };
  }
  const inst = new Plain(module, { wasi_snapshot_preview1: wrapped });
  const ex = { ...inst.exports };
  const mem = inst.exports.memory;
  let ptr = 0;
  ex.cctoken_buffer = (n) => {
    const t0 = now();
    ptr = inst.exports.cctoken_buffer(n) >>> 0;
    acc.buffer += now() - t0;
    return ptr;
  };
  ex.cctoken_call = (n) => {
    if (!timing) seen.calls.push(new TextDecoder().decode(new Uint8Array(mem.buffer, ptr, n)));
    const t0 = now();
    const r = inst.exports.cctoken_call(n);
    acc.call += now() - t0;
    acc.calls++;
    if (!timing) {
      const v = BigInt.asUintN(64, BigInt(r));
      seen.answers.push(new TextDecoder().decode(new Uint8Array(mem.buffer, Number(v >> 32n), Number(v & 0xffffffffn))));
    }
    return r;
  };
  return { exports: ex };
}

const module = await WebAssembly.compile(fs.readFileSync(wasmPath));

async function loop(client, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) {
    await client.invalidate("svc");
    const t = await client.token("svc");
    if (!t.accessToken) throw new Error("no token");
  }
  return (now() - t0) / n;
}

// The plain operation, no wrappers.
const plain = await createClient({ preset, wasm: module, env: {}, fetch: canned });
await loop(plain, WARM);

// The same with every boundary timed.
WebAssembly.Instance = Timed;
const timedFetch = (input, init) => {
  const t0 = now();
  const p = canned(input, init);
  acc.fetch += now() - t0;
  return p;
};
const client = await createClient({ preset, wasm: module, env: {}, fetch: timedFetch });
WebAssembly.Instance = Plain;
await loop(client, WARM);
const lastCalls = seen.calls.slice(-3), lastAnswers = seen.answers.slice(-3);

for (const k of Object.keys(acc)) acc[k] = 0;
timing = true;
const op = await loop(client, OPS);
timing = false;
const plainOp = await loop(plain, OPS);

// JSON of the three calls and answers alone: what the host does around
// each call (stringify, encode; decode, parse), on the same texts.
const enc = new TextEncoder(), dec = new TextDecoder();
const objs = lastCalls.map((s) => JSON.parse(s));
const bytes = lastAnswers.map((s) => enc.encode(s));
let sink;
const codec = () => {
  for (const o of objs) sink = enc.encode(JSON.stringify(o));
  for (const b of bytes) sink = JSON.parse(dec.decode(b));
};
for (let i = 0; i < WARM; i++) codec();
let t0 = now();
for (let i = 0; i < OPS; i++) codec();
const jsonUs = (now() - t0) / OPS;

const per = (v) => (v / OPS).toFixed(1);
const module_ = (acc.call + acc.buffer - acc.imports) / OPS;
const fetchUs = acc.fetch / OPS;
const importsUs = acc.imports / OPS;
fig("breakdown_op_plain_us", plainOp.toFixed(1), "us/op");
fig("breakdown_op_timed_us", op.toFixed(1), "us/op");
fig("breakdown_module_calls_per_op", (acc.calls / OPS).toFixed(1), "calls");
fig("breakdown_module_us", module_.toFixed(1), "us/op");
fig("breakdown_wasi_imports_us", importsUs.toFixed(1), "us/op");
fig("breakdown_wasi_import_calls_per_op", (acc.importCalls / OPS).toFixed(1), "calls");
for (const [name, n] of Object.entries(importCounts)) fig(`breakdown_wasi_${name}_per_op`, (n / OPS).toFixed(1), "calls");
fig("breakdown_fetch_call_us", fetchUs.toFixed(1), "us/op");
fig("breakdown_host_js_us", (op - module_ - importsUs - fetchUs).toFixed(1), "us/op");
fig("breakdown_host_json_us", jsonUs.toFixed(1), "us/op");
fig("breakdown_call_bytes", lastCalls.map((s) => enc.encode(s).length).join("+"), "bytes");
fig("breakdown_answer_bytes", lastAnswers.map((s) => enc.encode(s).length).join("+"), "bytes");
void per;
plain.close();
client.close();
