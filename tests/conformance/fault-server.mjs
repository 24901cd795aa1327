// The conformance suite's scripted fault server. It plays every scenario of
// tests/conformance/scenarios/ at once, each on three listeners of its own
// on 127.0.0.1 (free ports), so that no scenario shares an origin (and so a
// remembered DPoP nonce or discovery document) with another:
//
//   as     the authorization server: /token, /…/.well-known/…; any other
//          path is the API (for an API that shares the origin)
//   api    the resource server: every other path; /__probe echoes the
//          credentials a request carried (the edge driver's "token" step)
//   other  another origin, for redirects that must not be followed
//
// Each listener answers from the scenario's scripted sequence (the nth
// request gets the nth answer, the last one repeats) and records every
// request. A driver asks the control listener for the scenarios (with
// {{as}}, {{api}} and {{other}} replaced by the listeners' origins), resets
// one before it runs it, and hands in what its host saw; the server checks
// that against the scenario's expectations, so the checks are written once
// for every host.
//
//   node tests/conformance/fault-server.mjs [scenarios-dir]
//
// prints one JSON line {"control": "http://127.0.0.1:PORT", "scenarios": N}
// and exits when its standard input closes (so it cannot outlive the
// driver that started it).
//
// Control API (JSON):
//   GET  /scenarios              every scenario, placeholders replaced
//   POST /reset/NAME             forget NAME's requests, restart its sequences
//   GET  /log/NAME               NAME's recorded requests
//   POST /check/NAME?host=H      body {"outcomes":[…]}: {"pass", "failures", "notes"}

import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { check } from "./check.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? path.join(here, "scenarios");

/** Loads every *.json scenario of dir, sorted by file name. */
function loadScenarios() {
  const out = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    let s;
    try {
      s = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
    } catch (err) {
      throw new Error(`${file}: not JSON: ${err.message}`);
    }
    const name = path.basename(file, ".json");
    if (s.name !== name) throw new Error(`${file}: "name" must be the file name without .json (${name})`);
    out.push(s);
  }
  return out;
}

// A hanging answer is held at most this long, so no socket stays open for
// ever when a host never gives up.
const HANG_LIMIT_MS = 20_000;

const sockets = new Set();

function listen(handler) {
  const server = http.createServer(handler);
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const originOf = (server) => `http://127.0.0.1:${server.address().port}`;

/** Replaces {{as}}, {{api}} and {{other}} in every string of v. */
function substitute(v, origins) {
  if (typeof v === "string") return v.replace(/\{\{(as|api|other)\}\}/g, (_, k) => origins[k]);
  if (Array.isArray(v)) return v.map((x) => substitute(x, origins));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, origins)]));
  return v;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The header and claims of a DPoP proof (not verified: the checks look at claims). */
function decodeJWT(jwt) {
  const [h, p] = String(jwt).split(".");
  try {
    return {
      header: JSON.parse(Buffer.from(h, "base64url").toString("utf8")),
      claims: JSON.parse(Buffer.from(p, "base64url").toString("utf8")),
    };
  } catch {
    return { header: null, claims: null };
  }
}

/** Which of a scenario's sequences a request to listener `server` belongs to. */
function kindOf(server, req) {
  const p = req.url.split("?")[0];
  if (server === "other") return "other";
  if (server === "as") return p.includes("/.well-known/") ? "metadata" : p.startsWith("/token") ? "token" : "api";
  return p === "/__probe" ? "probe" : "api";
}

/** Plays one scripted answer. */
async function answer(req, res, item) {
  if (item.delay_ms) await new Promise((r) => setTimeout(r, item.delay_ms));
  if (item.hang) {
    // Never answer: the host must give up by itself. The socket is
    // destroyed after HANG_LIMIT_MS or when the host closes it.
    const timer = setTimeout(() => req.socket.destroy(), HANG_LIMIT_MS);
    req.socket.on("close", () => clearTimeout(timer));
    return;
  }
  const headers = { ...(item.headers ?? {}) };
  let body = item.body ?? "";
  if (item.json !== undefined) {
    body = JSON.stringify(item.json);
    headers["Content-Type"] ??= "application/json";
  }
  if (item.size) {
    // An oversized answer: a JSON document of item.size bytes.
    const pad = Math.max(0, item.size - '{"access_token":"","token_type":"Bearer"}'.length);
    body = `{"access_token":"${"x".repeat(pad)}","token_type":"Bearer"}`;
    headers["Content-Type"] ??= "application/json";
  }
  res.writeHead(item.status ?? 200, headers);
  res.end(body);
}

const scenarios = loadScenarios();
const played = new Map(); // name -> {scenario, log, counters}

for (const raw of scenarios) {
  const state = { log: [], counters: {} };
  const listeners = {};
  for (const server of ["as", "api", "other"]) {
    listeners[server] = await listen(async (req, res) => {
      const body = await readBody(req);
      const kind = kindOf(server, req);
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
      const record = { server, kind, method: req.method, path: req.url, headers, body };
      if ((headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
        record.form = Object.fromEntries(new URLSearchParams(body));
      }
      if (headers.dpop) record.dpop = decodeJWT(headers.dpop);
      state.log.push(record);
      if (kind === "probe") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ authorization: headers.authorization ?? null, dpop: headers.dpop ?? null }));
        return;
      }
      const seq = state.scenario.server?.[kind] ?? [];
      const n = state.counters[kind] ?? 0;
      state.counters[kind] = n + 1;
      if (seq.length === 0) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end(`the scenario scripts no ${kind} answers`);
        return;
      }
      await answer(req, res, seq[Math.min(n, seq.length - 1)]);
    });
  }
  const origins = Object.fromEntries(Object.entries(listeners).map(([k, s]) => [k, originOf(s)]));
  state.scenario = { ...substitute(raw, origins), origins };
  played.set(raw.name, state);
}

function send(res, status, v) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(v));
}

const control = await listen(async (req, res) => {
  const url = new URL(req.url, "http://control");
  const [, verb, name] = url.pathname.split("/");
  const body = await readBody(req);
  if (verb === "scenarios" && req.method === "GET") {
    send(res, 200, [...played.values()].map((s) => s.scenario));
    return;
  }
  const state = played.get(decodeURIComponent(name ?? ""));
  if (!state) {
    send(res, 404, { error: `no scenario named ${name}` });
    return;
  }
  if (verb === "reset" && req.method === "POST") {
    state.log = [];
    state.counters = {};
    send(res, 200, {});
  } else if (verb === "log" && req.method === "GET") {
    send(res, 200, state.log);
  } else if (verb === "check" && req.method === "POST") {
    let report;
    try {
      const { outcomes } = JSON.parse(body);
      report = check(state.scenario, url.searchParams.get("host") ?? "", outcomes, state.log);
    } catch (err) {
      report = { pass: false, failures: [`the check could not run: ${err.message}`], notes: [] };
    }
    send(res, 200, report);
  } else {
    send(res, 404, { error: "unknown control request" });
  }
});

process.stdout.write(`${JSON.stringify({ control: originOf(control), scenarios: played.size })}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
