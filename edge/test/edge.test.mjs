// End to end: the signing worker on a real workerd (edge/config.capnp),
// node-oidc-provider as the authorization server and a sample upstream API
// that checks every token at the provider's introspection endpoint. All on
// 127.0.0.1.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { after, before, test } from "node:test";

import { closeAll, listen, startOIDC, waitFor } from "../../js/test-support/helpers.js";
import { sleep, startUpstream, startWorkerd, stopAllWorkerd, tempConfig } from "../test-support/harness.mjs";

// Recognisable secrets: none may reach a response, or workerd's output.
const canary = (name) => `${name}-CANARY-${randomBytes(6).toString("hex")}`;
const A_SECRET = canary("a");
const B_SECRET = canary("b");
const S_SECRET = canary("s");
const WRONG_SECRET = canary("wrong");
const API_SECRET = canary("api");
const KEY = `inbound-${randomBytes(12).toString("hex")}`;

let oidc; // tokens live 300 s
let short; // tokens live 10 s; stopped by the last tests
let api; // checks tokens at oidc
let plain; // checks nothing (for short's users)
let away; // another origin that must never be reached
let worker;
const bodies = []; // every response body the tests saw

// literal: secrets in the document itself (edge/config.capnp binds only
// PRESET); otherwise ${env:…} references to the worker's other bindings.
function presetDoc(literal) {
  const ref = (name, value) => (literal ? value : `\${env:${name}}`);
  return JSON.stringify({
    preset: [
      {
        type: "oauth_client_credentials",
        url: oidc.token_endpoint,
        users: [
          { username: "a", client_id: "a-client", client_secret: ref("A_SECRET", A_SECRET), headers: { "X-Team": "a" }, cookies: { tenant: "acme" } },
          { username: "b", client_id: "b-client", client_secret: ref("B_SECRET", B_SECRET), auth_method: "client_secret_post", scopes: ["read"] },
          { username: "wrong", client_id: "a-client", client_secret: ref("WRONG_SECRET", WRONG_SECRET) },
        ],
      },
      {
        type: "oauth_client_credentials",
        url: short.token_endpoint,
        refresh_skew: "2s",
        refresh_ahead: 0.3,
        users: [{ username: "s", client_id: "s-client", client_secret: ref("S_SECRET", S_SECRET) }],
      },
      {
        type: "oauth_client_credentials",
        url: "http://127.0.0.1:9/token", // discard port: nothing listens
        users: [{ username: "nowhere", client_id: "n-client", client_secret: ref("A_SECRET", A_SECRET) }],
      },
    ],
  });
}

function routes() {
  return JSON.stringify([
    { path: "/a", user: "a", upstream: api.url, strip_prefix: true },
    { path: "/b", user: "b", upstream: `${api.url}/v2`, strip_prefix: true },
    { host: "b.internal", user: "b", upstream: api.url },
    { path: "/wrong", user: "wrong", upstream: api.url, strip_prefix: true },
    { path: "/s", user: "s", upstream: plain.url, strip_prefix: true },
    { path: "/nowhere", user: "nowhere", upstream: plain.url, strip_prefix: true },
  ]);
}

/**
 * A request through the worker with node:http, which (unlike fetch) sends
 * the Host header it is given; the body is kept for the secret check.
 */
function call(path, init = {}) {
  const headers = { ...init.headers };
  if (!init.noKey) headers["x-cctoken-key"] = KEY;
  return new Promise((resolve, reject) => {
    const req = http.request(`${worker.url}${path}`, { method: init.method ?? "GET", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { text += c; });
      res.on("end", () => {
        bodies.push(text);
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: new Headers(res.headers), text, json });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const tokenHits = async (server, clientId) => (await server.stats()).token_requests[clientId] ?? 0;

before(async () => {
  [oidc, short] = await Promise.all([
    startOIDC({
      clients: [
        { client_id: "a-client", client_secret: A_SECRET, token_endpoint_auth_method: "client_secret_basic", scope: "read" },
        { client_id: "b-client", client_secret: B_SECRET, token_endpoint_auth_method: "client_secret_post", scope: "read" },
        { client_id: "api", client_secret: API_SECRET, token_endpoint_auth_method: "client_secret_basic" },
      ],
      strict_auth_methods: true,
      access_token_ttl: 300,
    }),
    startOIDC({
      clients: [{ client_id: "s-client", client_secret: S_SECRET, token_endpoint_auth_method: "client_secret_basic" }],
      access_token_ttl: 10,
    }),
  ]);
  api = await startUpstream({ introspection: oidc.introspection_endpoint, clientId: "api", clientSecret: API_SECRET });
  plain = await startUpstream();
  away = await startUpstream();
  api.redirectAway = away.url;
  worker = await startWorkerd({
    env: {
      CCTOKEN_PRESET: presetDoc(true),
      CCTOKEN_ROUTES: routes(),
      CCTOKEN_INBOUND_KEY: KEY,
    },
  });
});

after(async () => {
  await stopAllWorkerd();
  await closeAll();
});

test("a signed request reaches the upstream with the routed user's token, headers and cookies", async () => {
  const r = await call("/a/orders/7?x=1&y=%20", {
    method: "POST",
    headers: { "content-type": "application/json", "x-custom": "kept" },
    body: JSON.stringify({ n: 1 }),
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.client, "a-client");
  assert.equal(r.json.method, "POST");
  assert.equal(r.json.url, "/orders/7?x=1&y=%20");
  assert.equal(r.json.body, '{"n":1}');
  assert.equal(r.json.team, "a");
  assert.equal(r.json.custom, "kept");
  assert.equal(r.json.cookie, "tenant=acme");
  const last = api.seen.at(-1);
  assert.equal(last.headers["x-cctoken-key"], undefined, "the inbound key is not forwarded");
  assert.equal(last.headers["content-type"], "application/json");
});

test("two routes with two users, by path and by host", async () => {
  const a = await call("/a/x");
  const b = await call("/b/y");
  const byHost = await call("/z", { headers: { host: "b.internal" } });
  assert.equal(a.json.client, "a-client");
  assert.equal(b.json.client, "b-client");
  assert.equal(b.json.url, "/v2/y");
  assert.equal(byHost.status, 200, byHost.text);
  assert.equal(byHost.json.client, "b-client");
  assert.equal(byHost.json.url, "/z");
  const tokens = new Set(api.seen.filter((s) => s.active).map((s) => `${s.client} ${s.token}`));
  assert.equal(tokens.size, 2, "one token per user, reused across requests");
});

test("credentials the caller sends are removed before the user's are added", async () => {
  const r = await call("/a/me", { headers: { authorization: "Bearer smuggled-token", cookie: "session=caller; tenant=evil" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.client, "a-client");
  assert.equal(r.json.cookie, "tenant=acme");
  assert.notEqual(api.seen.at(-1).token, "smuggled-token");
});

test("without the inbound key, or with a wrong one, the answer is 401 and nothing is forwarded", async () => {
  const before = api.seen.length;
  const none = await call("/a/x", { noKey: true });
  const wrong = await call("/a/x", { noKey: true, headers: { "x-cctoken-key": `${KEY.slice(0, -1)}0` } });
  const short = await call("/a/x", { noKey: true, headers: { "x-cctoken-key": "x" } });
  for (const r of [none, wrong, short]) {
    assert.equal(r.status, 401);
    assert.equal(r.json.error, "unauthorized");
  }
  assert.equal(api.seen.length, before);
});

test("requests for origins outside the route table get 403 and no token leaves", async () => {
  const before = api.seen.length;
  const r = await call("/elsewhere", { headers: { host: "evil.example" } });
  assert.equal(r.status, 403);
  assert.equal(r.json.error, "no_route");
  assert.equal(api.seen.length, before);

  // A redirect to another origin is not followed.
  const red = await call("/a/redirect-away");
  assert.equal(red.status, 403, red.text);
  assert.equal(red.json.error, "redirect_not_allowed");
  assert.equal(away.seen.length, 0, "the other origin was never contacted");
  assert.equal(red.headers.get("location"), null);

  // One to the same origin is followed, with the token.
  const home = await call("/a/redirect-home");
  assert.equal(home.status, 200, home.text);
  assert.equal(home.json.url, "/home");
  assert.equal(home.json.client, "a-client");
});

test("concurrent first requests share one token request", async () => {
  await short.reset();
  const results = await Promise.all(Array.from({ length: 12 }, () => call("/s/c")));
  for (const r of results) assert.equal(r.status, 200, r.text);
  assert.equal(await tokenHits(short, "s-client"), 1);
  assert.equal(new Set(plain.seen.map((s) => s.token)).size, 1);
});

test("refresh-ahead runs after the response, so no request waits for it", async () => {
  // s: 10 s tokens, used until 8 s, refreshed from 2.4 s.
  await short.reset();
  await call("/s/refresh"); // ensure a token whose lifetime we know
  const first = plain.seen.at(-1).token;
  const hits = await tokenHits(short, "s-client");
  await sleep(3000);
  const during = await call("/s/refresh");
  assert.equal(during.status, 200);
  assert.equal(plain.seen.at(-1).token, first, "the request past the refresh point was sent with the valid token");
  await waitFor(async () => (await tokenHits(short, "s-client")) === hits + 1, 5000);
  const later = await call("/s/refresh");
  assert.equal(later.status, 200);
  assert.notEqual(plain.seen.at(-1).token, first, "the next request has the refreshed token");
  assert.equal(await tokenHits(short, "s-client"), hits + 1);
});

test("a revoked token (upstream 401 invalid_token) is replaced and the request retried once", async () => {
  const r1 = await call("/a/revoked");
  assert.equal(r1.status, 200);
  const token = api.seen.at(-1).token;
  const revoke = await fetch(oidc.revocation_endpoint, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`a-client:${A_SECRET}`)}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  });
  assert.equal(revoke.status, 200);
  const hits = await tokenHits(oidc, "a-client");
  const seen = api.seen.length;
  const r2 = await call("/a/revoked", { method: "PUT", body: "again" });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.body, "again", "the body was sent again");
  assert.equal(api.seen.length, seen + 2, "one refused attempt, one retry");
  assert.equal(api.seen.at(-2).token, token);
  assert.notEqual(api.seen.at(-1).token, token);
  assert.equal(await tokenHits(oidc, "a-client"), hits + 1);
});

test("token endpoint errors are a 502 that names the OAuth error", async () => {
  const wrong = await call("/wrong/x");
  assert.equal(wrong.status, 502);
  assert.equal(wrong.json.error, "invalid_client");
  assert.equal(wrong.json.user, "wrong");
  assert.equal(wrong.json.token_endpoint_status, 401);

  const down = await call("/nowhere/x");
  assert.equal(down.status, 502);
  assert.equal(down.json.error, "network");
  assert.equal(plain.seen.filter((s) => s.url === "/x").length, 0, "nothing was forwarded without a token");
});

test("with the token endpoint down, a cached token is still served", async () => {
  await call("/s/cached");
  const token = plain.seen.at(-1).token;
  await short.stop();
  const r = await call("/s/cached");
  assert.equal(r.status, 200, r.text);
  assert.equal(plain.seen.at(-1).token, token);
});

test("a service binding to the bound entrypoint needs no inbound key", async () => {
  const cfg = await tempConfig(({ modules }) => `
const config :Workerd.Config = (
  services = [
    (name = "signer", worker = (
      modules = ${modules},
      compatibilityDate = "2026-11-01",
      bindings = [
        (name = "PRESET", text = ${JSON.stringify(presetDoc(false))}),
        (name = "ROUTES", text = ${JSON.stringify(routes())}),
        (name = "INBOUND_KEY", text = ${JSON.stringify(KEY)}),
        (name = "A_SECRET", text = ${JSON.stringify(A_SECRET)}),
        (name = "B_SECRET", text = ${JSON.stringify(B_SECRET)}),
        (name = "S_SECRET", text = ${JSON.stringify(S_SECRET)}),
        (name = "WRONG_SECRET", text = ${JSON.stringify(WRONG_SECRET)}),
      ],
      globalOutbound = "outbound",
    )),
    (name = "caller", worker = (
      modules = [(name = "caller.js", esModule = "export default { fetch(req, env) { return env.SIGNER.fetch(req); } };")],
      compatibilityDate = "2026-11-01",
      bindings = [(name = "SIGNER", service = (name = "signer", entrypoint = "bound"))],
    )),
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [
    (name = "caller", address = "127.0.0.1:0", http = (), service = "caller"),
  ],
);`);
  try {
    const w = await startWorkerd({ config: cfg.file, socket: "caller" });
    const res = await fetch(`${w.url}/a/bound`);
    const text = await res.text();
    bodies.push(text);
    assert.equal(res.status, 200, text);
    assert.equal(JSON.parse(text).client, "a-client");
    await w.stop();
  } finally {
    await cfg.remove();
  }
});

test("a bad route table or preset is a 500 that names the field, without secrets", async () => {
  const bad = (name, preset, routesText) => `(name = "${name}", worker = (
      modules = MODULES,
      compatibilityDate = "2026-11-01",
      bindings = [
        (name = "PRESET", text = ${JSON.stringify(preset)}),
        (name = "ROUTES", text = ${JSON.stringify(routesText)}),
        (name = "INBOUND_KEY", text = ${JSON.stringify(KEY)}),
      ],
    ))`;
  const badPreset = `preset:\n- type: oauth_client_credentials\n  url: ftp://x\n  users:\n  - username: u\n    client_id: c\n    client_secret: ${WRONG_SECRET}\n`;
  const cfg = await tempConfig(({ modules }) => `
const config :Workerd.Config = (
  services = [
    ${bad("routes", presetDoc(true), '[{"path": "/a", "upstream": "http://127.0.0.1:9"}]').replace("MODULES", modules)},
    ${bad("preset", badPreset, routes()).replace("MODULES", modules)},
  ],
  sockets = [
    (name = "routes", address = "127.0.0.1:0", http = (), service = "routes"),
    (name = "preset", address = "127.0.0.1:0", http = (), service = "preset"),
  ],
);`);
  try {
    const w = await startWorkerd({ config: cfg.file, socket: "routes" });
    const r = await fetch(`${w.url}/a/x`, { headers: { "x-cctoken-key": KEY } });
    const body = await r.json();
    assert.equal(r.status, 500);
    assert.equal(body.error, "misconfigured");
    assert.match(body.error_description, /ROUTES: \[0\]\.user: is required/);
    await w.stop();
    const p = await startWorkerd({ config: cfg.file, socket: "preset" });
    const r2 = await fetch(`${p.url}/a/x`, { headers: { "x-cctoken-key": KEY } });
    const text = await r2.text();
    bodies.push(text);
    assert.equal(r2.status, 500, text);
    assert.equal(JSON.parse(text).error, "misconfigured");
    assert.match(text, /preset\[0\]\.url/);
    assert.ok(!text.includes(WRONG_SECRET));
    await p.stop();
  } finally {
    await cfg.remove();
  }
});

test("no token or secret appears in a response body or in workerd's output", async () => {
  const secrets = [A_SECRET, B_SECRET, S_SECRET, WRONG_SECRET, API_SECRET, KEY];
  const tokens = [...new Set([...api.seen, ...plain.seen].map((s) => s.token).filter(Boolean))];
  assert.ok(tokens.length >= 3, "the tests saw tokens");
  const output = worker.output();
  assert.match(output, /token_fetched/, "workerd's output holds the worker's events");
  for (const s of [...secrets, ...tokens]) {
    assert.ok(!output.includes(s), "workerd's output holds a secret or token");
    for (const b of bodies) assert.ok(!b.includes(s), "a response body holds a secret or token");
  }
});
