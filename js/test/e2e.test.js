// End to end: the JavaScript host against node-oidc-provider
// (tests/oidc/server.mjs) on 127.0.0.1, and a small protected API that
// checks tokens at the provider's introspection endpoint.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import util from "node:util";

import { CctokenError, createClient, lint } from "../cctoken.js";
import { captureConsole, closeAll, listen, preset, readBody, sleep, startOIDC, waitFor, wasmModule } from "../test-support/helpers.js";

// Recognisable secrets: none of them, in any encoding, may show up in an
// event, an error or the console.
const canary = (name) => `${name}-CANARY-${randomBytes(6).toString("hex")}`;
const BASIC_SECRET = canary("basic");
const POST_SECRET = canary("post");
const WRONG_SECRET = canary("wrong");
const SHORT_SECRET = canary("short");
const ENV = { BASIC_SECRET, POST_SECRET, WRONG_SECRET, SHORT_SECRET };
const env = (name) => ENV[name];

let wasm;
let oidc; // access tokens live 300 s
let short; // access tokens live 4 s
let api;
const apiSeen = [];

const basicAuth = (id, secret) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

before(async () => {
  [wasm, oidc, short] = await Promise.all([
    wasmModule(),
    startOIDC({
      clients: [
        { client_id: "basic-client", client_secret: BASIC_SECRET, token_endpoint_auth_method: "client_secret_basic", scope: "read write" },
        { client_id: "post-client", client_secret: POST_SECRET, token_endpoint_auth_method: "client_secret_post", scope: "read" },
      ],
      strict_auth_methods: true,
      access_token_ttl: 300,
    }),
    startOIDC({
      clients: [{ client_id: "short-client", client_secret: SHORT_SECRET, token_endpoint_auth_method: "client_secret_basic" }],
      strict_auth_methods: true,
      access_token_ttl: 4,
    }),
  ]);
  // A resource server: a token is good while the provider says it is active.
  api = await listen(async (req, res) => {
    const body = await readBody(req);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    apiSeen.push({ token, body });
    let active = false;
    if (token) {
      const intro = await fetch(oidc.introspection_endpoint, {
        method: "POST",
        headers: { Authorization: basicAuth("basic-client", BASIC_SECRET), "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }),
      });
      active = (await intro.json()).active === true;
    }
    if (!active) {
      res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="api", error="invalid_token", error_description="the access token is not active"' });
      res.end();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ ok: true, body }));
  });
});

after(closeAll); // the provider servers, the API and any fixture a failed test left

function mainPreset() {
  return preset(oidc.token_endpoint, [
    { username: "basic", client_id: "basic-client", client_secret: "${env:BASIC_SECRET}", scopes: ["read"] },
    { username: "post", client_id: "post-client", client_secret: "${env:POST_SECRET}", auth_method: "client_secret_post" },
    { username: "wrong", client_id: "basic-client", client_secret: "${env:WRONG_SECRET}" },
    { username: "wrong-method", client_id: "post-client", client_secret: "${env:POST_SECRET}", auth_method: "client_secret_basic" },
  ]);
}

async function revoke(token) {
  const res = await fetch(oidc.revocation_endpoint, {
    method: "POST",
    headers: { Authorization: basicAuth("basic-client", BASIC_SECRET), "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200);
}

test("basic and post clients get tokens with their auth methods", async () => {
  const client = await createClient({ preset: mainPreset(), wasm, env });
  try {
    await oidc.reset();
    const basic = await client.token("basic");
    const post = await client.token("post");
    assert.equal(basic.tokenType, "Bearer");
    assert.deepEqual(basic.scopes, ["read"]);
    assert.notEqual(basic.accessToken, post.accessToken);
    assert.equal(basic.headers.Authorization, `Bearer ${basic.accessToken}`);
    const stats = await oidc.stats();
    assert.deepEqual(stats.auth_methods, {
      "basic-client": { client_secret_basic: 1 },
      "post-client": { client_secret_post: 1 },
    });
  } finally {
    client.close();
  }
});

test("a wrong secret or auth method is invalid_client with status 401", async () => {
  const events = [];
  const client = await createClient({ preset: mainPreset(), wasm, env, onEvent: (e) => events.push(e) });
  try {
    for (const user of ["wrong", "wrong-method"]) {
      await assert.rejects(client.token(user), (err) => {
        assert.ok(err instanceof CctokenError);
        assert.equal(err.code, "invalid_client");
        assert.equal(err.oauthError, "invalid_client");
        assert.equal(err.status, 401);
        assert.equal(err.user, user);
        assert.equal(err.field, "preset[0].url");
        return true;
      }, user);
    }
    assert.deepEqual(events.map((e) => [e.type, e.user, e.code]), [
      ["token_error", "wrong", "invalid_client"],
      ["token_error", "wrong-method", "invalid_client"],
    ]);
  } finally {
    client.close();
  }
});

test("1000 concurrent cold callers make exactly one request", async () => {
  const client = await createClient({ preset: mainPreset(), wasm, env });
  try {
    await oidc.reset();
    const toks = await Promise.all(Array.from({ length: 1000 }, () => client.token("basic")));
    assert.equal(new Set(toks.map((t) => t.accessToken)).size, 1);
    assert.equal((await oidc.stats()).total, 1);
  } finally {
    client.close();
  }
});

test("refresh-ahead serves the token without waiting and refreshes it in the background", async () => {
  const events = [];
  const client = await createClient({
    // 4 s tokens, skew 1 s, refresh_ahead 0.5: used until 3 s, refreshed from 1.5 s.
    preset: preset(short.token_endpoint,
      [{ username: "svc", client_id: "short-client", client_secret: "${env:SHORT_SECRET}" }],
      { refresh_skew: "1s", refresh_ahead: 0.5 }),
    wasm, env, onEvent: (e) => events.push(e),
  });
  try {
    await short.reset();
    const t1 = await client.token("svc");
    assert.ok(t1.expiresAt.getTime() - Date.now() <= 4000);
    await sleep(1700);
    const again = await client.token("svc");
    // Served before the refresh it started could have had an answer.
    assert.equal(again.accessToken, t1.accessToken);
    assert.ok(!events.some((e) => e.refresh), "the caller did not wait for the refresh");
    await waitFor(() => events.some((e) => e.type === "token_fetched" && e.refresh === true));
    const t2 = await client.token("svc");
    assert.notEqual(t2.accessToken, t1.accessToken);
    assert.equal((await short.stats()).total, 2);
  } finally {
    client.close();
  }
});

test("invalidate drops the token so the next call fetches a new one", async () => {
  const client = await createClient({ preset: mainPreset(), wasm, env });
  try {
    await oidc.reset();
    const t1 = await client.token("basic");
    assert.equal(await client.token("basic"), t1);
    await client.invalidate("basic");
    const t2 = await client.token("basic");
    assert.notEqual(t2.accessToken, t1.accessToken);
    assert.equal((await oidc.stats()).total, 2);
  } finally {
    client.close();
  }
});

test("client.fetch retries once with a new token when the API says invalid_token", async () => {
  const client = await createClient({ preset: mainPreset(), wasm, env });
  try {
    await oidc.reset();
    apiSeen.length = 0;
    const t1 = await client.token("basic");
    await revoke(t1.accessToken); // the memo still holds it
    const res = await client.fetch("basic", `${api.url}/orders`, {
      method: "POST", body: JSON.stringify({ n: 1 }), headers: { "Content-Type": "application/json", Authorization: "Bearer caller" },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, body: '{"n":1}' });
    const t2 = await client.token("basic");
    assert.deepEqual(apiSeen.map((s) => s.token), [t1.accessToken, t2.accessToken]);
    assert.equal((await oidc.stats()).total, 2);
  } finally {
    client.close();
  }
});

test("lint reports errors with line numbers", async () => {
  const issues = await lint([
    "preset:",
    "- type: oauth_client_credentials",
    "  url: http://tokens.example/token",
    "  users:",
    "  - username: svc",
    "    client_id: basic-client",
    "    client_secret: ${env:BASIC_SECRET}",
    "    refresh_skew: soon",
    "",
  ].join("\n"), { wasm });
  const byField = Object.fromEntries(issues.map((i) => [i.field, i]));
  assert.equal(byField["preset[0].url"]?.line, 3);
  assert.equal(byField["preset[0].users[0].refresh_skew"]?.line, 8);
});

test("secret canary: no secret or token in events, errors or console output", async () => {
  const events = [];
  const errors = [];
  const shown = [];
  const tokens = [];
  const expectError = async (p) => {
    try {
      await p;
    } catch (err) {
      errors.push(err);
      console.error(err);
      console.log("failed: %s", err);
      return err;
    }
    assert.fail("expected an error");
  };

  // An endpoint that echoes the credentials it got, and others that fail.
  const echo = await listen(async (req, res) => {
    const body = await readBody(req);
    res.writeHead(400, { "Content-Type": "application/json" });
    res.end(JSON.stringify({
      error: "invalid_request",
      error_description: `got ${req.headers.authorization} with ${body}`,
      error_uri: `https://errors.example/?${body}`,
    }));
  });
  const silent = await listen(() => {});
  const huge = await listen((req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(`{"access_token":"${"x".repeat(1 << 20)}"}`);
  });

  const cap = captureConsole();
  try {
    const onEvent = (e) => { events.push(e); console.log("event", e); };
    const client = await createClient({ preset: mainPreset(), wasm, env, onEvent });
    const tok = await client.token("basic");
    tokens.push(tok.accessToken);
    console.log(tok);
    console.log("token %s %j %o", tok, tok, tok);
    shown.push(String(tok), JSON.stringify(tok), util.inspect(tok, { showHidden: true, depth: 9 }), util.inspect(client));
    tokens.push((await client.token("post")).accessToken);

    await revoke(tok.accessToken);
    const res = await client.fetch("basic", `${api.url}/canary`, { method: "POST", body: "hello" });
    assert.equal(res.status, 200);
    tokens.push((await client.token("basic")).accessToken);

    await expectError(client.token("wrong"));
    await expectError(client.token("wrong-method"));
    await expectError(client.token("nobody"));
    client.close();
    await expectError(client.token("basic"));

    // The failure paths, one preset per endpoint so each user has its URL.
    for (const [name, url, user] of [
      ["echo", `${echo.url}/token`, { client_id: "basic-client", client_secret: "${env:BASIC_SECRET}" }],
      ["echo", `${echo.url}/token`, { client_id: "post-client", client_secret: "${env:POST_SECRET}", auth_method: "client_secret_post" }],
      ["echo", `${echo.url}/token`, { client_id: "odd-client", client_secret: `${WRONG_SECRET} +/=&%`, auth_method: "client_secret_post" }],
      ["timeout", `${silent.url}/token`, { client_id: "basic-client", client_secret: "${env:BASIC_SECRET}" }],
      ["too_large", `${huge.url}/token`, { client_id: "basic-client", client_secret: "${env:BASIC_SECRET}" }],
    ]) {
      const timeoutMs = name === "timeout" ? 400 : 30_000;
      const c = await createClient({ preset: preset(url, [{ username: name, ...user }]), wasm, env, onEvent, timeoutMs });
      const err = await expectError(c.token(name));
      if (name !== "echo") assert.equal(err.code, name);
      c.close();
    }

    // A preset with a secret in the wrong places: issues name fields, never values.
    const bad = preset(oidc.token_endpoint, [{
      username: "svc", client_id: "basic-client", client_secret: BASIC_SECRET,
      refresh_skew: POST_SECRET, headers: { Authorization: WRONG_SECRET },
    }]);
    const badErr = await expectError(createClient({ preset: bad, wasm, env }));
    assert.equal(badErr.code, "invalid_preset");
    const issues = await lint(bad, { wasm });
    assert.ok(issues.length >= 2);
    console.log(issues);
    shown.push(JSON.stringify(issues));
  } finally {
    cap.restore();
    await Promise.all([echo.close(), silent.close(), huge.close()]);
  }

  assert.equal(tokens.length, 3);
  assert.ok(events.length >= 5 && errors.length >= 10, `${events.length} events, ${errors.length} errors`);
  const forbidden = [...tokens];
  for (const [id, secret] of [["basic-client", BASIC_SECRET], ["post-client", POST_SECRET], ["basic-client", WRONG_SECRET],
    ["odd-client", `${WRONG_SECRET} +/=&%`]]) {
    forbidden.push(secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2),
      btoa(`${id}:${secret}`), btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`));
  }
  const haystack = [
    ...cap.lines,
    ...shown,
    ...events.map((e) => JSON.stringify(e)),
    ...events.map((e) => util.inspect(e, { depth: 9 })),
    ...errors.flatMap((e) => [e.message, String(e), e.stack, JSON.stringify(e), util.inspect(e, { depth: 9, showHidden: true })]),
  ];
  assert.ok(cap.lines.length > 10, "the flow printed to the console");
  for (const text of haystack) {
    for (const f of forbidden) {
      assert.ok(!String(text).includes(f), `a secret or token leaked into: ${String(text).slice(0, 300)}`);
    }
  }
});
