// What the edge tests, the demo and the benchmarks share: workerd started
// on 127.0.0.1 with edge/config.capnp (or a generated configuration), and a
// sample upstream API that checks tokens at node-oidc-provider's
// introspection endpoint.

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { listen, readBody } from "../../js/test-support/helpers.js";

export const edgeDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const root = path.resolve(edgeDir, "..");
const workerdBin = path.join(edgeDir, "node_modules", ".bin", "workerd");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A port that was free a moment ago on 127.0.0.1, for workerd, which must
 * be told its port. It is drawn below the kernel's ephemeral range, where
 * listen(0) never lands: between this probe and workerd's bind another
 * test's server asking for any free port cannot take it, and so cannot
 * answer in workerd's place.
 */
export async function freePort() {
  let low = 32768;
  try {
    low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || low;
  } catch {
    // Not Linux: the usual range's start.
  }
  const from = Math.min(20000, low - 1000);
  for (let i = 0; ; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const srv = net.createServer();
    const ok = await new Promise((resolve) => {
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) {
      await new Promise((resolve) => srv.close(resolve));
      return port;
    }
    if (i >= 50) throw new Error("no free port below the ephemeral range");
  }
}

const running = new Set();

/** Stops every workerd this process started; for an after() hook. */
export async function stopAllWorkerd() {
  await Promise.all([...running].map((w) => w.stop()));
}

/**
 * Starts workerd serving config (edge/config.capnp by default) on a free
 * port of 127.0.0.1, with env for its fromEnvironment bindings, and waits
 * until it answers. Its output is kept for the tests that check no token
 * or secret is ever logged.
 * With probe (a URL, and probeHeaders) it waits for a 200 from there and
 * records when it came (firstOK, on performance.now()).
 * @param {{env?: Record<string,string>, config?: string, socket?: string, port?: number,
 *   probe?: string, probeHeaders?: Record<string,string>}} opts
 */
export async function startWorkerd(opts = {}) {
  if (!existsSync(workerdBin)) throw new Error("workerd is not installed in edge/node_modules; run tests/setup.sh first");
  const config = opts.config ?? path.join(edgeDir, "config.capnp");
  const socket = opts.socket ?? "http";
  for (let attempt = 1; ; attempt++) {
    // socket null: the configuration's own addresses, and opts.port is the one probed.
    const port = opts.socket === null || (attempt === 1 && opts.port) ? opts.port : await freePort();
    const args = ["serve", config, "--verbose"];
    if (opts.socket !== null) args.push("--socket-addr", `${socket}=127.0.0.1:${port}`);
    const child = spawn(workerdBin, args, {
      cwd: path.dirname(config),
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (c) => { output += c; };
    child.stdout.setEncoding("utf8").on("data", keep);
    child.stderr.setEncoding("utf8").on("data", keep);
    let exitCode;
    const exited = new Promise((resolve) => child.once("exit", (code, sig) => { exitCode = code ?? sig; resolve(exitCode); }));
    const url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    let up = false;
    let firstOK;
    while (exitCode === undefined && Date.now() - started < 30_000) {
      try {
        const res = await fetch(opts.probe ?? url, { headers: opts.probeHeaders, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (opts.probe && res.status !== 200) throw new Error(`probe answered ${res.status}`);
        firstOK = performance.now();
        up = true;
        break;
      } catch {
        await sleep(10);
      }
    }
    const handle = {
      url,
      port,
      startedAt: started,
      firstOK,
      output: () => output,
      async stop() {
        running.delete(handle);
        if (exitCode === undefined) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      },
    };
    running.add(handle);
    if (up) return handle;
    await handle.stop();
    // Another process may have taken the port between the probe and the bind.
    if (attempt < 3 && /Address already in use/i.test(output)) continue;
    throw new Error(`workerd did not start:\n${output}`);
  }
}

/**
 * Writes a workerd configuration into a temporary folder beside links to
 * the worker's files, so a test can run shapes the committed config.capnp
 * does not have (several services, a service binding). body gets the
 * module list as `modules` and returns the capnp text after the import.
 * @param {(parts: {modules: string}) => string} body
 */
export async function tempConfig(body) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cctoken-edge-"));
  await symlink(path.join(edgeDir, "src"), path.join(dir, "src"));
  await symlink(path.join(root, "js", "dist", "cctoken.bundle.js"), path.join(dir, "cctoken.bundle.js"));
  await symlink(path.join(root, "host", "embed", "cctoken.wasm"), path.join(dir, "cctoken.wasm"));
  const modules = `[
    (name = "worker.js", esModule = embed "src/worker.js"),
    (name = "routes.js", esModule = embed "src/routes.js"),
    (name = "token-owner.js", esModule = embed "src/token-owner.js"),
    (name = "cctoken", esModule = embed "cctoken.bundle.js"),
    (name = "cctoken/cctoken.wasm", wasm = embed "cctoken.wasm"),
  ]`;
  const file = path.join(dir, "config.capnp");
  await writeFile(file, `using Workerd = import "/workerd/workerd.capnp";\n${body({ modules, dir })}\n`);
  return { file, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

const basicAuth = (id, secret) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

/**
 * A sample upstream API. A request is served when its Bearer token is
 * active at the provider's introspection endpoint (asked as the API's own
 * client); the answer says which client the token belongs to and what the
 * request carried. With introspection undefined it checks nothing (the
 * benchmark's upstream). Every request is recorded in seen.
 * /redirect-away answers 302 to redirectAway, /redirect-home 302 to /home.
 * @param {{introspection?: string, clientId?: string, clientSecret?: string}} opts
 */
export async function startUpstream(opts = {}) {
  const seen = [];
  // redirectAway: where /redirect-away sends callers; tests point it at
  // another origin that records whether it was reached.
  const up = { seen, redirectAway: "http://127.0.0.2:9/elsewhere" };
  const api = await listen(async (req, res) => {
    const body = await readBody(req);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const record = { method: req.method, url: req.url, headers: { ...req.headers }, body, token };
    seen.push(record);
    if (req.url.startsWith("/redirect-away")) {
      res.writeHead(302, { Location: `${up.redirectAway}/elsewhere` });
      res.end();
      return;
    }
    if (req.url.startsWith("/redirect-home")) {
      res.writeHead(302, { Location: "/home" });
      res.end();
      return;
    }
    if (opts.introspection) {
      let info = { active: false };
      if (token) {
        const intro = await fetch(opts.introspection, {
          method: "POST",
          headers: { Authorization: basicAuth(opts.clientId, opts.clientSecret), "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token }),
        });
        info = await intro.json();
      }
      record.active = info.active === true;
      record.client = info.client_id;
      if (!record.active) {
        res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="api", error="invalid_token", error_description="the access token is not active"' });
        res.end();
        return;
      }
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({
      client: record.client,
      method: req.method,
      url: req.url,
      body,
      cookie: req.headers.cookie,
      team: req.headers["x-team"],
      custom: req.headers["x-custom"],
    }));
  });
  return Object.assign(up, api);
}
