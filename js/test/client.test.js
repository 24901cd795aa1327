// Tests of the JavaScript host against small token endpoints on 127.0.0.1:
// loading the module, the fetch bridge, the memo, the drop-in fetch and
// redaction. The end-to-end tests against node-oidc-provider are in
// e2e.test.js.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import util from "node:util";

import { ABI_VERSION, CctokenError, VERSION, createClient, lint, tokenAnswer } from "../cctoken.js";
import { captureConsole, closeAll, listen, preset, readBody, sendToken, sleep, waitFor, wasmModule, wasmPath } from "../test-support/helpers.js";

const SECRET = "svc-secret-CANARY-7f3a";

/** A token endpoint whose behaviour a test can swap. */
async function tokenServer() {
  const state = { hits: 0, requests: [], handler: (req, res) => sendToken(res, `tok-${state.hits}`) };
  const srv = await listen(async (req, res) => {
    state.hits += 1;
    const body = await readBody(req);
    state.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    state.handler(req, res, body);
  });
  return Object.assign(state, { url: `${srv.url}/token`, base: srv.url, close: srv.close });
}

function svcPreset(url, extra = {}, user = {}) {
  return preset(url, [{
    username: "svc", client_id: "svc-id", client_secret: SECRET,
    headers: { "X-Team": "a" }, cookies: { tenant: "acme" }, ...user,
  }], extra);
}

let wasm;
before(async () => { wasm = await wasmModule(); });
after(closeAll);

/**
 * A tiny reactor with the cctoken exports: cctoken_abi_version returns
 * version and cctoken_call traps.
 */
function fakeModule(version) {
  const section = (id, bytes) => [id, bytes.length, ...bytes];
  const vec = (items) => [items.length, ...items.flat()];
  const name = (s) => [s.length, ...new TextEncoder().encode(s)];
  const I32 = 0x7f;
  const I64 = 0x7e;
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0, 0], [0x60, 0, 1, I32], [0x60, 1, I32, 1, I32], [0x60, 1, I32, 1, I64]])),
    ...section(3, vec([[0], [1], [2], [3]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([
      [...name("memory"), 0x02, 0],
      [...name("_initialize"), 0x00, 0],
      [...name("cctoken_abi_version"), 0x00, 1],
      [...name("cctoken_buffer"), 0x00, 2],
      [...name("cctoken_call"), 0x00, 3],
    ])),
    ...section(10, vec([
      [2, 0x00, 0x0b], // nothing
      [4, 0x00, 0x41, version, 0x0b], // i32.const version
      [4, 0x00, 0x41, 0x00, 0x0b], // i32.const 0
      [3, 0x00, 0x00, 0x0b], // unreachable
    ])),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}

describe("loading the module", () => {
  test("ABI_VERSION is 1", () => {
    assert.equal(ABI_VERSION, 1);
  });

  test("accepts a Module, bytes, a Response, a Promise of one and URLs", async () => {
    const bytes = await readFile(wasmPath);
    const wasmSrv = await listen((req, res) => {
      if (req.url === "/cctoken.wasm") {
        res.writeHead(200, { "Content-Type": "application/wasm" });
        res.end(bytes);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    try {
      const sources = {
        module: wasm,
        arrayBuffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        uint8Array: new Uint8Array(bytes),
        response: new Response(bytes, { headers: { "Content-Type": "application/wasm" } }),
        responseOctetStream: new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }),
        promiseOfResponse: fetch(`${wasmSrv.url}/cctoken.wasm`),
        httpURL: `${wasmSrv.url}/cctoken.wasm`,
        fileURL: pathToFileURL(wasmPath).href,
        urlObject: pathToFileURL(wasmPath),
      };
      for (const [name, source] of Object.entries(sources)) {
        const issues = await lint("preset:\n- type: oauth_client_credentials\n  url: https://a.example/token\n  users:\n  - {username: u, client_id: i, client_secret: s}\n", { wasm: source });
        assert.deepEqual(issues, [], name);
      }
      await assert.rejects(lint("{}", { wasm: new Uint8Array([0, 1, 2, 3]) }), { name: "CctokenError", code: "bad_module" });
      await assert.rejects(lint("{}", { wasm: `${wasmSrv.url}/missing.wasm` }), { code: "bad_module", status: 404 });
      await assert.rejects(lint("{}", { wasm: 42 }), TypeError);
    } finally {
      await wasmSrv.close();
    }
  });

  test("refuses another ABI version, and a module that traps", async () => {
    await assert.rejects(lint("{}", { wasm: fakeModule(2) }), (err) => {
      assert.equal(err.code, "bad_module");
      assert.match(err.message, /ABI version 2/);
      // Names this package's version and ABI, and the way out.
      assert.match(err.message, new RegExp(`cctoken ${VERSION.replaceAll(".", "\\.")} for JavaScript speaks ABI version 1`));
      assert.match(err.message, /leave out the wasm option/);
      return true;
    });
    await assert.rejects(lint("{}", { wasm: fakeModule(1) }), { code: "module_crashed" });
    await assert.rejects(createClient({ preset: "{}", wasm: fakeModule(1) }), { code: "module_crashed" });
  });

  test("takes its randomness from crypto.getRandomValues", async () => {
    const original = crypto.getRandomValues;
    let calls = 0;
    crypto.getRandomValues = function (view) {
      calls += 1;
      return original.call(this, view);
    };
    try {
      await lint("{}", { wasm });
    } finally {
      crypto.getRandomValues = original;
    }
    assert.ok(calls > 0, "the Go runtime seeds itself through random_get");
  });

  test("tells every lint issue with its line and column", async () => {
    const doc = [
      "preset:",
      "- type: oauth_client_credentials",
      "  url: ftp://tokens.example/token",
      "  users:",
      "  - username: svc",
      "    client_id: id",
      "    client_secret: ''",
      "",
    ].join("\n");
    const issues = await lint(doc, { wasm });
    assert.ok(issues.length >= 2, util.inspect(issues));
    const url = issues.find((i) => i.field === "preset[0].url");
    assert.deepEqual([url.line, url.column], [3, 8]);
    const secret = issues.find((i) => i.field === "preset[0].users[0].client_secret");
    assert.equal(secret.line, 7);
    for (const i of issues) assert.equal(typeof i.message, "string");
  });
});

describe("client", () => {
  let srv;
  before(async () => { srv = await tokenServer(); });
  after(() => srv.close());

  test("gets a token, caches it and redacts it when printed", async () => {
    srv.hits = 0;
    srv.requests = [];
    srv.handler = (req, res) => sendToken(res, "tok-plain-1");
    const events = [];
    const client = await createClient({ preset: svcPreset(srv.url), wasm, onEvent: (e) => events.push(e) });
    try {
      assert.deepEqual(client.users().map((u) => [u.username, u.client_id, u.auth_method]), [["svc", "svc-id", "client_secret_basic"]]);
      const tok = await client.token("svc");
      assert.equal(tok.accessToken, "tok-plain-1");
      assert.equal(tok.tokenType, "Bearer");
      assert.equal(tok.user, "svc");
      assert.equal(tok.expirySource, "expires_in");
      assert.ok(tok.expiresAt instanceof Date && tok.expiresAt.getTime() - Date.now() > 50 * 60_000);
      assert.deepEqual(tok.headers, { Authorization: "Bearer tok-plain-1", "X-Team": "a", Cookie: "tenant=acme" });

      const [req] = srv.requests;
      assert.equal(req.method, "POST");
      assert.equal(req.headers.authorization, `Basic ${btoa(`svc-id:${SECRET}`)}`);
      assert.equal(req.headers["x-team"], "a");
      assert.equal(req.headers.cookie, "tenant=acme");
      assert.equal(req.body, "grant_type=client_credentials");

      for (let i = 0; i < 100; i++) assert.equal(await client.token("svc"), tok);
      assert.equal(srv.hits, 1);
      assert.deepEqual(await client.headers("svc"), tok.headers);

      const shown = [String(tok), `${tok}`, JSON.stringify(tok), util.inspect(tok), util.inspect(tok, { showHidden: true, getters: true }),
        util.format("%o", tok), JSON.stringify(structuredClone(tok)), JSON.stringify({ ...tok }), util.inspect(client)];
      const cap = captureConsole();
      try {
        console.log(tok);
        console.log("%s %j", tok, tok);
        console.dir(tok, { depth: 5 });
      } finally {
        cap.restore();
      }
      for (const s of [...shown, ...cap.lines]) {
        assert.ok(!s.includes("tok-plain-1"), `token shown in ${s}`);
      }
      assert.match(String(tok), /^Bearer \[redacted\] \(expires \d{4}-/);
      assert.deepEqual(events.map((e) => [e.type, e.user, e.refresh]), [["token_fetched", "svc", false]]);
    } finally {
      client.close();
    }
  });

  // Calls are encoded straight into the module's buffer, sized first for
  // ASCII; text that is not ASCII must take the second, larger buffer, and
  // a body split inside a character must be decoded whole.
  test("text that is not ASCII reaches the module and comes back intact", async () => {
    const user = "dévé-✓-𝔘";
    const description = "Zugriff verweigert: ungültig ✓ 𝔘";
    const cases = [
      ["one chunk", (res, bytes) => res.end(bytes)],
      ["split inside a character", (res, bytes) => {
        const cut = bytes.indexOf(0xe2) + 1; // after the first byte of ✓
        res.write(bytes.subarray(0, cut));
        setTimeout(() => res.end(bytes.subarray(cut)), 20);
      }],
    ];
    for (const [name, send] of cases) {
      srv.hits = 0;
      srv.requests = [];
      srv.handler = (req, res) => sendToken(res, "tok-unicode");
      const client = await createClient({ preset: preset(srv.url, [{ username: user, client_id: "svc-id", client_secret: SECRET }]), wasm });
      try {
        assert.deepEqual(client.users().map((u) => u.username), [user], name);
        const tok = await client.token(user);
        assert.equal(tok.user, user, name);
        assert.equal(tok.accessToken, "tok-unicode", name);
        await client.invalidate(user);
        srv.handler = (req, res) => {
          res.writeHead(400, { "Content-Type": "application/json" });
          send(res, Buffer.from(JSON.stringify({ error: "invalid_client", error_description: description })));
        };
        await assert.rejects(client.token(user), (err) => {
          assert.equal(err.code, "invalid_client", name);
          assert.equal(err.description, description, name);
          assert.equal(err.user, user, name);
          return true;
        });
        assert.equal(srv.hits, 2, name);
      } finally {
        client.close();
      }
    }
  });

  // The token response goes to the module as raw bytes after the call's
  // JSON (body_bytes): escapes inside it are the module's to read, once.
  test("a token response with escapes reaches the module as it was sent", async () => {
    srv.hits = 0;
    const sent = '{"access_token":"a\\"b\\\\c\\u0041\\/d","token_type":"Bearer","expires_in":3600}';
    srv.handler = (req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(sent);
    };
    const client = await createClient({ preset: svcPreset(srv.url), wasm });
    try {
      const tok = await client.token("svc");
      assert.equal(tok.accessToken, JSON.parse(sent).access_token);
      assert.equal(tok.accessToken, 'a"b\\cA/d');
    } finally {
      client.close();
    }
  });

  test("1000 concurrent cold callers share one request", async () => {
    srv.hits = 0;
    srv.handler = (req, res) => setTimeout(() => sendToken(res, "tok-shared"), 100);
    const client = await createClient({ preset: svcPreset(srv.url), wasm });
    try {
      const toks = await Promise.all(Array.from({ length: 1000 }, () => client.token("svc")));
      assert.ok(toks.every((t) => t.accessToken === "tok-shared"));
      assert.equal(srv.hits, 1);
    } finally {
      client.close();
    }
  });

  test("token options are cached apart", async () => {
    srv.hits = 0;
    srv.requests = [];
    srv.handler = (req, res) => sendToken(res, `tok-${srv.hits}`);
    const client = await createClient({ preset: svcPreset(srv.url), wasm });
    try {
      const a = await client.token("svc");
      const b = await client.token("svc", { scopes: ["read"], resource: "urn:x" });
      const b2 = await client.token("svc", { scopes: "read", resource: ["urn:x"] });
      assert.notEqual(a.accessToken, b.accessToken);
      assert.equal(b, b2);
      assert.equal(srv.requests[1].body, "grant_type=client_credentials&scope=read&resource=urn%3Ax");
      await assert.rejects(client.token("svc", { scopes: [1] }), TypeError);
    } finally {
      client.close();
    }
  });

  test("env: asks only for the names the preset uses", async () => {
    srv.requests = [];
    srv.handler = (req, res) => sendToken(res, "tok-env");
    const asked = [];
    const doc = svcPreset(srv.url, {}, { client_secret: "${env:CCTOKEN_TEST_SECRET}" });
    const client = await createClient({
      preset: doc, wasm,
      env: async (name) => { asked.push(name); return name === "CCTOKEN_TEST_SECRET" ? "from-env" : undefined; },
    });
    try {
      assert.deepEqual(asked, ["CCTOKEN_TEST_SECRET"]);
      await client.token("svc");
      assert.equal(srv.requests.at(-1).headers.authorization, `Basic ${btoa("svc-id:from-env")}`);
    } finally {
      client.close();
    }
    const obj = await createClient({ preset: doc, wasm, env: { CCTOKEN_TEST_SECRET: "from-object" } });
    try {
      await obj.token("svc");
      assert.equal(srv.requests.at(-1).headers.authorization, `Basic ${btoa("svc-id:from-object")}`);
    } finally {
      obj.close();
    }
    await assert.rejects(createClient({ preset: doc, wasm, env: {} }), (err) => {
      assert.ok(err instanceof CctokenError);
      assert.equal(err.code, "invalid_preset");
      assert.equal(err.field, "preset[0].users[0].client_secret");
      assert.ok(err.issues.length >= 1);
      return true;
    });
  });

  test("a preset that does not load gives every issue", async () => {
    await assert.rejects(createClient({ preset: "preset:\n- type: nope\n  url: https://a.example/token\n  users: []\n", wasm }), (err) => {
      assert.ok(err instanceof CctokenError);
      assert.equal(err.code, "invalid_preset");
      assert.equal(err.line, 2);
      assert.ok(err.issues.length >= 1);
      assert.equal(JSON.parse(JSON.stringify(err)).code, "invalid_preset");
      return true;
    });
  });

  test("unknown user, invalidate and close", async () => {
    srv.hits = 0;
    srv.handler = (req, res) => sendToken(res, `tok-${srv.hits}`);
    const client = await createClient({ preset: svcPreset(srv.url), wasm });
    await assert.rejects(client.token("nobody"), { code: "unknown_user", field: "user" });
    const t1 = await client.token("svc");
    await client.invalidate("svc");
    // A new request proves the module's own cache was dropped too.
    const t2 = await client.token("svc");
    assert.notEqual(t1.accessToken, t2.accessToken);
    assert.equal(srv.hits, 2);
    await assert.rejects(client.invalidate("nobody"), { code: "unknown_user" });

    srv.handler = () => {}; // never answers
    await client.invalidate("svc");
    const pending = client.token("svc");
    await waitFor(() => srv.hits === 3);
    client.close();
    await assert.rejects(pending, { code: "closed" });
    await assert.rejects(client.token("svc"), { code: "closed" });
    client.close();
  });

  test("refresh-ahead serves the old token and reports a failed refresh", async () => {
    srv.hits = 0;
    srv.handler = (req, res) => sendToken(res, "tok-ahead-1", 4);
    const events = [];
    // skew 1 s, refresh_ahead 0.5: use until 3 s, refresh from 1.5 s.
    const client = await createClient({
      preset: svcPreset(srv.url, { refresh_skew: "1s", refresh_ahead: 0.5 }), wasm, onEvent: (e) => events.push(e),
    });
    try {
      const t1 = await client.token("svc");
      srv.handler = (req, res) => {
        res.writeHead(503, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "temporarily_unavailable" }));
      };
      await sleep(1700);
      assert.equal(await client.token("svc"), t1);
      // Served before the refresh it started could have had an answer.
      assert.ok(!events.some((e) => e.type === "refresh_failed"));
      await waitFor(() => events.some((e) => e.type === "refresh_failed"));
      const failed = events.find((e) => e.type === "refresh_failed");
      assert.equal(failed.code, "temporarily_unavailable");
      assert.equal(failed.status, 503);
      assert.ok(failed.retryAt instanceof Date);
      assert.equal((await client.token("svc")).accessToken, "tok-ahead-1");
      assert.equal(srv.hits, 2);
    } finally {
      client.close();
    }
  });

  test("waitUntil is given the background refresh and nothing else", async () => {
    srv.hits = 0;
    srv.handler = (req, res) => sendToken(res, `tok-wait-${srv.hits}`, 4);
    const client = await createClient({ preset: svcPreset(srv.url, { refresh_skew: "1s", refresh_ahead: 0.5 }), wasm });
    try {
      const given = [];
      const waitUntil = (p) => given.push(p);
      const t1 = await client.token("svc", { waitUntil });
      assert.equal(await client.token("svc", { waitUntil }), t1);
      assert.equal(given.length, 0, "no refresh before the refresh point");
      await sleep(1700);
      assert.equal(await client.token("svc", { waitUntil }), t1, "served at once past the refresh point");
      assert.equal(given.length, 1);
      assert.ok(given[0] instanceof Promise);
      await given[0];
      assert.equal(srv.hits, 2, "the promise settles when the refresh has ended");
      assert.notEqual((await client.token("svc")).accessToken, t1.accessToken);
      await assert.rejects(client.token("svc", { waitUntil: 1 }), /waitUntil must be a function/);
    } finally {
      client.close();
    }
  });
});

describe("fetch bridge", () => {
  test("does not follow a redirect", async () => {
    const target = await tokenServer();
    const redirector = await listen((req, res) => {
      res.writeHead(302, { Location: target.url });
      res.end();
    });
    const client = await createClient({ preset: svcPreset(`${redirector.url}/token`), wasm });
    try {
      await assert.rejects(client.token("svc"), (err) => {
        assert.equal(err.code, "http_status");
        assert.equal(err.status, 302);
        return true;
      });
      assert.equal(target.hits, 0);
    } finally {
      client.close();
      await redirector.close();
      await target.close();
    }
  });

  test("caps the body at 1 MiB", async () => {
    const big = "x".repeat((1 << 20) + 1);
    const srv = await listen((req, res) => {
      if (req.url === "/chunked") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write(big.slice(0, 1 << 19));
        res.end(big.slice(1 << 19));
      } else {
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(big.length) });
        res.end(big);
      }
    });
    try {
      for (const p of ["/chunked", "/sized"]) {
        const client = await createClient({ preset: svcPreset(`${srv.url}${p}`), wasm });
        await assert.rejects(client.token("svc"), { code: "too_large" }, p);
        client.close();
      }
    } finally {
      await srv.close();
    }
  });

  test("times out, and says nothing of the URL", async () => {
    const srv = await listen(() => {});
    const client = await createClient({ preset: svcPreset(`${srv.url}/token`), wasm, timeoutMs: 300 });
    try {
      const start = performance.now();
      await assert.rejects(client.token("svc"), (err) => {
        assert.equal(err.code, "timeout");
        assert.ok(!err.message.includes(String(srv.port)), err.message);
        return true;
      });
      assert.ok(performance.now() - start < 3000);
    } finally {
      client.close();
      await srv.close();
    }
  });

  test("a refused connection is a network failure", async () => {
    const srv = await listen(() => {});
    const url = `${srv.url}/token`;
    await srv.close(); // nothing listens there now
    const client = await createClient({ preset: svcPreset(url), wasm });
    try {
      await assert.rejects(client.token("svc"), (err) => {
        assert.equal(err.code, "network");
        assert.ok(!err.message.includes(String(srv.port)), err.message);
        return true;
      });
    } finally {
      client.close();
    }
  });

  test("refuses a user with a client certificate (mTLS is Go-host only) and sends nothing", async () => {
    const srv = await tokenServer();
    const KEY = "-----BEGIN PRIVATE KEY-----\nKEY-CANARY-9c1e\n-----END PRIVATE KEY-----\n";
    const text = preset(srv.url, [
      { username: "mtls", client_id: "mtls-id", auth_method: "tls_client_auth", tls_client_certificate: "/etc/mtls.crt", tls_client_key: "${env:MTLS_KEY}" },
      { username: "svc", client_id: "svc-id", client_secret: SECRET },
    ]);
    const events = [];
    const client = await createClient({ preset: text, wasm, env: { MTLS_KEY: KEY }, onEvent: (e) => events.push(e) });
    try {
      await assert.rejects(client.token("mtls"), (err) => {
        assert.ok(err instanceof CctokenError);
        assert.equal(err.code, "unsupported");
        assert.equal(err.user, "mtls");
        assert.equal(err.field, "preset[0].users[0].tls_client_certificate");
        assert.equal(err.oauthError, undefined);
        assert.match(err.message, /user mtls: .*Go-host only/);
        assert.ok(!err.message.includes("KEY-CANARY"), err.message);
        return true;
      });
      assert.equal(srv.hits, 0, "no request may be sent for an mTLS user");
      assert.ok(!JSON.stringify(events).includes("KEY-CANARY"));
      // Other users of the same preset are not affected.
      assert.ok((await client.token("svc")).accessToken);
    } finally {
      client.close();
      await srv.close();
    }
  });

  test("sends once more when the connection drops before an answer, not more", async () => {
    let hits = 0;
    let dropAll = false;
    const srv = await listen((req, res) => {
      hits += 1;
      if (dropAll || hits === 1) {
        req.socket.destroy();
      } else {
        sendToken(res, "tok-after-drop");
      }
    });
    const client = await createClient({ preset: svcPreset(`${srv.url}/token`), wasm });
    try {
      assert.equal((await client.token("svc")).accessToken, "tok-after-drop");
      assert.equal(hits, 2);
      dropAll = true;
      hits = 0;
      await client.invalidate("svc");
      await assert.rejects(client.token("svc"), { code: "network" });
      assert.equal(hits, 2);
    } finally {
      client.close();
      await srv.close();
    }
  });

  test("sends through the fetch option with redirect manual and a signal", async () => {
    const seen = [];
    const client = await createClient({
      preset: svcPreset("https://tokens.example/token"), wasm,
      fetch: async (input, init) => {
        seen.push({ input, init });
        return new Response(JSON.stringify({ access_token: "tok-fake", token_type: "bearer", expires_in: 60 }), {
          headers: [["Content-Type", "application/json"], ["X-Dup", "a"], ["X-Dup", "b"]],
        });
      },
    });
    try {
      assert.equal((await client.token("svc")).accessToken, "tok-fake");
      assert.equal(seen.length, 1);
      assert.equal(seen[0].input, "https://tokens.example/token");
      assert.equal(seen[0].init.redirect, "manual");
      assert.ok(seen[0].init.signal instanceof AbortSignal);
      assert.equal(seen[0].init.method, "POST");
    } finally {
      client.close();
    }
  });
});

describe("client.fetch", () => {
  let tokens;
  let api;
  let client;
  const apiSeen = [];
  before(async () => {
    tokens = await tokenServer();
    tokens.handler = (req, res) => sendToken(res, `tok-${tokens.hits}`);
    // Refuses tok-1 as invalid_token, accepts any other.
    api = await listen(async (req, res) => {
      const body = await readBody(req);
      apiSeen.push({ auth: req.headers.authorization, cookie: req.headers.cookie, team: req.headers["x-team"], body });
      if (req.url === "/plain401") {
        res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="api"' });
        res.end();
      } else if (req.headers.authorization === "Bearer tok-1") {
        res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="api", error="invalid_token", error_description="revoked"' });
        res.end("no");
      } else {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end(`ok ${req.headers.authorization} ${body}`);
      }
    });
    client = await createClient({ preset: svcPreset(tokens.url), wasm });
  });
  after(async () => {
    client.close();
    await api.close();
    await tokens.close();
  });

  test("adds the headers, replaces Authorization and retries once on invalid_token", async () => {
    const res = await client.fetch("svc", `${api.url}/data`, {
      method: "POST", body: "payload", headers: { Authorization: "Basic caller", Cookie: "mine=1" },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok Bearer tok-2 payload");
    assert.deepEqual(apiSeen.map((s) => s.auth), ["Bearer tok-1", "Bearer tok-2"]);
    assert.equal(apiSeen[1].cookie, "mine=1; tenant=acme");
    assert.equal(apiSeen[1].team, "a");
    assert.equal(tokens.hits, 2);
  });

  test("does not retry a streamed body or a 401 that is not invalid_token", async () => {
    await client.invalidate("svc");
    tokens.hits = 0; // the next token is tok-1 again, which the API refuses
    apiSeen.length = 0;
    const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("s")); c.close(); } });
    const res = await client.fetch("svc", `${api.url}/data`, { method: "POST", body: stream, duplex: "half" });
    assert.equal(res.status, 401);
    assert.equal(apiSeen.length, 1);
    const plain = await client.fetch("svc", `${api.url}/plain401`);
    assert.equal(plain.status, 401);
    assert.equal(apiSeen.length, 2);
    assert.equal(tokens.hits, 1);
  });

  test("replays URLSearchParams, Blob and Request inputs", async () => {
    await client.invalidate("svc");
    for (const make of [
      () => [`${api.url}/a`, { method: "POST", body: new URLSearchParams({ q: "1" }) }],
      () => [`${api.url}/b`, { method: "PUT", body: new Blob(["blob"]) }],
      () => [new Request(`${api.url}/c`, { headers: { "X-Extra": "1" } }), undefined],
    ]) {
      await client.invalidate("svc");
      tokens.hits = 0;
      const [input, init] = make();
      const res = await client.fetch("svc", input, init);
      assert.equal(res.status, 200, String(input));
      assert.match(await res.text(), /^ok Bearer tok-2/);
    }
  });
});

test("an instance error object carries the module's fields", () => {
  const err = new CctokenError("cctoken: x", { code: "invalid_client", status: 401, oauthError: "invalid_client" });
  assert.ok(err instanceof Error);
  assert.deepEqual(JSON.parse(JSON.stringify(err)), {
    name: "CctokenError", code: "invalid_client", message: "cctoken: x", status: 401, oauthError: "invalid_client",
  });
});

describe("token source", () => {
  test("a source's token is used, its failures fall back to the module, its errors fail the token", async () => {
    const srv = await tokenServer();
    const owner = await createClient({ preset: svcPreset(srv.url), wasm });
    const handed = tokenAnswer(await owner.token("svc"));
    assert.equal(srv.hits, 1);
    assert.equal(handed.access_token, "tok-1");
    assert.ok(handed.refresh_at > Date.now() && handed.use_until >= handed.refresh_at);

    let mode = "ok";
    const asked = [];
    const refused = [];
    const events = [];
    const source = {
      async token(user, req, info) {
        asked.push([user, req, info.refresh]);
        if (mode === "down") throw new Error("unreachable");
        if (mode === "unshared") return null;
        if (mode === "error") throw new CctokenError("cctoken: user svc: invalid_client", { code: "invalid_client", user, status: 401 });
        return handed;
      },
      async invalidate(user, req, accessToken) { refused.push([user, accessToken]); },
    };
    const isolate = await createClient({ preset: svcPreset(srv.url), wasm, source, onEvent: (e) => events.push(e) });
    try {
      const t = await isolate.token("svc");
      assert.equal(t.accessToken, "tok-1");
      assert.equal(t.headers["X-Team"], "a");
      assert.equal(srv.hits, 1, "no token request of its own");
      assert.deepEqual(asked, [["svc", {}, false]]);
      assert.equal(events[0].source, true);

      mode = "error";
      await assert.rejects(isolate.token("svc", { scopes: "x" }), { code: "invalid_client" });
      assert.equal(srv.hits, 1);

      mode = "unshared";
      const unshared = await isolate.token("svc", { scopes: "z" });
      assert.equal(unshared.accessToken, "tok-2", "a token the source does not share is fetched by the module");
      assert.ok(!events.some((e) => e.type === "source_unavailable"), "null is no failure");
      await isolate.invalidate("svc");

      mode = "down";
      const own = await isolate.token("svc", { scopes: "y" });
      assert.equal(own.accessToken, "tok-3", "fetched on its own");
      assert.ok(events.some((e) => e.type === "source_unavailable" && !JSON.stringify(e).includes("tok-")));

      // A token a server refuses is reported to the source.
      mode = "ok";
      const api = await listen((req, res) => {
        res.writeHead(401, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
        res.end();
      });
      const res = await isolate.fetch("svc", api.url);
      assert.equal(res.status, 401);
      assert.deepEqual(refused, [["svc", "tok-1"]]);
      assert.throws(() => tokenAnswer({}), /needs a Token/);
      await assert.rejects(createClient({ preset: svcPreset(srv.url), wasm, source: { token: 1 } }), /source must be an object/);
    } finally {
      owner.close();
      isolate.close();
    }
  });
});

describe("discovery", () => {
  test("an issuer mismatch is the module's error, not an OAuth one", async () => {
    const meta = await listen((req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ issuer: "https://someone-else.example", token_endpoint: "https://someone-else.example/token" }));
    });
    const client = await createClient({
      preset: JSON.stringify({ preset: [{ type: "oauth_client_credentials", issuer: meta.url, users: [{ username: "svc", client_id: "id", client_secret: SECRET }] }] }),
      wasm,
    });
    try {
      await assert.rejects(client.token("svc"), (err) => {
        assert.equal(err.code, "issuer_mismatch");
        assert.equal(err.oauthError, undefined);
        return true;
      });
    } finally {
      client.close();
    }
  });
});
