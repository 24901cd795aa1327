// The API explorer (index.html) in a real Chromium, driven by playwright-core.
//
//   node --test tests/browser/
//
// Installs what it needs (Debian's chromium, the npm packages of
// tests/package.json), builds the cctoken command into a temporary
// directory, and starts everything on 127.0.0.1:
//
//   - node-oidc-provider A (tests/oidc/server.mjs): JWT access tokens, CORS
//     allowed for the page's origin when the page is served statically;
//   - node-oidc-provider B: opaque tokens and no CORS at all;
//   - a sample API per provider (node:http) that checks the bearer token
//     with the provider's introspection endpoint and answers which client
//     called; API A allows the static page's origin, API B allows none;
//   - a static file server for the repository root (the page as any static
//     server serves it);
//   - `cctoken explore --allow-origin <API B>` (the page with the relay),
//     opened at the URL it prints, which holds its per-launch secret.
//
// Screenshots go to tests/out/ (gitignored): explorer.png is the artifact.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const outDir = path.join(root, "tests/out");
const CHROMIUM = "/usr/bin/chromium";
const STEP_TIMEOUT = 60_000;

const cleanups = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cctoken-browser-"));
cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------ servers

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts tests/oidc/server.mjs with config; resolves to its ready line. */
async function startProvider(config) {
  const child = spawn(process.execPath, [path.join(root, "tests/oidc/server.mjs")], {
    cwd: root, stdio: ["pipe", "pipe", "pipe"],
  });
  cleanups.push(() => { child.stdin.end(); child.kill("SIGTERM"); });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr = (stderr + d).slice(-4000); });
  child.stdin.write(`${JSON.stringify(config)}\n`);
  let buf = "";
  for await (const chunk of child.stdout) {
    buf += chunk;
    if (buf.includes("\n")) break;
  }
  if (!buf.includes("\n")) throw new Error(`oidc server did not start: ${stderr}`);
  return JSON.parse(buf.slice(0, buf.indexOf("\n")));
}

/**
 * A protected API: GET /whoami checks the bearer token and answers which
 * client called. Opaque tokens are checked with the provider's
 * introspection endpoint; JWT access tokens (which node-oidc-provider does
 * not introspect) by their RS256 signature against the provider's JWKS,
 * their issuer and expiry. corsOrigin, when set, is the one origin allowed
 * to call it from a page. GET /away redirects to sinkURL (another origin),
 * GET /home to /whoami.
 */
async function startApi({ provider, corsOrigin, sinkURL }) {
  const keys = new Map();
  const verifyJwt = async (token) => {
    const [h, p, sig] = token.split(".");
    const header = JSON.parse(Buffer.from(h, "base64url"));
    if (header.alg !== "RS256") return null;
    if (!keys.has(header.kid)) {
      const jwks = await (await fetch(provider.jwks_uri)).json();
      for (const k of jwks.keys) keys.set(k.kid, crypto.createPublicKey({ key: k, format: "jwk" }));
    }
    const key = keys.get(header.kid);
    if (!key || !crypto.verify("RSA-SHA256", Buffer.from(`${h}.${p}`), key, Buffer.from(sig, "base64url"))) return null;
    const claims = JSON.parse(Buffer.from(p, "base64url"));
    if (claims.iss !== provider.issuer || !(claims.exp * 1000 > Date.now())) return null;
    return { active: true, client_id: claims.client_id, scope: claims.scope };
  };
  const introspect = async (token) => {
    const r = await fetch(provider.introspection_endpoint, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from("sample-api:sample-api-secret").toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: new URLSearchParams({ token }),
    });
    return r.json();
  };
  const server = http.createServer(async (req, res) => {
    const cors = {};
    if (corsOrigin && req.headers.origin === corsOrigin) {
      cors["Access-Control-Allow-Origin"] = corsOrigin;
      cors.Vary = "Origin";
    }
    if (req.method === "OPTIONS") {
      if (cors["Access-Control-Allow-Origin"]) {
        cors["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE";
        cors["Access-Control-Allow-Headers"] = req.headers["access-control-request-headers"] ?? "";
        cors["Access-Control-Max-Age"] = "60";
      }
      res.writeHead(204, cors).end();
      return;
    }
    const send = (status, body, extra = {}) => {
      res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...cors, ...extra });
      res.end(JSON.stringify(body));
    };
    // Redirects: /away to the sink (another origin), /home to /whoami.
    if (req.url === "/away" && sinkURL) {
      send(302, { moved: true }, { Location: `${sinkURL}/stolen` });
      return;
    }
    if (req.url === "/home") {
      send(302, { moved: true }, { Location: "/whoami" });
      return;
    }
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
    if (!m) {
      send(401, { error: "unauthorized" }, { "WWW-Authenticate": 'Bearer realm="sample-api"' });
      return;
    }
    try {
      const info = m[1].split(".").length === 3 ? await verifyJwt(m[1]) : await introspect(m[1]);
      if (!info?.active) {
        send(401, { error: "invalid_token" }, { "WWW-Authenticate": 'Bearer realm="sample-api", error="invalid_token"' });
        return;
      }
      send(200, { client_id: info.client_id, scope: info.scope ?? "", team: req.headers["x-team"] ?? null, path: req.url });
    } catch (err) {
      send(502, { error: "token_check_failed", message: String(err?.message ?? err) });
    }
  });
  const url = await listen(server);
  cleanups.push(() => closeServer(server));
  return url;
}

/**
 * A server on another origin (localhost, another port) that records what
 * reaches it: nothing of a user's may.
 */
async function startSink() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { "Access-Control-Allow-Origin": "*" }).end("sink");
  });
  const url = (await listen(server)).replace("127.0.0.1", "localhost");
  cleanups.push(() => closeServer(server));
  return { url, seen };
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json" };

/** Serves the repository root read-only, as any static server would. */
async function startStatic() {
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.resolve(root, `.${p === "/" ? "/index.html" : p}`);
    if ((req.method !== "GET" && req.method !== "HEAD") || !file.startsWith(root + path.sep) || file.includes(`${path.sep}node_modules${path.sep}`)) {
      res.writeHead(404).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404).end(); return; }
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
      res.end(req.method === "HEAD" ? undefined : data);
    });
  });
  const url = await listen(server);
  cleanups.push(() => closeServer(server));
  return url;
}

async function startExplore(bin, args) {
  const child = spawn(bin, ["explore", ...args], { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(() => child.kill("SIGTERM"));
  let logs = "";
  let out = "";
  child.stderr.on("data", (d) => { logs += d; });
  // Keep reading stdout to the end: a closed pipe would kill the server.
  child.stdout.setEncoding("utf8");
  // The printed URL: http://127.0.0.1:PORT/?token=SECRET.
  const printed = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /cctoken API explorer: ((http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]{22,}))\n/.exec(out);
      if (m) resolve(m);
    });
    child.once("exit", (code) => reject(new Error(`cctoken explore exited (${code}): ${out} ${logs}`)));
  });
  const [, url, origin, secret] = await printed;
  return { url, origin, secret, logs: () => logs };
}

async function stats(provider) {
  const r = await fetch(provider.stats);
  return (await r.json()).token_requests;
}

function preset(tokenURL, name) {
  return `preset:
- type: oauth_client_credentials
  name: ${name}
  url: ${tokenURL}
  users:
  - username: alice
    client_id: alice-client
    client_secret: alice-secret-1
    scopes: [read]
    headers: {X-Team: reports}
  - username: bob
    client_id: bob-client
    client_secret: \${env:BOB_SECRET}
    auth_method: client_secret_post
    scopes: [read, write]
`;
}

const BROKEN = `preset:
- type: oauth_client_credentials
  url: ftp://auth.example.com/token
  users:
  - username: alice
    client_id: alice-client
  - username: alice
    client_id: other
    client_secret: x
    scopes: read write
`;

const clients = [
  { client_id: "alice-client", client_secret: "alice-secret-1", token_endpoint_auth_method: "client_secret_basic", scope: "read" },
  { client_id: "bob-client", client_secret: "bob-secret-2", token_endpoint_auth_method: "client_secret_post", scope: "read write" },
  { client_id: "sample-api", client_secret: "sample-api-secret", token_endpoint_auth_method: "client_secret_basic" },
];

// ------------------------------------------------------------------ page helpers

/** Opens pageURL (the page's own address) and waits until it is ready. */
async function waitReady(page, pageURL) {
  await page.goto(pageURL);
  await page.waitForSelector("body[data-ready='1']", { timeout: STEP_TIMEOUT });
}

async function loadPreset(page, text, bobSecret) {
  await page.fill("#preset", text);
  await page.waitForSelector("#lint-ok");
  await page.fill("#env-fields input[name='BOB_SECRET']", bobSecret);
  await page.click("#load");
  await page.waitForSelector(".user[data-user='bob']");
}

async function getTokens(page) {
  await page.click("#token-all");
  await page.waitForFunction(() => document.querySelectorAll(".user .token-type, .user .token-error").length === 2);
  const errors = await page.locator(".user .token-error").allTextContents();
  assert.deepEqual(errors, [], "token errors shown");
}

async function sendAll(page, url) {
  await page.selectOption("#method", "GET");
  await page.fill("#url", url);
  await page.selectOption("#as", "*");
  await page.click("#send");
  await page.waitForFunction(() => {
    const cols = document.querySelectorAll("#results .result");
    return cols.length === 2 && [...cols].every((c) => c.querySelector(".response-body, .error-box"));
  });
  const cols = {};
  for (const user of ["alice", "bob"]) {
    const col = page.locator(`#results .result[data-user='${user}']`);
    cols[user] = {
      head: await col.locator(".result-head").textContent(),
      status: await col.locator(".status-line").textContent(),
      body: await col.locator(".body").textContent(),
    };
  }
  return cols;
}

// ------------------------------------------------------------------ the test

describe("API explorer in Chromium", { timeout: 240_000 }, () => {
  let context, page, bin;
  let staticURL, providerA, providerB, apiA, apiB, explore, sink;
  const consoleErrors = [];

  before(async () => {
    execFileSync(path.join(here, "setup-chromium.sh"), { stdio: "inherit" });
    execFileSync(path.join(root, "tests/setup.sh"), { stdio: "inherit" });
    bin = path.join(tmp, "cctoken");
    execFileSync("go", ["build", "-o", bin, "./host/cmd/cctoken"], { cwd: root, stdio: "inherit" });
    fs.mkdirSync(outDir, { recursive: true });

    staticURL = await startStatic();
    [providerA, providerB] = await Promise.all([
      startProvider({ clients, jwt_access_tokens: true, cors_origins: [staticURL], access_token_ttl: 600 }),
      startProvider({ clients, cors_origins: [], access_token_ttl: 600 }),
    ]);
    sink = await startSink();
    apiA = await startApi({ provider: providerA, corsOrigin: staticURL, sinkURL: sink.url });
    apiB = await startApi({ provider: providerB, corsOrigin: null, sinkURL: sink.url });
    // A preset file with an inline secret, which /preset hands to the page.
    const presetFile = path.join(tmp, "preset.yaml");
    fs.writeFileSync(presetFile, preset(providerB.token_endpoint, "from the command line"));
    explore = await startExplore(bin, [presetFile, "--allow-origin", apiB]);

    const { chromium } = await import("playwright-core");
    const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    cleanups.push(() => context.close());
    page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
  });

  after(async () => {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch { /* best effort */ }
    }
  });

  it("a static server serves the page; it lints, loads two users and gets their JWTs", { timeout: STEP_TIMEOUT }, async () => {
    await waitReady(page, `${staticURL}/index.html`);
    assert.match(await page.textContent("#mode"), /static page/);
    await loadPreset(page, preset(providerA.token_endpoint, "CORS-enabled test server"), "bob-secret-2");
    await getTokens(page);

    assert.equal(await page.locator(".user[data-user='alice'] .token-scopes").textContent(), "read");
    assert.equal(await page.locator(".user[data-user='bob'] .token-scopes").textContent(), "read write");
    assert.match(await page.locator(".user[data-user='alice'] .countdown").textContent(), /^in \d+m \d+s$/);
    const jwtTitle = await page.locator(".user[data-user='alice'] .jwt h4").textContent();
    assert.match(jwtTitle, /decoded, not verified/);
    const claims = JSON.parse((await page.locator(".user[data-user='bob'] .jwt-claims").textContent()).replace(/ {2}\/\/ .*$/gm, ""));
    assert.equal(claims.client_id, "bob-client");
    // The raw token is hidden until revealed.
    const raw = page.locator(".user[data-user='alice'] .raw-token");
    assert.match(await raw.textContent(), /hidden/);
    await page.click(".user[data-user='alice'] .reveal");
    assert.equal((await raw.textContent()).split(".").length, 3);
    await page.click(".user[data-user='alice'] .reveal");
    assert.match(await raw.textContent(), /hidden/);
    assert.deepEqual(await stats(providerA), { "alice-client": 1, "bob-client": 1 });
  });

  it("calls the protected API as both users at once, side by side", { timeout: STEP_TIMEOUT }, async () => {
    await page.fill("#headers", "Accept: application/json");
    const cols = await sendAll(page, `${apiA}/whoami`);
    for (const [user, id] of [["alice", "alice-client"], ["bob", "bob-client"]]) {
      assert.match(cols[user].head, new RegExp(`client_id ${id}`));
      assert.match(cols[user].status, /^200 OK\d+ ms/);
      assert.equal(JSON.parse(cols[user].body).client_id, id, `${user}'s column shows the client the API saw`);
    }
    assert.equal(JSON.parse(cols.alice.body).team, "reports");
    assert.deepEqual(await stats(providerA), { "alice-client": 1, "bob-client": 1 }, "tokens came from the cache");
    await page.screenshot({ path: path.join(outDir, "explorer.png"), fullPage: true });
  });

  it("a redirect is not followed: the browser hides its Location, and nothing reaches the other origin", { timeout: STEP_TIMEOUT }, async () => {
    for (const target of ["/away", "/home"]) {
      const cols = await sendAll(page, `${apiA}${target}`);
      for (const user of ["alice", "bob"]) {
        assert.match(cols[user].status, /^redirect/, `${target} as ${user}: ${cols[user].status}`);
        assert.match(cols[user].body, /was not followed/);
      }
    }
    assert.deepEqual(sink.seen, [], "the other origin got no request");
  });

  it("copy as curl masks the token", { timeout: STEP_TIMEOUT }, async () => {
    await page.click("#curl");
    const curl = await page.textContent("#curl-text");
    assert.match(curl, /-H "Authorization: Bearer \$TOKEN"/);
    assert.match(curl, /TOKEN=\$\(cctoken token preset\.yaml --user alice\)/);
    assert.match(curl, /-H 'X-Team: reports'/);
    const tokens = await page.evaluate(() => [...document.querySelectorAll(".raw-token")].length);
    assert.equal(tokens, 2);
    await page.click(".user[data-user='bob'] .reveal");
    const bobToken = await page.textContent(".user[data-user='bob'] .raw-token");
    assert.ok(bobToken.length > 40 && !curl.includes(bobToken), "the curl command holds no token");
  });

  it("says plainly when an API refuses cross-origin requests, and points to cctoken explore", { timeout: STEP_TIMEOUT }, async () => {
    const cols = await sendAll(page, `${apiB}/whoami`);
    assert.match(cols.alice.status, /failed/);
    const notice = await page.textContent("#notices");
    assert.match(notice, /does not allow cross-origin requests/);
    assert.ok(notice.includes(`cctoken explore --allow-origin ${apiB}`), notice);
  });

  it("lint errors show line numbers, in the CLI's words", { timeout: STEP_TIMEOUT }, async () => {
    await page.fill("#preset", BROKEN);
    await page.waitForSelector("#issues li");
    const shown = await page.locator("#issues li").allTextContents();
    const cli = (() => {
      try {
        execFileSync(bin, ["lint", "-"], { input: BROKEN, encoding: "utf8" });
        return [];
      } catch (err) {
        return err.stdout.trim().split("\n").slice(0, -1).map((l) => l.replace(/^-:(\d+):(\d+): /, "line $1:$2: "));
      }
    })();
    assert.ok(shown.length >= 3, shown.join("\n"));
    assert.deepEqual(shown, cli);
    for (const line of shown) assert.match(line, /^line \d+:\d+: preset\[0\]/);
    assert.ok(await page.locator("#gutter .bad").count() >= 3, "the gutter marks the lines");
    assert.equal(await page.isDisabled("#load"), true);
    await page.screenshot({ path: path.join(outDir, "explorer-lint.png"), fullPage: true });
  });

  it("keeps the preset in sessionStorage only, and Forget clears it", { timeout: STEP_TIMEOUT }, async () => {
    await page.waitForFunction(() => sessionStorage.length === 1);
    const storage = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: localStorage.length }));
    assert.deepEqual(storage, { session: ["cctoken-explorer:preset"], local: 0 });
    await page.click("#forget");
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.equal(await page.inputValue("#preset"), "");
    assert.equal(await page.locator(".user").count(), 0);
  });

  it("under cctoken explore, a token endpoint and an API without CORS go through the relay", { timeout: STEP_TIMEOUT }, async () => {
    await waitReady(page, explore.url);
    assert.match(await page.textContent("#mode"), /relay on/);
    await loadPreset(page, preset(providerB.token_endpoint, "test server without CORS"), "bob-secret-2");
    await getTokens(page);
    assert.match(await page.textContent(".user[data-user='alice'] .opaque"), /Opaque token/);
    // One token request per client: the relay did not send any twice.
    assert.deepEqual(await stats(providerB), { "alice-client": 1, "bob-client": 1 });

    const cols = await sendAll(page, `${apiB}/whoami`);
    for (const [user, id] of [["alice", "alice-client"], ["bob", "bob-client"]]) {
      assert.match(cols[user].status, /^200 OK.*via relay/);
      assert.equal(JSON.parse(cols[user].body).client_id, id);
    }
    await page.screenshot({ path: path.join(outDir, "explorer-relay.png"), fullPage: true });

    // Through the relay the page sees a redirect's Location, so the module
    // decides as in every host: the same origin is followed and signed
    // again, another origin is shown and never contacted.
    const home = await sendAll(page, `${apiB}/home`);
    for (const [user, id] of [["alice", "alice-client"], ["bob", "bob-client"]]) {
      assert.match(home[user].status, /^200 OK.*via relay/);
      assert.equal(JSON.parse(home[user].body).client_id, id);
      assert.equal(JSON.parse(home[user].body).path, "/whoami");
    }
    const away = await sendAll(page, `${apiB}/away`);
    for (const user of ["alice", "bob"]) assert.match(away[user].status, /^302 .*via relay/);
    assert.deepEqual(sink.seen, [], "the other origin got no request");

    // An origin not allowed on the command line: the relay refuses, and
    // the page says how to allow it.
    const refused = await sendAll(page, `${apiA}/whoami`);
    assert.match(refused.alice.status, /failed/);
    assert.ok(refused.alice.body.includes(`cctoken explore --allow-origin ${apiA}`), refused.alice.body);
    assert.doesNotMatch(explore.logs(), /Bearer|secret|authorization/i, "the relay logs no credentials");
    assert.ok(!explore.logs().includes(explore.secret), "the explorer logs no secret of its own");
  });

  it("under cctoken explore, the page keeps working on reload and in a new tab opened from it", { timeout: STEP_TIMEOUT }, async () => {
    await page.reload();
    await page.waitForSelector("body[data-ready='1']", { timeout: STEP_TIMEOUT });
    assert.match(await page.textContent("#mode"), /relay on/);
    // The preset came back from sessionStorage; tokens and the API come through the relay.
    assert.match(await page.inputValue("#preset"), /test server without CORS/);
    await page.waitForSelector("#lint-ok");
    await page.fill("#env-fields input[name='BOB_SECRET']", "bob-secret-2");
    await page.click("#load");
    await page.waitForSelector(".user[data-user='bob']");
    await getTokens(page);
    const cols = await sendAll(page, `${apiB}/whoami`);
    assert.equal(JSON.parse(cols.alice.body).client_id, "alice-client");

    const [tab] = await Promise.all([context.waitForEvent("page"), page.evaluate(() => window.open(location.href))]);
    try {
      await tab.waitForSelector("body[data-ready='1']", { timeout: STEP_TIMEOUT });
      assert.match(await tab.textContent("#mode"), /relay on/);
    } finally {
      await tab.close();
    }
  });

  it("under cctoken explore, nothing is served without the printed secret", { timeout: STEP_TIMEOUT }, async () => {
    const wrong = explore.secret.slice(0, -1) + (explore.secret.endsWith("A") ? "B" : "A");
    const relayBody = JSON.stringify({ method: "POST", url: providerB.token_endpoint, body: "grant_type=client_credentials" });
    const own = { Origin: explore.origin, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json" };
    const before = await stats(providerB);
    for (const [what, init] of [
      ["GET /preset", { path: "/preset" }],
      ["GET /relay", { path: "/relay" }],
      ["POST /relay", { path: "/relay", method: "POST", headers: own, body: relayBody }],
      ["POST /relay/preset", { path: "/relay/preset", method: "POST", headers: own, body: JSON.stringify({ text: preset(providerB.token_endpoint, "x") }) }],
      ["GET /", { path: "/" }],
      ["GET the bundle", { path: "/js/dist/cctoken.bundle.js" }],
      ["GET the module", { path: "/host/embed/cctoken.wasm" }],
    ]) {
      for (const [how, secret] of [["without the secret", null], ["with a wrong secret", wrong]]) {
        const headers = { ...init.headers, ...(secret ? { "X-Cctoken-Explorer-Token": secret } : {}) };
        const res = await fetch(`${explore.origin}${init.path}`, { method: init.method ?? "GET", headers, body: init.body });
        const text = await res.text();
        assert.equal(res.status, 403, `${what} ${how}: ${res.status}`);
        assert.match(text, /open the URL cctoken explore printed/, `${what} ${how}`);
        assert.ok(!text.includes("alice-secret-1") && !text.includes(explore.secret), `${what} ${how}: no secret in the answer`);
      }
    }
    assert.deepEqual(await stats(providerB), before, "the relay sent nothing to the token endpoint");
    // With the secret, /preset answers (and holds the inline secret).
    const ok = await fetch(`${explore.origin}/preset`, { headers: { "X-Cctoken-Explorer-Token": explore.secret } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /alice-secret-1/);

    // The browser, sent to the explorer without the secret, sees the 403 and what to do.
    const tab = await context.newPage();
    try {
      const res = await tab.goto(`${explore.origin}/`);
      assert.equal(res.status(), 403);
      assert.match(await tab.textContent("body"), /open the URL cctoken explore printed/);
    } finally {
      await tab.close();
    }
  });

  it("ran without page errors", () => {
    // Failed cross-origin fetches are logged by Chromium as console errors;
    // anything else is a bug in the page.
    const unexpected = consoleErrors.filter((e) => !/CORS policy|Failed to load resource|ERR_FAILED/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
