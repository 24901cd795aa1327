// The npm package as a new user gets it: `npm pack` of js/, installed from
// the tarball into an empty project in a temporary folder, and used there
// with no configuration in the three places it is made for:
//
//   - Node: createClient({ preset }) without wasm gets a token from
//     node-oidc-provider (tests/oidc/server.mjs);
//   - a browser: a bundle that esbuild builds from the project (the module
//     copied beside it, as js/README.md says) loads in Debian's chromium
//     (playwright-core) and gets a token, fetching cctoken.wasm as an asset;
//   - workerd: a worker that imports "cctoken" and "cctoken/cctoken.wasm"
//     signs a request to an API that checks the token.
//
// The project's TypeScript program (js/test-support/consumer.ts) also
// compiles there with tsc --strict against the installed types.
//
//   node --test tests/npm/
//
// Needs tests/node_modules (tests/setup.sh), js/node_modules ((cd js && npm
// ci)), workerd (edge/setup.sh) and chromium (tests/browser/setup-chromium.sh);
// ./tests/run.sh installs them all. npm install reaches the registry (or
// npm's cache) for the package's one dependency.

import assert from "node:assert/strict";
import { execFile as execFileCb, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { closeAll, listen, startOIDC } from "../../js/test-support/helpers.js";
import { startUpstream, startWorkerd, stopAllWorkerd } from "../../edge/test-support/harness.mjs";

const execFile = promisify(execFileCb);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const esbuild = path.join(root, "tests", "node_modules", ".bin", "esbuild");
const tsc = path.join(root, "js", "node_modules", "typescript", "bin", "tsc");
const CHROMIUM = "/usr/bin/chromium";
const npmFlags = ["--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error"];

const CLIENT_ID = "npm-app";
const CLIENT_SECRET = "npm-app-secret-0123456789";
const API_SECRET = "npm-api-secret-0123456789";

const tmp = mkdtempSync(path.join(os.tmpdir(), "cctoken-npm-"));
const app = path.join(tmp, "app");
let oidc, api, preset;

/** A static file server for the browser bundle; records every path asked for. */
async function serveStatic(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const asked = [];
  const srv = await listen((req, res) => {
    const name = new URL(req.url, "http://x").pathname.replace(/\/$/, "/index.html");
    asked.push(name);
    let body;
    try {
      body = readFileSync(path.join(dir, path.normalize(name).replace(/^(\.\.[/\\])+/, "")));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": types[path.extname(name)] ?? "application/octet-stream" });
    res.end(body);
  });
  return Object.assign(srv, { asked });
}

/** True when the provider says the token is active and was issued to our client. */
async function introspect(token) {
  const res = await fetch(oidc.introspection_endpoint, {
    method: "POST",
    headers: { Authorization: `Basic ${btoa(`api:${API_SECRET}`)}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  });
  const info = await res.json();
  return info.active === true && info.client_id === CLIENT_ID;
}

before(async () => {
  // The package, packed as `npm publish` would (prepack copies the module in).
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", tmp, ...npmFlags], { cwd: path.join(root, "js"), encoding: "utf8" });
  const tarball = path.join(tmp, JSON.parse(out.slice(out.indexOf("[")))[0].filename);
  // An empty project that installs it.
  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "scratch-app", private: true, type: "module" }));
  await execFile("npm", ["install", tarball, "--prefer-offline", ...npmFlags], { cwd: app });

  oidc = await startOIDC({
    clients: [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_endpoint_auth_method: "client_secret_basic", scope: "read" },
      { client_id: "api", client_secret: API_SECRET, token_endpoint_auth_method: "client_secret_basic" },
    ],
    cors_origins: ["*"],
    access_token_ttl: 600,
  });
  api = await startUpstream({ introspection: oidc.introspection_endpoint, clientId: "api", clientSecret: API_SECRET });
  preset = JSON.stringify({
    preset: [{ type: "oauth_client_credentials", url: oidc.token_endpoint, users: [{ username: "svc", client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scopes: ["read"] }] }],
  });
});

after(async () => {
  await stopAllWorkerd();
  await closeAll();
  rmSync(tmp, { recursive: true, force: true });
});

describe("the installed npm package", { timeout: 240_000 }, () => {
  test("installs the code, the types and cctoken.wasm byte for byte", () => {
    const installed = path.join(app, "node_modules", "cctoken");
    const shipped = readFileSync(path.join(installed, "cctoken.wasm"));
    assert.ok(shipped.equals(readFileSync(path.join(root, "host", "embed", "cctoken.wasm"))), "installed cctoken.wasm differs from host/embed/cctoken.wasm");
    const pkg = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
    assert.equal(pkg.version, JSON.parse(readFileSync(path.join(root, "js", "package.json"), "utf8")).version);
  });

  test("Node: createClient({ preset }) without wasm gets a token the API accepts", async () => {
    writeFileSync(path.join(app, "node-app.mjs"), `
import { createClient, VERSION } from "cctoken";
const client = await createClient({ preset: process.env.PRESET });
const res = await client.fetch("svc", process.env.API + "/orders");
console.log(JSON.stringify({ status: res.status, answer: await res.json(), version: VERSION }));
client.close();
`);
    const before = api.seen.length;
    const { stdout } = await execFile(process.execPath, ["node-app.mjs"], { cwd: app, env: { ...process.env, PRESET: preset, API: api.url } });
    const got = JSON.parse(stdout);
    assert.equal(got.status, 200);
    assert.equal(got.answer.client, CLIENT_ID);
    assert.equal(got.version, JSON.parse(readFileSync(path.join(root, "js", "package.json"), "utf8")).version);
    assert.equal(api.seen.length, before + 1);
    assert.ok(api.seen.at(-1).active, "the API found the token active at the provider");
  });

  test("TypeScript: the consumer program compiles with tsc --strict against the installed types", () => {
    cpSync(path.join(root, "js", "test-support", "consumer.ts"), path.join(app, "consumer.ts"));
    execFileSync(process.execPath, [tsc, "--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext",
      "--target", "es2022", "--lib", "es2022,dom", "consumer.ts"], { cwd: app, encoding: "utf8" });
  });

  test("browser: an esbuild bundle loads in chromium, fetches the module as an asset and gets a token", async () => {
    const web = path.join(app, "web");
    const dist = path.join(app, "dist");
    mkdirSync(web);
    writeFileSync(path.join(web, "app.js"), `
import { createClient, VERSION } from "cctoken";
globalThis.getToken = async (preset) => {
  const client = await createClient({ preset });
  try {
    const token = await client.token("svc");
    return { accessToken: token.accessToken, scopes: [...token.scopes], version: VERSION };
  } finally {
    client.close();
  }
};
document.body.dataset.ready = "1";
`);
    // The setting of js/README.md: the module as a second entry point with
    // the copy loader, so it lands beside the bundle, where
    // new URL("./cctoken.wasm", import.meta.url) points.
    execFileSync(esbuild, ["web/app.js", "cctoken=cctoken/cctoken.wasm", "--bundle", "--format=esm", "--loader:.wasm=copy",
      "--outdir=dist", "--log-level=error"], { cwd: app });
    // The same bundle without the module beside it: the error must say so.
    execFileSync(esbuild, ["web/app.js", "--bundle", "--format=esm", "--outdir=bare", "--log-level=error"], { cwd: app });
    const html = '<!doctype html><meta charset="utf-8"><title>cctoken</title><body><script type="module" src="./app.js"></script></body>\n';
    writeFileSync(path.join(dist, "index.html"), html);
    writeFileSync(path.join(app, "bare", "index.html"), html);
    const site = await serveStatic(app);

    const { chromium } = await import(path.join(root, "tests", "node_modules", "playwright-core", "index.mjs"));
    const profile = mkdtempSync(path.join(tmp, "profile-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      page.setDefaultTimeout(60_000);
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${site.url}/dist/`);
      await page.waitForSelector("body[data-ready='1']", { state: "attached" });
      const got = await page.evaluate((p) => globalThis.getToken(p), preset);
      assert.deepEqual(errors, []);
      assert.deepEqual(got.scopes, ["read"]);
      assert.ok(await introspect(got.accessToken), "the browser's token is active at the provider");
      assert.ok(site.asked.includes("/dist/cctoken.wasm"), `the page fetched the module as an asset (asked: ${site.asked.join(", ")})`);

      await page.goto(`${site.url}/bare/`);
      await page.waitForSelector("body[data-ready='1']", { state: "attached" });
      const failed = await page.evaluate((p) => globalThis.getToken(p).then(() => "no error", (e) => `${e.code}: ${e.message}`), preset);
      assert.match(failed, /^bad_module: cctoken: the cctoken.wasm this package ships \(http:.*\/bare\/cctoken\.wasm\): .*HTTP 404; serve it beside the bundle/);
    } finally {
      await context.close();
    }
  });

  test("workerd: a worker importing cctoken and cctoken/cctoken.wasm signs a request", async () => {
    const dir = path.join(app, "worker");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "worker.js"), `
import { createClient } from "cctoken";
import wasm from "cctoken/cctoken.wasm";

let client;
export default {
  async fetch(request, env) {
    client ??= createClient({ preset: env.PRESET, wasm });
    const res = await (await client).fetch("svc", env.API + new URL(request.url).pathname);
    return new Response(res.body, { status: res.status, headers: { "Content-Type": "application/json" } });
  },
};
`);
    // As wrangler does: bundle the JavaScript, keep the .wasm import for
    // the runtime, which gets it as a compiled module of that name.
    execFileSync(esbuild, ["worker/worker.js", "--bundle", "--format=esm", "--conditions=workerd,worker,browser",
      "--external:*.wasm", "--outfile=worker/out/worker.js", "--log-level=error"], { cwd: app });
    const config = path.join(dir, "config.capnp");
    writeFileSync(config, `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .app),
    (name = "outbound", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const app :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "out/worker.js"),
    (name = "cctoken/cctoken.wasm", wasm = embed "../node_modules/cctoken/cctoken.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [(name = "PRESET", fromEnvironment = "PRESET"), (name = "API", fromEnvironment = "API")],
  globalOutbound = "outbound",
);
`);
    const worker = await startWorkerd({ config, env: { PRESET: preset, API: api.url } });
    const res = await fetch(`${worker.url}/orders`);
    const body = await res.text();
    assert.equal(res.status, 200, `${body}\n${worker.output()}`);
    assert.equal(JSON.parse(body).client, CLIENT_ID);
    assert.ok(api.seen.at(-1).active);
    assert.ok(!worker.output().includes(CLIENT_SECRET), "workerd's output holds no secret");
  });
});
