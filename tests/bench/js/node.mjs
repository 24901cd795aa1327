// The JavaScript host's speed in Node.js, against openid-client v6 measured
// in the same process. Prints "name value unit" lines on stdout, progress on
// stderr; asserts no timing (tests/bench/README.md lists the targets).
//
//   node node.mjs speed        cached token, one token fetch, client start
//   node node.mjs start-sample one createClient from the wasm bytes in a
//                              fresh process (compilation included); prints
//                              "start_ms <ms>" and "start_cpu_ms <ms>"
//
// Both clients use Node's global fetch (undici) against the same local token
// endpoint (token-server.mjs, a process of its own) and send the client's
// credentials in a Basic header, cctoken's default.
//
// Environment (all optional):
//   JS_CACHED_ITERS  calls per timed loop of the cached-token figures (1e6)
//   JS_CACHED_ROUNDS timed loops of each kind, interleaved; medians (5)
//   JS_FETCH_ITERS   timed token fetches of each kind; medians (300)
//   JS_FETCH_WARMUP  untimed token fetches of each kind first, at least (200)
//   JS_FETCH_WARMUP_MAX_MS  longest warm-up (15000)
//   JS_START_RUNS    createClient samples with a compiled module (10)
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { hrtime } from "node:process";

import * as oidc from "openid-client";

import { createClient } from "../../../js/cctoken.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const wasmPath = path.join(root, "host/embed/cctoken.wasm");

const CACHED_ITERS = intEnv("JS_CACHED_ITERS", 1_000_000);
const CACHED_ROUNDS = intEnv("JS_CACHED_ROUNDS", 5);
const FETCH_ITERS = intEnv("JS_FETCH_ITERS", 300);
const FETCH_WARMUP = intEnv("JS_FETCH_WARMUP", 200);
const FETCH_WARMUP_MAX_MS = intEnv("JS_FETCH_WARMUP_MAX_MS", 15_000);
const START_RUNS = intEnv("JS_START_RUNS", 10);

function intEnv(name, def) {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : def;
}

const TOKEN_BODY = JSON.stringify({
  access_token: "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH", token_type: "Bearer", expires_in: 3600,
});

const log = (...a) => console.error("==", ...a);
const fig = (name, value, unit) => console.log(`${name} ${value} ${unit}`);
const fmt = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "NaN");
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : "NaN");

function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const now = () => hrtime.bigint();
const msSince = (t0) => Number(now() - t0) / 1e6;
/**
 * CPU time of the main thread in µs, from Linux's schedstat (NaN
 * elsewhere). The kernel brings a running thread's figure up to date only
 * at scheduler events, so it can lag by a scheduler tick: good for spans
 * of a hundred milliseconds or more, not for one operation.
 */
function threadCpuUs() {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e3;
  } catch {
    return NaN;
  }
}
/** CPU time of the whole process (every thread: V8 compiles wasm in the background) since c0, in ms. */
const cpuMsSince = (c0) => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e3;
};

/** The preset of one user, svc, at url (the Go benchmarks' preset). */
function preset(url) {
  return `preset:
- type: oauth_client_credentials
  url: ${url}/token
  users:
  - username: svc
    client_id: svc-id
    client_secret: svc-secret
`;
}

/** Starts token-server.mjs; resolves to its base URL and a stop function. */
async function startTokenServer() {
  const child = spawn(process.execPath, [path.join(here, "token-server.mjs")], { stdio: ["pipe", "pipe", "inherit"] });
  let buf = "";
  child.stdout.setEncoding("utf8");
  const url = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`token server exited (${code})`)));
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
  });
  return { url, stop: () => { child.stdin.end(); child.kill("SIGTERM"); } };
}

async function hits(url) {
  return Number(await (await fetch(`${url}/hits`)).text());
}

/** openid-client's Configuration for the same endpoint and client: no discovery, plain http allowed. */
function peerConfig(url) {
  const config = new oidc.Configuration(
    { issuer: url, token_endpoint: `${url}/token` },
    "svc-id",
    "svc-secret",
    oidc.ClientSecretBasic(),
  );
  oidc.allowInsecureRequests(config);
  return config;
}

// ---------------------------------------------------------------------------
// 2. A cached token against reading a variable.

// Written by every timed loop so that none of them is optimised away.
let sink;

async function cachedLoop(client, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) sink = await client.token("svc");
  return Number(now() - t0) / n;
}

function rawFloorLoop(held, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) sink = held;
  return Number(now() - t0) / n;
}

async function awaitFloorLoop(held, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) sink = await held;
  return Number(now() - t0) / n;
}

// token() is an async method: the fairest floor is an async function that
// only returns the variable.
async function getHeld(held) { return held; }
async function asyncFnFloorLoop(held, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) sink = await getHeld(held);
  return Number(now() - t0) / n;
}

async function benchCached(module, url) {
  log(`cached token: ${CACHED_ROUNDS} rounds of ${CACHED_ITERS} calls each, interleaved`);
  const client = await createClient({ preset: preset(url), wasm: module, env: {} });
  const first = await client.token("svc");
  if (!first.accessToken) throw new Error("cctoken gave no token");
  const held = await oidc.clientCredentialsGrant(peerConfig(url));
  if (!held.access_token) throw new Error("openid-client gave no token");
  const before = await hits(url);

  // Warm-up: let every loop reach optimised code before timing.
  const warm = Math.min(100_000, CACHED_ITERS);
  await cachedLoop(client, warm);
  rawFloorLoop(held, warm);
  await awaitFloorLoop(held, warm);
  await asyncFnFloorLoop(held, warm);

  const r = { cct: [], raw: [], aw: [], fn: [] };
  for (let round = 0; round < CACHED_ROUNDS; round++) {
    const steps = [
      async () => r.cct.push(await cachedLoop(client, CACHED_ITERS)),
      async () => r.raw.push(rawFloorLoop(held, CACHED_ITERS)),
      async () => r.aw.push(await awaitFloorLoop(held, CACHED_ITERS)),
      async () => r.fn.push(await asyncFnFloorLoop(held, CACHED_ITERS)),
    ];
    if (round % 2) steps.reverse();
    for (const s of steps) await s();
  }
  const endpointHits = (await hits(url)) - before;
  client.close();

  const cct = median(r.cct), raw = median(r.raw), aw = median(r.aw), fn = median(r.fn);
  fig("js_cached_token_ns", fmt(cct), "ns/op");
  fig("js_cached_token_floor_raw_ns", fmt(raw), "ns/op");
  fig("js_cached_token_floor_await_ns", fmt(aw), "ns/op");
  fig("js_cached_token_floor_async_fn_ns", fmt(fn), "ns/op");
  fig("js_cached_token_ratio_vs_floor_await", ratio(cct, aw), "ratio");
  fig("js_cached_token_ratio_vs_floor_async_fn", ratio(cct, fn), "ratio");
  fig("js_cached_token_ratio_vs_floor_raw", ratio(cct, raw), "ratio");
  fig("js_cached_token_endpoint_hits", endpointHits, "hits");
}

// ---------------------------------------------------------------------------
// 3. One token request per operation.

async function benchFetch(module, url) {
  log(`token fetch: ${FETCH_ITERS} timed operations of each kind, interleaved in rounds of 10`);
  const client = await createClient({ preset: preset(url), wasm: module, env: {} });
  const config = peerConfig(url);
  const basic = `Basic ${Buffer.from("svc-id:svc-secret").toString("base64")}`;

  // The same two clients with a fetch that answers at once with the token
  // endpoint's response, made up in this process: what each client itself
  // costs per token, without the network and the server.
  const canned = () => Promise.resolve(new Response(TOKEN_BODY, {
    status: 200, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  }));
  const cannedClient = await createClient({ preset: preset(url), wasm: module, env: {}, fetch: canned });
  const cannedConfig = peerConfig(url);
  cannedConfig[oidc.customFetch] = canned;

  const kinds = {
    // What the figure is: drop the cached token, then get a new one (the
    // module's invalidate, token and resume calls around one fetch).
    cctoken: async () => {
      await client.invalidate("svc");
      const t = await client.token("svc");
      if (!t.accessToken) throw new Error("no token");
    },
    openid_client: async () => {
      const t = await oidc.clientCredentialsGrant(config);
      if (!t.access_token) throw new Error("no token");
    },
    // Breakdown: both clients with the canned answer instead of the network …
    cctoken_no_network: async () => {
      await cannedClient.invalidate("svc");
      const t = await cannedClient.token("svc");
      if (!t.accessToken) throw new Error("no token");
    },
    openid_client_no_network: async () => {
      const t = await oidc.clientCredentialsGrant(cannedConfig);
      if (!t.access_token) throw new Error("no token");
    },
    // … invalidate alone (one module call, no request) …
    invalidate_only: async () => {
      await client.invalidate("svc");
    },
    // … and the request both clients make, sent with bare fetch and the
    // answer parsed: the floor they share.
    bare_fetch: async () => {
      const res = await fetch(`${url}/token`, {
        method: "POST",
        headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: "grant_type=client_credentials",
      });
      const t = JSON.parse(await res.text());
      if (!t.access_token) throw new Error("no token");
    },
  };
  const names = Object.keys(kinds);
  const samples = Object.fromEntries(names.map((n) => [n, []]));

  // Warm-up: V8 compiles each wasm function on its first call and tiers hot
  // ones up with its optimising compiler on background threads, which for
  // this module goes on for seconds and takes a core. Timing starts once
  // that has settled (CPU off the main thread at most a quarter of the main
  // thread's over two batches in a row), after at least FETCH_WARMUP
  // operations of each kind and at most FETCH_WARMUP_MAX_MS. The timed
  // part's share of CPU off the main thread is reported too.
  const warmStart = Date.now();
  let warmOps = 0, calm = 0, bgShare = NaN;
  for (;;) {
    const p0 = process.cpuUsage(), m0 = threadCpuUs();
    for (let i = 0; i < 25; i++) for (const n of names) await kinds[n]();
    warmOps += 25;
    const mainUs = threadCpuUs() - m0;
    bgShare = (cpuMsSince(p0) * 1e3 - mainUs) / mainUs;
    calm = !(bgShare > 0.25) ? calm + 1 : 0; // NaN (no /proc) counts as calm
    if ((warmOps >= FETCH_WARMUP && calm >= 2) || Date.now() - warmStart > FETCH_WARMUP_MAX_MS) break;
  }
  log(`token fetch warm-up: ${warmOps} operations of each kind in ${Date.now() - warmStart} ms; ` +
    `background CPU ${fmt(100 * bgShare, 0)}% of the main thread's in the last batch`);
  const hitsBefore = await hits(url);

  const p0 = process.cpuUsage(), m0 = threadCpuUs();
  const ROUND = 10;
  for (let round = 0; round * ROUND < FETCH_ITERS; round++) {
    const order = round % 2 ? [...names].reverse() : names;
    for (const n of order) {
      for (let i = 0; i < ROUND && round * ROUND + i < FETCH_ITERS; i++) {
        const t0 = now();
        await kinds[n]();
        samples[n].push(Number(now() - t0) / 1e3);
      }
    }
  }
  const mainUs = threadCpuUs() - m0;
  const backgroundPct = 100 * (cpuMsSince(p0) * 1e3 - mainUs) / mainUs;
  const endpointHits = (await hits(url)) - hitsBefore;
  client.close();
  cannedClient.close();

  const m = Object.fromEntries(names.map((n) => [n, median(samples[n])]));
  fig("js_token_fetch_us", fmt(m.cctoken, 1), "us/op");
  fig("js_token_fetch_openid_client_us", fmt(m.openid_client, 1), "us/op");
  fig("js_token_fetch_ratio_vs_openid_client", ratio(m.cctoken, m.openid_client), "ratio");
  fig("js_token_fetch_no_network_us", fmt(m.cctoken_no_network, 1), "us/op");
  fig("js_token_fetch_openid_client_no_network_us", fmt(m.openid_client_no_network, 1), "us/op");
  fig("js_token_fetch_no_network_ratio_vs_openid_client", ratio(m.cctoken_no_network, m.openid_client_no_network), "ratio");
  fig("js_token_fetch_invalidate_only_us", fmt(m.invalidate_only, 1), "us/op");
  fig("js_token_fetch_bare_fetch_us", fmt(m.bare_fetch, 1), "us/op");
  fig("js_token_fetch_warmup_ops", warmOps, "ops");
  fig("js_token_fetch_background_cpu_pct", fmt(backgroundPct, 0), "%");
  // Three kinds send one request per operation.
  fig("js_token_fetch_endpoint_hits_per_op", fmt(endpointHits / (3 * FETCH_ITERS)), "hits/op");
}

// ---------------------------------------------------------------------------
// 4. createClient with the module already compiled.
//
// V8 compiles wasm lazily (Node 20: --wasm-lazy-compilation is on):
// WebAssembly.compile only checks the module (client_start_compile_call_ms)
// and each function is compiled on its first call. So the first createClient
// of a module (client_start_first_*) also compiles everything the Go
// runtime's start-up and the preset load run; later ones reuse that code.

async function benchStart(module, url, compileMs) {
  log(`client start: ${START_RUNS} createClient calls with a compiled module`);
  const times = [], cpus = [];
  let firstMs, firstCpuMs;
  for (let i = 0; i <= START_RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    const c = await createClient({ preset: preset(url), wasm: module, env: {} });
    const ms = msSince(t0);
    const cpu = cpuMsSince(c0);
    c.close();
    if (i === 0) {
      firstMs = ms;
      firstCpuMs = cpu;
    } else {
      times.push(ms);
      cpus.push(cpu);
    }
  }
  fig("client_start_compile_call_ms", fmt(compileMs), "ms");
  fig("client_start_first_ms", fmt(firstMs), "ms");
  fig("client_start_first_cpu_ms", fmt(firstCpuMs), "ms");
  fig("client_start_ms", fmt(median(times)), "ms");
  fig("client_start_cpu_ms", fmt(median(cpus)), "ms");
}

// ---------------------------------------------------------------------------

async function speed() {
  const server = await startTokenServer();
  try {
    const bytes = fs.readFileSync(wasmPath);
    const t0 = now();
    const module = await WebAssembly.compile(bytes);
    const compileMs = msSince(t0);
    await benchStart(module, server.url, compileMs);
    await benchFetch(module, server.url);
    await benchCached(module, server.url);
  } finally {
    server.stop();
  }
}

/**
 * One createClient from the wasm bytes, the first compilation of this
 * process (V8 reuses a module compiled from the same bytes in a process, so
 * only a fresh process shows the whole cost). Reading the file is left out.
 * No request is made: the URL is never contacted by createClient.
 */
async function startSample() {
  const bytes = fs.readFileSync(wasmPath);
  const c0 = process.cpuUsage();
  const t0 = now();
  const c = await createClient({ preset: preset("http://127.0.0.1:9"), wasm: bytes, env: {} });
  const ms = msSince(t0);
  const cpu = cpuMsSince(c0);
  c.close();
  console.log(`start_ms ${fmt(ms)}`);
  console.log(`start_cpu_ms ${fmt(cpu)}`);
}

const mode = process.argv[2];
if (mode === "speed") await speed();
else if (mode === "start-sample") await startSample();
else {
  console.error("usage: node node.mjs speed|start-sample");
  process.exit(2);
}
