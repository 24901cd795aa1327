// Helpers shared by the js/test files: the compiled module, local servers
// on 127.0.0.1, the node-oidc-provider test server and console capture.
// Kept out of js/test/ so that `node --test js/test/` does not run it.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import util from "node:util";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const wasmPath = path.join(root, "host", "embed", "cctoken.wasm");

let compiled;
/** The module, compiled once per test file. */
export function wasmModule() {
  compiled ??= readFile(wasmPath).then((b) => WebAssembly.compile(b));
  return compiled;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls cond every 20 ms for at most ms milliseconds. */
export async function waitFor(cond, ms = 5000) {
  for (let waited = 0; waited < ms; waited += 20) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

/**
 * Starts a node:http server on 127.0.0.1 with a free port.
 * @param {http.RequestListener} handler
 */
const servers = new Set();
const children = new Set();

/**
 * Closes every server and stops every oidc server this file started and
 * did not close; for an after() hook, so a failed test cannot leave the
 * process hanging.
 */
export async function closeAll() {
  await Promise.all([...servers].map((s) => s.close()));
  await Promise.all([...children].map((c) => c.stop()));
}

export async function listen(handler) {
  const server = http.createServer(handler);
  // A fixture never keeps the test process alive by itself.
  server.unref();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  const handle = {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () => new Promise((resolve) => {
      servers.delete(handle);
      server.closeAllConnections();
      server.close(() => resolve(undefined));
    }),
  };
  servers.add(handle);
  return handle;
}

/** Reads a request body as text. */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => { body += c; });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/** A token endpoint answer. */
export function sendToken(res, accessToken, expiresIn = 3600) {
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: expiresIn }));
}

/**
 * Runs tests/oidc/server.mjs with config and waits for its ready line.
 * The server exits when its stdin closes, so it cannot outlive this process.
 */
export async function startOIDC(config) {
  const testsDir = path.join(root, "tests");
  if (!existsSync(path.join(testsDir, "node_modules", "oidc-provider", "package.json"))) {
    throw new Error("oidc-provider is not installed in tests/node_modules; run tests/setup.sh first");
  }
  return startTestServer(path.join(testsDir, "oidc", "server.mjs"), config);
}

/**
 * Runs tests/dpop/server.mjs, the resource server that checks DPoP proofs
 * and DPoP-bound JWT access tokens, for the access tokens of oidc (started
 * with jwt_access_tokens).
 */
export function startDPoPServer(oidc, requireNonce = false) {
  return startTestServer(path.join(root, "tests", "dpop", "server.mjs"), {
    issuer: oidc.issuer, jwks_uri: oidc.jwks_uri, audience: oidc.resource, require_nonce: requireNonce,
  });
}

/**
 * Runs one of the tests' server scripts with config on its stdin and waits
 * for its ready line; the script exits when its stdin closes. A start that
 * is not ready in 45 s is killed and tried once more, its stderr (which
 * notes each step of the start) printed, so that a rare stall neither
 * fails the suite nor goes unseen.
 */
async function startTestServer(script, config) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTestServerOnce(script, config);
    } catch (err) {
      if (attempt >= 2 || !err.notReady) throw err;
      console.error(`${err.message}\n(starting it once more)`);
    }
  }
}

async function startTestServerOnce(script, config) {
  const testsDir = path.join(root, "tests");
  const name = path.basename(path.dirname(script));
  const child = spawn(process.execPath, [script], {
    cwd: testsDir,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, OIDC_TEST_TRACE: "1" },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c) => { stderr = (stderr + c).slice(-16384); });
  child.stdin.write(`${JSON.stringify(config)}\n`);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let ready;
  try {
    ready = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        reject(Object.assign(new Error(`${name} server not ready in 45 s:\n${stderr}`), { notReady: true }));
      }, 45_000);
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (c) => {
        out += c;
        const nl = out.indexOf("\n");
        if (nl !== -1) {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(out.slice(0, nl)));
          } catch (err) {
            reject(err);
          }
        }
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} server exited (${code}):\n${stderr}`));
      });
    });
  } catch (err) {
    // A child left running would hold the test file open to its timeout.
    child.kill("SIGKILL");
    await exited;
    throw err;
  }
  const handle = {
    ...ready,
    stderr: () => stderr,
    stats: async () => (await fetch(ready.stats)).json(),
    reset: async () => { await (await fetch(ready.reset, { method: "POST" })).text(); },
    async stop() {
      children.delete(handle);
      child.stdin.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(handle);
  return handle;
}

/** A preset document for users (objects with username, client_id, client_secret, …). */
export function preset(url, users, extra = {}) {
  return JSON.stringify({ preset: [{ type: "oauth_client_credentials", url, ...extra, users }] });
}

const consoleMethods = ["log", "info", "warn", "error", "debug", "trace", "dir", "table"];

/** Replaces the console methods and records what they would print. */
export function captureConsole() {
  const lines = [];
  const saved = {};
  for (const m of consoleMethods) {
    saved[m] = console[m];
    console[m] = (...args) => { lines.push(util.format(...args)); };
  }
  return {
    lines,
    restore() { Object.assign(console, saved); },
  };
}
