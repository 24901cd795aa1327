// The signing worker's benchmarks: one workerd serving the same worker
// twice (signing on, and signing off = plain pass-through), the same
// upstream behind both, node-oidc-provider as the token endpoint; all on
// 127.0.0.1. Prints "name value unit" lines on stdout.
//
//   throughput: ROUNDS rounds, each sending REQUESTS requests with
//   CONCURRENCY in flight through the signed socket and then through the
//   plain one (alternating which goes first); medians of the rounds.
//   cold start: COLD_RUNS fresh workerd processes each, from spawn to the
//   first 200 through the signing worker (module compile, preset load and
//   token fetch included), and to the first 200 with signing off.

import http from "node:http";

import { closeAll, startOIDC } from "../../../js/test-support/helpers.js";
import { freePort, startUpstream, startWorkerd, stopAllWorkerd, tempConfig } from "../../../edge/test-support/harness.mjs";

const num = (name, def) => Number(process.env[name] ?? def);
const ROUNDS = num("EDGE_ROUNDS", 5);
const REQUESTS = num("EDGE_REQUESTS", 2000);
const CONCURRENCY = num("EDGE_CONCURRENCY", 16);
const COLD_RUNS = num("EDGE_COLD_RUNS", 5);

const fig = (name, value, unit) => console.log(`${name} ${Number.isInteger(value) ? value : value.toFixed(3)} ${unit}`);
const log = (msg) => process.stderr.write(`== ${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const KEY = "bench-inbound-key-0123456789";

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { "x-cctoken-key": KEY } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
  });
}

/** REQUESTS requests, CONCURRENCY at a time; requests per second and latencies in ms. */
async function round(url) {
  const lat = [];
  let next = 0;
  let bad = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      next++;
      const s = performance.now();
      if ((await get(url)) !== 200) bad++;
      lat.push(performance.now() - s);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  if (bad) throw new Error(`${bad} requests to ${url} did not answer 200`);
  return { rps: REQUESTS / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function main() {
  const oidc = await startOIDC({
    clients: [{ client_id: "svc-client", client_secret: "bench-secret-0123456789", token_endpoint_auth_method: "client_secret_basic" }],
    access_token_ttl: 3600,
  });
  const upstream = await startUpstream(); // checks nothing: both paths cost it the same
  upstream.seen.length = 0;
  const preset = JSON.stringify({
    preset: [{ type: "oauth_client_credentials", url: oidc.token_endpoint, users: [{ username: "svc", client_id: "svc-client", client_secret: "bench-secret-0123456789" }] }],
  });
  const routes = JSON.stringify([{ path: "/", user: "svc", upstream: upstream.url }]);
  const plainPort = await freePort();
  const worker = (name, signing) => `(name = "${name}", worker = (
      modules = MODULES,
      compatibilityDate = "2026-11-01",
      bindings = [
        (name = "PRESET", text = ${JSON.stringify(preset)}),
        (name = "ROUTES", text = ${JSON.stringify(routes)}),
        (name = "INBOUND_KEY", text = "${KEY}"),
        (name = "SIGNING", text = "${signing}"),
      ],
      globalOutbound = "outbound",
    ))`;
  const cfg = await tempConfig(({ modules }) => `
const config :Workerd.Config = (
  services = [
    ${worker("signed", "on").replace("MODULES", modules)},
    ${worker("plain", "off").replace("MODULES", modules)},
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [
    (name = "signed", address = "127.0.0.1:0", http = (), service = "signed"),
    (name = "plain", address = "127.0.0.1:${plainPort}", http = (), service = "plain"),
  ],
);`);
  try {
    log(`throughput: ${ROUNDS} rounds of ${REQUESTS} requests, ${CONCURRENCY} in flight`);
    const w = await startWorkerd({ config: cfg.file, socket: "signed" });
    const signedURL = `${w.url}/bench`;
    const plainURL = `http://127.0.0.1:${plainPort}/bench`;
    // Warm-up: the token is fetched once, both isolates are hot.
    await round(signedURL);
    await round(plainURL);
    const signed = [];
    const plain = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 ? [[plain, plainURL], [signed, signedURL]] : [[signed, signedURL], [plain, plainURL]];
      for (const [into, url] of order) into.push(await round(url));
    }
    const tokenRequests = (await oidc.stats()).total;
    await w.stop();
    const s = (k, xs) => median(xs.map((r) => r[k]));
    fig("edge_signed_rps", s("rps", signed), "req/s");
    fig("edge_plain_rps", s("rps", plain), "req/s");
    fig("edge_signed_throughput_ratio_vs_plain", s("rps", signed) / s("rps", plain), "x");
    // Each round's signed and plain halves ran back to back, so their ratio
    // sees the same machine load; the median of those is the steadier figure.
    fig("edge_signed_throughput_ratio_paired", median(signed.map((r, i) => r.rps / plain[i].rps)), "x");
    fig("edge_signed_p50_ms", s("p50", signed), "ms");
    fig("edge_plain_p50_ms", s("p50", plain), "ms");
    fig("edge_signed_p99_ms", s("p99", signed), "ms");
    fig("edge_plain_p99_ms", s("p99", plain), "ms");
    fig("edge_token_requests", tokenRequests, "requests");

    log(`cold start: ${COLD_RUNS} fresh workerd processes each way`);
    const cold = { on: [], off: [] };
    for (let i = 0; i < COLD_RUNS; i++) {
      for (const signing of ["on", "off"]) {
        await oidc.reset();
        const port = await freePort();
        const t0 = performance.now();
        const proc = await startWorkerd({
          env: { CCTOKEN_PRESET: preset, CCTOKEN_ROUTES: routes, CCTOKEN_INBOUND_KEY: KEY, CCTOKEN_SIGNING: signing },
          port,
          probe: `http://127.0.0.1:${port}/bench`,
          probeHeaders: { "x-cctoken-key": KEY },
        });
        cold[signing].push(proc.firstOK - t0);
        await proc.stop();
      }
    }
    fig("edge_cold_start_signed_ms", median(cold.on), "ms");
    fig("edge_cold_start_plain_ms", median(cold.off), "ms");
    fig("edge_cold_start_signing_cost_ms", median(cold.on) - median(cold.off), "ms");
  } finally {
    await stopAllWorkerd();
    await closeAll();
    await cfg.remove();
    agent.destroy();
  }
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});
