// What client.fetch does after an API's answer is the module's decision
// (wasm/ABI.md, "After an API's answer"): the same retry counts as the Go
// host, same-origin redirects followed and signed again, and nothing of the
// user's ever sent to another origin. Tokens come from node-oidc-provider;
// the APIs are small fault servers on 127.0.0.1, the other origin a sink
// addressed as localhost on another port.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { createClient } from "../cctoken.js";
import { closeAll, listen, readBody, startOIDC, wasmModule } from "../test-support/helpers.js";

const SECRET = `policy-CANARY-${randomBytes(6).toString("hex")}`;
let wasm;
let oidc;

before(async () => {
  wasm = await wasmModule();
  oidc = await startOIDC({
    clients: [{ client_id: "policy-client", client_secret: SECRET, token_endpoint_auth_method: "client_secret_basic", scope: "read" }],
    jwt_access_tokens: true,
  });
});
after(closeAll);

const tokenRequests = async () => (await oidc.stats()).token_requests["policy-client"] ?? 0;

function presetDoc() {
  return JSON.stringify({
    preset: [{
      type: "oauth_client_credentials",
      url: oidc.token_endpoint,
      resource: [oidc.resource],
      users: [
        { username: "dpop", client_id: "policy-client", client_secret: SECRET, dpop: true, headers: { "X-Team": "a" }, cookies: { tenant: "acme" } },
        { username: "bearer", client_id: "policy-client", client_secret: SECRET, headers: { "X-Team": "a" }, cookies: { tenant: "acme" } },
      ],
    }],
  });
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

/** A server on 127.0.0.1 that records each request and answers with handler. */
async function recorder(handler) {
  const seen = [];
  const srv = await listen(async (req, res) => {
    const body = await readBody(req);
    seen.push({ method: req.method, path: req.url, headers: req.headers, body });
    handler(seen.length - 1, req, res);
  });
  return { ...srv, seen };
}

/** The user's credentials among headers a server received. */
function credentials(headers) {
  return ["authorization", "dpop", "x-team", "cookie"].filter((h) => headers[h] !== undefined);
}

describe("after a 401", () => {
  test("use_dpop_nonce, then invalid_token to everything: 3 API requests and 2 token requests", async () => {
    const api = await recorder((n, req, res) => {
      if (n === 0) {
        res.writeHead(401, { "WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "rs-nonce" });
      } else {
        res.writeHead(401, { "WWW-Authenticate": 'DPoP error="invalid_token", Bearer error="invalid_token"' });
      }
      res.end("no");
    });
    const client = await createClient({ preset: presetDoc(), wasm });
    try {
      const before = await tokenRequests();
      const res = await client.fetch("dpop", `${api.url}/things`, { method: "POST", body: "payload" });
      assert.equal(res.status, 401);
      assert.equal(api.seen.length, 3);
      assert.equal(await tokenRequests() - before, 2);
      assert.deepEqual(api.seen.map((s) => s.body), ["payload", "payload", "payload"]);
      const [p0, p1, p2] = api.seen.map((s) => claims(s.headers.dpop));
      assert.equal(p0.nonce, undefined);
      assert.equal(p1.nonce, "rs-nonce");
      assert.equal(p2.nonce, "rs-nonce", "the nonce is kept across the new token");
      assert.equal(api.seen[0].headers.authorization, api.seen[1].headers.authorization, "the nonce retry keeps the token");
      assert.notEqual(api.seen[1].headers.authorization, api.seen[2].headers.authorization, "the token retry has a new token");
      assert.notEqual(p1.ath, p2.ath);
    } finally {
      client.close();
      await api.close();
    }
  });

  test("a Bearer request is not retried for a nonce, and once for invalid_token", async () => {
    const api = await recorder((n, req, res) => {
      res.writeHead(401, { "WWW-Authenticate": n === 0 ? 'DPoP error="use_dpop_nonce"' : 'Bearer error="invalid_token"', "DPoP-Nonce": "x" });
      res.end();
    });
    const client = await createClient({ preset: presetDoc(), wasm });
    try {
      const before = await tokenRequests();
      assert.equal((await client.fetch("bearer", `${api.url}/a`)).status, 401);
      assert.equal(api.seen.length, 1);
      assert.equal((await client.fetch("bearer", `${api.url}/b`)).status, 401);
      assert.equal(api.seen.length, 3, "one refused request, one retry");
      assert.equal(await tokenRequests() - before, 2);
    } finally {
      client.close();
      await api.close();
    }
  });
});

describe("redirects", () => {
  let sink;
  let awayURL;
  let api;
  let client;
  before(async () => {
    sink = await recorder((n, req, res) => { res.writeHead(200); res.end("sink"); });
    awayURL = `http://localhost:${sink.port}/sink`;
    api = await recorder((n, req, res) => {
      const path = req.url.split("?")[0];
      if (path === "/away") {
        res.writeHead(302, { Location: awayURL });
      } else if (path === "/old") {
        res.writeHead(308, { Location: "/new?x=1" });
      } else if (path === "/form") {
        res.writeHead(303, { Location: "/result" });
      } else if (path === "/loop") {
        res.writeHead(302, { Location: "/loop" });
      } else {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end(`${req.method} ${path}`);
        return;
      }
      res.end();
    });
    client = await createClient({ preset: presetDoc(), wasm });
  });
  after(() => client.close());

  for (const user of ["bearer", "dpop"]) {
    test(`a redirect to another origin is handed back and nothing reaches it (${user})`, async () => {
      const before = api.seen.length;
      const res = await client.fetch(user, `${api.url}/away`, { headers: { "X-Mine": "1" } });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get("location"), awayURL);
      assert.equal(sink.seen.length, 0, `the other origin got ${JSON.stringify(sink.seen.map((s) => credentials(s.headers)))}`);
      assert.equal(api.seen.length, before + 1);
      assert.deepEqual(credentials(api.seen.at(-1).headers).sort(), (user === "dpop" ? ["authorization", "cookie", "dpop", "x-team"] : ["authorization", "cookie", "x-team"]));
    });
  }

  test("a redirect on the same origin is followed and signed again for the new URL", async () => {
    const before = api.seen.length;
    const res = await client.fetch("dpop", `${api.url}/old`, { method: "PUT", body: "data", headers: { "Content-Type": "text/plain" } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "PUT /new");
    const [first, second] = api.seen.slice(before);
    assert.equal(second.path, "/new?x=1");
    assert.equal(second.body, "data");
    assert.equal(claims(second.headers.dpop).htu, `${api.url}/new`);
    assert.equal(claims(second.headers.dpop).htm, "PUT");
    assert.notEqual(claims(first.headers.dpop).jti, claims(second.headers.dpop).jti);
    assert.equal(second.headers["x-team"], "a");
    assert.equal(second.headers.cookie, "tenant=acme");
  });

  test("303 after POST is a GET without the body; a loop stops after 5 redirects", async () => {
    let before = api.seen.length;
    const res = await client.fetch("bearer", `${api.url}/form`, { method: "POST", body: "a=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    assert.equal(await res.text(), "GET /result");
    const got = api.seen.at(-1);
    assert.equal(got.body, "");
    assert.equal(got.headers["content-type"], undefined);
    assert.match(got.headers.authorization, /^Bearer /);
    assert.equal(api.seen.length, before + 2);

    before = api.seen.length;
    const loop = await client.fetch("bearer", `${api.url}/loop`);
    assert.equal(loop.status, 302);
    assert.equal(api.seen.length, before + 6);
  });
});
