// Where the JavaScript host's no-network token fetch goes: the same
// operation as node.mjs's cctoken_no_network (invalidate, then token with a
// fetch that answers at once), split into the module's calls, the WASI
// imports they make, the fetch, and the host's own JavaScript; pieces of
// the host's work timed on their own (the JSON of those calls and answers,
// the timeout's AbortController and timer, reading the body); and the
// operation right after the event loop was idle, beside openid-client's;
// and the operation against a local token endpoint, with each of the
// module's calls timed.
// Prints "name value unit" lines on stdout; asserts nothing
// (tests/bench/README.md).
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
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TOKEN_BODY, canned, fig, now, preset } from "./canned.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmPath = path.resolve(here, "../../../host/embed/cctoken.wasm");
const OPS = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : 20_000;
const WARM = 3_000;
const { createClient } = await import(process.env.CCTOKEN_JS
  ? pathToFileURL(path.resolve(process.env.CCTOKEN_JS)).href
  : "../../../js/cctoken.js");



// Accumulated µs and counts, reset before the timed loop.
const acc = { call: 0, calls: 0, buffer: 0, imports: 0, importCalls: 0, fetch: 0 };
const importCounts = {};
/** The last calls and answers, as text, for the JSON figures. */
const seen = { calls: [], answers: [] };
let timing = false;
/** When set, every cctoken_call's time is pushed onto it. */
let callLog = null;

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
    callLog?.push(now() - t0);
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
// Taken now: the network part below goes through the same wrappers.
const module_ = (acc.call + acc.buffer - acc.imports) / OPS;
const fetchUs = acc.fetch / OPS;
const importsUs = acc.imports / OPS;
const callsPerOp = acc.calls / OPS, importCallsPerOp = acc.importCalls / OPS;
const plainOp = await loop(plain, OPS);

// Pieces of the host's work timed on their own, each in a loop of OPS.
async function each(fn) {
  for (let i = 0; i < WARM; i++) await fn();
  const t0 = now();
  for (let i = 0; i < OPS; i++) await fn();
  return (now() - t0) / OPS;
}
let sink;
// JSON of the three calls and answers, as the host does it around each
// call: stringify and encodeInto a buffer; decode and parse.
const enc = new TextEncoder(), dec = new TextDecoder();
// A resume call carries the token response after its JSON text
// (body_bytes): the JSON is what comes before those bytes.
const jsonOf = (s) => {
  const m = /"body_bytes":(\d+)/.exec(s);
  if (!m) return s;
  const b = enc.encode(s);
  return dec.decode(b.subarray(0, b.length - Number(m[1])));
};
const objs = lastCalls.map((s) => JSON.parse(jsonOf(s)));
const bytes = lastAnswers.map((s) => enc.encode(s));
const scratch = new Uint8Array(4096);
const jsonUs = await each(() => {
  for (const o of objs) sink = enc.encodeInto(JSON.stringify(o), scratch);
  for (const b of bytes) sink = JSON.parse(dec.decode(b));
});
// The fetch bridge's timeout: an AbortController and a timer set and cleared.
const abortUs = await each(() => {
  const c = new AbortController();
  const t = setTimeout(() => c.abort(), 30_000);
  sink = c.signal;
  clearTimeout(t);
});
// Reading the canned answer's body (a ReadableStream) as the host does,
// less making the Response (timed alone, the fetch call above).
const responseUs = await each(() => { sink = new Response(TOKEN_BODY, { status: 200 }); });
const readUs = await each(async () => {
  const reader = new Response(TOKEN_BODY, { status: 200 }).body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    sink = dec.decode(value);
  }
}) - responseUs;

// After the event loop has been idle: the bench interleaves kinds, so each
// batch of no-network fetches starts after real requests (the process
// waited on a socket). Medians of the first operation after an idle wait,
// for cctoken and openid-client with the same canned fetch.
const oidc = await import("openid-client");
const config = new oidc.Configuration({ issuer: "http://127.0.0.1:9", token_endpoint: "http://127.0.0.1:9/token" },
  "svc-id", "svc-secret", oidc.ClientSecretBasic());
oidc.allowInsecureRequests(config);
config[oidc.customFetch] = canned;
const peerOp = async () => {
  const t = await oidc.clientCredentialsGrant(config);
  if (!t.access_token) throw new Error("no token");
};
const cctOp = async () => {
  await plain.invalidate("svc");
  const t = await plain.token("svc");
  if (!t.accessToken) throw new Error("no token");
};
for (let i = 0; i < WARM; i++) await peerOp();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const idle = {};
for (const ms of [0, 1, 5]) {
  const c = [], o = [];
  for (let i = 0; i < 100; i++) {
    for (const [op, out] of i % 2 ? [[cctOp, c], [peerOp, o]] : [[peerOp, o], [cctOp, c]]) {
      await new Promise((r) => (ms ? setTimeout(r, ms) : setImmediate(r)));
      const t0 = now();
      await op();
      out.push(now() - t0);
    }
  }
  idle[ms] = [median(c), median(o)];
}

// With the network: the same operation against token-server.mjs (a process
// of its own, as in node.mjs), alternately with openid-client's, and each
// of the module's three calls timed: the resume call comes after the
// process waited on the socket.
const server = spawn(process.execPath, [path.join(here, "token-server.mjs")], { stdio: ["pipe", "pipe", "inherit"] });
const serverURL = await new Promise((resolve, reject) => {
  server.once("exit", (code) => reject(new Error(`token server exited (${code})`)));
  let buf = "";
  server.stdout.setEncoding("utf8");
  server.stdout.on("data", (d) => {
    buf += d;
    if (buf.includes("\n")) resolve(buf.slice(0, buf.indexOf("\n")));
  });
});
const net = {};
try {
  WebAssembly.Instance = Timed;
  const netClient = await createClient({ preset: preset.replace("http://127.0.0.1:9", serverURL), wasm: module, env: {} });
  WebAssembly.Instance = Plain;
  const netConfig = new oidc.Configuration({ issuer: serverURL, token_endpoint: `${serverURL}/token` },
    "svc-id", "svc-secret", oidc.ClientSecretBasic());
  oidc.allowInsecureRequests(netConfig);
  const netOps = {
    cctoken: async () => {
      await netClient.invalidate("svc");
      const t = await netClient.token("svc");
      if (!t.accessToken) throw new Error("no token");
    },
    openid_client: async () => {
      const t = await oidc.clientCredentialsGrant(netConfig);
      if (!t.access_token) throw new Error("no token");
    },
  };
  const NET_OPS = Math.min(OPS, 1000);
  for (let i = 0; i < Math.min(WARM, 1500); i++) for (const f of Object.values(netOps)) await f();
  const times = { cctoken: [], openid_client: [] };
  const calls = [];
  for (let i = 0; i < NET_OPS; i++) {
    for (const [name, f] of Object.entries(netOps)) {
      const t0 = now();
      if (name === "cctoken") callLog = [];
      await f();
      times[name].push(now() - t0);
      if (name === "cctoken") calls.push(callLog);
      callLog = null;
    }
  }
  netClient.close();
  net.op = median(times.cctoken);
  net.peer = median(times.openid_client);
  net.calls = ["invalidate", "token", "resume"].map((_, k) => median(calls.map((c) => c[k])));
} finally {
  server.stdin.end();
  server.kill("SIGTERM");
}

fig("breakdown_op_plain_us", plainOp.toFixed(1), "us/op");
fig("breakdown_op_timed_us", op.toFixed(1), "us/op");
fig("breakdown_module_calls_per_op", callsPerOp.toFixed(1), "calls");
fig("breakdown_module_us", module_.toFixed(1), "us/op");
fig("breakdown_wasi_imports_us", importsUs.toFixed(1), "us/op");
fig("breakdown_wasi_import_calls_per_op", importCallsPerOp.toFixed(1), "calls");
for (const [name, n] of Object.entries(importCounts)) fig(`breakdown_wasi_${name}_per_op`, (n / OPS).toFixed(1), "calls");
fig("breakdown_fetch_call_us", fetchUs.toFixed(1), "us/op");
fig("breakdown_host_js_us", (op - module_ - importsUs - fetchUs).toFixed(1), "us/op");
fig("breakdown_host_json_us", jsonUs.toFixed(1), "us/op");
fig("breakdown_host_abort_timer_us", abortUs.toFixed(1), "us/op");
fig("breakdown_host_read_body_us", readUs.toFixed(1), "us/op");
fig("breakdown_call_bytes", lastCalls.map((s) => enc.encode(s).length).join("+"), "bytes");
fig("breakdown_answer_bytes", lastAnswers.map((s) => enc.encode(s).length).join("+"), "bytes");
for (const ms of [0, 1, 5]) {
  fig(`breakdown_after_idle_${ms}ms_us`, idle[ms][0].toFixed(1), "us/op");
  fig(`breakdown_after_idle_${ms}ms_openid_client_us`, idle[ms][1].toFixed(1), "us/op");
  fig(`breakdown_after_idle_${ms}ms_ratio_vs_openid_client`, (idle[ms][0] / idle[ms][1]).toFixed(2), "ratio");
}
fig("breakdown_network_op_us", net.op.toFixed(1), "us/op");
fig("breakdown_network_openid_client_us", net.peer.toFixed(1), "us/op");
fig("breakdown_network_ratio_vs_openid_client", (net.op / net.peer).toFixed(2), "ratio");
["invalidate", "token", "resume"].forEach((name, k) => fig(`breakdown_network_module_${name}_us`, net.calls[k].toFixed(1), "us"));
fig("breakdown_network_module_us", net.calls.reduce((a, b) => a + b, 0).toFixed(1), "us/op");
plain.close();
client.close();
