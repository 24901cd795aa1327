// How long the API explorer (index.html) takes from navigation start to
// "module ready", in Debian's Chromium driven by playwright-core. Prints
// "name value unit" lines on stdout, progress on stderr; asserts no timing.
//
// "Module ready" is what the page itself exposes: the start() script sets
// body[data-ready="1"] once it has imported js/dist/cctoken.bundle.js,
// fetched host/embed/cctoken.wasm, compiled it (WebAssembly.compile of the
// bytes; nothing is instantiated until the first lint), asked for the
// relay (a 404 from a static server) and put the empty preset in the
// editor. A MutationObserver that an init script installs before any of the
// page's own scripts (page.addInitScript: the page is not changed) records
// performance.now() at that attribute change: milliseconds since the
// navigation's time origin, measured inside the page.
//
// The repository root is served by a node:http static server on 127.0.0.1
// with "Cache-Control: public, max-age=3600" (.wasm as application/wasm),
// so that the loads after the first take every file from Chromium's HTTP
// cache. Loads:
//
//   cold   the first load in a fresh profile: empty HTTP cache, new tab
//   warm   PAGE_WARM_RUNS (10) loads, each in a new tab (the previous one
//          closed first), HTTP cache warm; medians
//   same_tab  PAGE_SAME_TAB_RUNS (5) loads in one tab, each after
//          about:blank, HTTP cache warm (the renderer may still hold the
//          module compiled by the load before); medians
import { chromium } from "playwright-core";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WARM_RUNS = intEnv("PAGE_WARM_RUNS", 10);
const SAME_TAB_RUNS = intEnv("PAGE_SAME_TAB_RUNS", 5);
const READY_TIMEOUT = 30_000;

function intEnv(name, def) {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= 0 ? v : def;
}

const log = (...a) => console.error("==", ...a);
const fig = (name, value, unit) => console.log(`${name} ${value} ${unit}`);
const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "NaN");

function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ------------------------------------------------------------------ server

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** What the server sent since the last reset: requests and body bytes. */
const served = { requests: 0, bytes: 0, paths: [] };

function startStatic() {
  const server = http.createServer((req, res) => {
    served.requests++;
    let p;
    try {
      p = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    served.paths.push(p);
    const file = path.resolve(root, `.${p === "/" ? "/index.html" : p}`);
    if ((req.method !== "GET" && req.method !== "HEAD") || !file.startsWith(root + path.sep) ||
        file.split(path.sep).some((part) => part === "node_modules" || part.startsWith("."))) {
      res.writeHead(404).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "Content-Length": data.length,
        "Cache-Control": "public, max-age=3600",
      });
      if (req.method === "HEAD") {
        res.end();
        return;
      }
      served.bytes += data.length;
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

// ------------------------------------------------------------------ page

/** Runs in every document before its own scripts: notes when data-ready turns 1. */
function readyObserver() {
  const seen = () => {
    if (window.__benchReadyMs === undefined && document.body?.dataset.ready === "1") {
      window.__benchReadyMs = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
}

/** Loads index.html in page and returns the in-page timings. */
async function load(page, url) {
  served.requests = 0;
  served.bytes = 0;
  served.paths = [];
  await page.goto(`${url}/index.html`, { waitUntil: "commit", timeout: READY_TIMEOUT });
  await page.waitForFunction(() => window.__benchReadyMs !== undefined || document.querySelector(".fatal"),
    null, { timeout: READY_TIMEOUT, polling: 50 });
  const t = await page.evaluate(() => {
    const res = (suffix) => performance.getEntriesByType("resource").find((e) => e.name.endsWith(suffix));
    const wasm = res("/host/embed/cctoken.wasm");
    const bundle = res("/js/dist/cctoken.bundle.js");
    const relay = res("/relay");
    const nav = performance.getEntriesByType("navigation")[0];
    const compiled = performance.getEntriesByName("cctoken:module-compiled")[0];
    return {
      ready: window.__benchReadyMs,
      fatal: document.querySelector(".fatal")?.textContent ?? null,
      navResponseEnd: nav?.responseEnd,
      domContentLoaded: nav?.domContentLoadedEventEnd,
      bundleEnd: bundle?.responseEnd,
      wasmStart: wasm?.startTime,
      wasmEnd: wasm?.responseEnd,
      wasmTransfer: wasm?.transferSize,
      compiled: compiled?.startTime,
      relayStart: relay?.startTime,
      relayEnd: relay?.responseEnd,
    };
  });
  if (t.fatal) throw new Error(`the page did not start: ${t.fatal}`);
  return { ...t, requests: served.requests, bytes: served.bytes, paths: [...served.paths] };
}

function describe(kind, t) {
  log(`${kind}: ready ${fmt(t.ready)} ms (html ${fmt(t.navResponseEnd)}, bundle ${fmt(t.bundleEnd)}, ` +
    `wasm ${fmt(t.wasmStart)}..${fmt(t.wasmEnd)} ms, ${t.wasmTransfer} bytes transferred, ` +
    `relay ${fmt(t.relayStart)}..${fmt(t.relayEnd)} ms); ` +
    `server saw ${t.requests} requests (${t.paths.join(" ")}), ${t.bytes} body bytes`);
}

// ------------------------------------------------------------------ main

const { server, url } = await startStatic();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cctoken-bench-page-"));
let context;
try {
  log(`chromium: ${CHROMIUM}, fresh profile, page served from ${url}`);
  context = await chromium.launchPersistentContext(tmp, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    // The browser test's flags; the back/forward cache is off so that a page
    // left for about:blank does not stay alive with its module.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-features=BackForwardCache"],
  });
  await context.addInitScript(readyObserver);
  const errors = [];
  const newPage = async () => {
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    return page;
  };
  for (const p of context.pages()) await p.close();

  // Cold: nothing cached.
  let page = await newPage();
  const cold = await load(page, url);
  describe("cold", cold);

  // Warm, a new tab each time.
  const warm = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    await page.close();
    page = await newPage();
    const t = await load(page, url);
    describe(`warm ${i + 1}`, t);
    warm.push(t);
  }

  // Warm, the same tab.
  const same = [];
  for (let i = 0; i < SAME_TAB_RUNS; i++) {
    await page.goto("about:blank");
    const t = await load(page, url);
    describe(`same tab ${i + 1}`, t);
    same.push(t);
  }
  if (errors.length) log(`page errors: ${errors.join("; ")}`);

  const med = (runs, key) => median(runs.map((r) => r[key]));
  const afterWasm = (r) => r.ready - r.wasmEnd;
  // From the last byte of the wasm to the page's mark once the module is
  // compiled (the rest of WebAssembly.compileStreaming, which starts on
  // the first bytes).
  const compile = (r) => r.compiled - r.wasmEnd;
  fig("page_ready_cold_ms", fmt(cold.ready), "ms");
  fig("page_ready_cold_wasm_loaded_ms", fmt(cold.wasmEnd), "ms");
  fig("page_ready_cold_after_wasm_ms", fmt(afterWasm(cold)), "ms");
  fig("page_ready_cold_compile_ms", fmt(compile(cold)), "ms");
  fig("page_ready_warm_ms", fmt(med(warm, "ready")), "ms");
  fig("page_ready_warm_min_ms", fmt(Math.min(...warm.map((r) => r.ready))), "ms");
  fig("page_ready_warm_html_loaded_ms", fmt(med(warm, "navResponseEnd")), "ms");
  fig("page_ready_warm_bundle_loaded_ms", fmt(med(warm, "bundleEnd")), "ms");
  fig("page_ready_warm_wasm_loaded_ms", fmt(med(warm, "wasmEnd")), "ms");
  fig("page_ready_warm_after_wasm_ms", fmt(median(warm.map(afterWasm))), "ms");
  fig("page_ready_warm_compile_ms", fmt(median(warm.map(compile))), "ms");
  fig("page_ready_warm_relay_ms", fmt(median(warm.map((r) => r.relayEnd - r.relayStart))), "ms");
  fig("page_ready_warm_wasm_transfer_bytes", med(warm, "wasmTransfer"), "bytes");
  fig("page_ready_warm_server_requests", med(warm, "requests"), "requests");
  fig("page_ready_warm_server_bytes", med(warm, "bytes"), "bytes");
  fig("page_ready_same_tab_ms", fmt(med(same, "ready")), "ms");
  fig("page_ready_same_tab_after_wasm_ms", fmt(median(same.map(afterWasm))), "ms");
  fig("page_ready_same_tab_compile_ms", fmt(median(same.map(compile))), "ms");
} finally {
  await context?.close().catch(() => {});
  server.closeAllConnections?.();
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
