// Many isolates, one token request per refresh: 8 worker services on one
// workerd share one Durable Object namespace (TokenOwner); the object of
// each user fetches for all of them and refreshes from alarm(). Real
// workerd, node-oidc-provider and the sample API, all on 127.0.0.1.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";

import { closeAll, startOIDC } from "../../js/test-support/helpers.js";
import { freePort, sleep, startUpstream, startWorkerd, stopAllWorkerd, tempConfig } from "../test-support/harness.mjs";

const SERVICES = 8;
const TTL = 10; // seconds; refresh_skew 1 s, refresh_ahead 0.8: refreshed every 7.2 s
const REFRESH_EVERY = 7.2;
const RUN_MS = 16_000;
const A_SECRET = `a-CANARY-${randomBytes(6).toString("hex")}`;
const B_SECRET = `b-CANARY-${randomBytes(6).toString("hex")}`;
const API_SECRET = `api-CANARY-${randomBytes(6).toString("hex")}`;
const KEY = `inbound-${randomBytes(12).toString("hex")}`;

let oidc;
let api;
let cfg;
let ports;
let worker;

before(async () => {
  oidc = await startOIDC({
    clients: [
      { client_id: "a-client", client_secret: A_SECRET, token_endpoint_auth_method: "client_secret_basic" },
      { client_id: "b-client", client_secret: B_SECRET, token_endpoint_auth_method: "client_secret_basic" },
      { client_id: "api", client_secret: API_SECRET, token_endpoint_auth_method: "client_secret_basic" },
    ],
    access_token_ttl: TTL,
  });
  api = await startUpstream({ introspection: oidc.introspection_endpoint, clientId: "api", clientSecret: API_SECRET });
  const preset = JSON.stringify({
    preset: [{
      type: "oauth_client_credentials",
      url: oidc.token_endpoint,
      refresh_skew: "1s",
      refresh_ahead: 0.8,
      users: [
        { username: "a", client_id: "a-client", client_secret: "${env:A_SECRET}" },
        { username: "b", client_id: "b-client", client_secret: "${env:B_SECRET}" },
      ],
    }],
  });
  const routes = JSON.stringify([
    { path: "/a", user: "a", upstream: api.url, strip_prefix: true },
    { path: "/b", user: "b", upstream: api.url, strip_prefix: true },
  ]);
  ports = await Promise.all(Array.from({ length: SERVICES }, () => freePort()));
  cfg = await tempConfig(({ modules, dir }) => {
    const service = (i) => `(name = "w${i}", worker = (
      modules = ${modules},
      compatibilityDate = "2026-11-01",
      ${i === 0 ? `durableObjectNamespaces = [(className = "TokenOwner", uniqueKey = "cctoken-test-token-owner")],
      durableObjectStorage = (localDisk = "owners"),` : ""}
      bindings = [
        (name = "PRESET", text = ${JSON.stringify(preset)}),
        (name = "ROUTES", text = ${JSON.stringify(routes)}),
        (name = "INBOUND_KEY", text = ${JSON.stringify(KEY)}),
        (name = "A_SECRET", text = ${JSON.stringify(A_SECRET)}),
        (name = "B_SECRET", text = ${JSON.stringify(B_SECRET)}),
        (name = "TOKENS", durableObjectNamespace = ${i === 0 ? '"TokenOwner"' : '(serviceName = "w0", className = "TokenOwner")'}),
      ],
      globalOutbound = "outbound",
    ))`;
    return `
const config :Workerd.Config = (
  services = [
    ${Array.from({ length: SERVICES }, (_, i) => service(i)).join(",\n    ")},
    (name = "owners", disk = (path = ${JSON.stringify(path.join(dir, "owners"))}, writable = true)),
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [
    ${ports.map((p, i) => `(name = "s${i}", address = "127.0.0.1:${p}", http = (), service = "w${i}")`).join(",\n    ")},
  ],
);`;
  });
  await mkdir(path.join(cfg.dir, "owners"));
  worker = await startWorkerd({ config: cfg.file, socket: null, port: ports[0] });
});

after(async () => {
  await stopAllWorkerd();
  await closeAll();
  await cfg?.remove();
});

async function call(port, user) {
  const res = await fetch(`http://127.0.0.1:${port}/${user}/x`, { headers: { "x-cctoken-key": KEY } });
  return { status: res.status, body: await res.text() };
}

test("8 services share one token request per user per refresh, refreshed ahead by the object's alarm", async (t) => {
  await oidc.reset();
  const started = Date.now();
  let sent = 0;
  const failures = [];
  // Bounded: one request per service and user every 100 ms for RUN_MS.
  while (Date.now() - started < RUN_MS) {
    const round = await Promise.all(ports.flatMap((p) => ["a", "b"].map((u) => call(p, u))));
    sent += round.length;
    for (const r of round) if (r.status !== 200) failures.push(r);
    await sleep(100);
  }
  const elapsed = (Date.now() - started) / 1000;
  assert.deepEqual(failures, [], "every request was served");
  const stats = await oidc.stats();
  const most = Math.floor(elapsed / REFRESH_EVERY) + 1;
  for (const client of ["a-client", "b-client"]) {
    const hits = stats.token_requests[client] ?? 0;
    t.diagnostic(`${client}: ${hits} token requests in ${elapsed.toFixed(1)} s, ${SERVICES} services, ${sent} requests`);
    assert.ok(hits >= 2, `${client}: the token was refreshed during the run (${hits} requests)`);
    assert.ok(hits <= most, `${client}: ${hits} token requests in ${elapsed.toFixed(1)} s from ${SERVICES} services; one instance alone makes at most ${most}`);
  }
  assert.ok(sent >= SERVICES * 2 * 50, `load was sent (${sent} requests)`);

  // Who fetched: each user's object fetched once in the foreground (the
  // first request) and refreshed in the background after; each isolate
  // asked its object and never the token endpoint.
  const events = worker.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const fetched = events.filter((e) => e.cctoken === "token_fetched");
  const owner = fetched.filter((e) => e.owner);
  const isolate = fetched.filter((e) => !e.owner);
  for (const user of ["a", "b"]) {
    assert.equal(owner.filter((e) => e.user === user && !e.refresh).length, 1, `${user}: one foreground fetch by the object`);
    assert.ok(owner.filter((e) => e.user === user && e.refresh).length >= 1, `${user}: the object refreshed ahead`);
  }
  assert.ok(isolate.every((e) => e.source === true), "isolates took every token from the object");
  assert.equal(isolate.filter((e) => !e.refresh).length, SERVICES * 2, "each isolate waited once per user, for its first token");
  assert.ok(!events.some((e) => e.cctoken === "source_unavailable"));
  for (const s of [A_SECRET, B_SECRET, API_SECRET]) assert.ok(!worker.output().includes(s));
  for (const t of new Set(api.seen.map((s) => s.token))) assert.ok(!worker.output().includes(t), "no token in workerd's output");
});

test("when the object cannot answer, the isolate fetches on its own", async () => {
  const broken = await tempConfig(({ modules }) => `
const config :Workerd.Config = (
  services = [
    (name = "w", worker = (
      modules = [
        (name = "main.js", esModule = "export { default } from \\"worker.js\\";\\nimport { DurableObject } from \\"cloudflare:workers\\";\\nexport class Broken extends DurableObject { token() { throw new Error(\\"owner down\\"); } refused() { throw new Error(\\"owner down\\"); } }"),
        ${modules.trim().slice(1, -1)}
      ],
      compatibilityDate = "2026-11-01",
      durableObjectNamespaces = [(className = "Broken", uniqueKey = "cctoken-test-broken-owner")],
      durableObjectStorage = (inMemory = void),
      bindings = [
        (name = "PRESET", text = ${JSON.stringify(JSON.stringify({ preset: [{ type: "oauth_client_credentials", url: oidc.token_endpoint, users: [{ username: "a", client_id: "a-client", client_secret: A_SECRET }] }] }))}),
        (name = "ROUTES", text = ${JSON.stringify(JSON.stringify([{ path: "/a", user: "a", upstream: api.url, strip_prefix: true }]))}),
        (name = "INBOUND_KEY", text = ${JSON.stringify(KEY)}),
        (name = "TOKENS", durableObjectNamespace = "Broken"),
      ],
      globalOutbound = "outbound",
    )),
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "w")],
);`);
  try {
    await oidc.reset();
    const w = await startWorkerd({ config: broken.file });
    for (let i = 0; i < 5; i++) {
      const r = await call(w.port, "a");
      assert.equal(r.status, 200, r.body);
    }
    assert.equal((await oidc.stats()).token_requests["a-client"], 1, "fetched once on its own, then cached");
    assert.match(w.output(), /source_unavailable/);
    await w.stop();
  } finally {
    await broken.remove();
  }
});
