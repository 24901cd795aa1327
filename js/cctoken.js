// cctoken for JavaScript: OAuth 2.0 client-credentials tokens from the
// cctoken WebAssembly module, in browsers, Node.js and workers.
//
// The module (wasm/ABI.md) decides everything about a token: how to ask for
// it, how long to use it, when to refresh it and how to back off. This file
// is a host: it runs the module on @bjorn3/browser_wasi_shim, performs the
// HTTP exchanges the module asks for with fetch, keeps the module's last
// answer per token as a memo so that a cached token costs no call into wasm,
// and shares one request among concurrent callers.
//
// No Node-only import at the top level: the file runs unbundled in Node and
// bundles for browsers and edge workers as it is.

import { WASI, File, OpenFile, ConsoleStdout } from "@bjorn3/browser_wasi_shim";

/** The module ABI this host speaks (wasm/ABI.md). */
export const ABI_VERSION = 1;

/**
 * The project's version (internal/version), which is also this package's:
 * `cctoken --version` prints the same. A test keeps the three equal.
 */
export const VERSION = "0.1.0";

/** Largest token endpoint body handed to the module (1 MiB). */
const MAX_BODY = 1 << 20;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Effects one operation may ask for before the host gives up on it. */
const MAX_STEPS = 32;
/** How much of the module's stdout/stderr (Go runtime crash reports) is kept. */
const OUTPUT_TAIL = 4096;

// WASI numbers used by the imports overridden below.
const ERRNO_SUCCESS = 0;
const ERRNO_INVAL = 28;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

/**
 * Error codes that are not OAuth errors from the token endpoint: the
 * module's own (wasm/ABI.md) and this host's (closed, module_crashed,
 * bad_module, unsupported_runtime).
 */
const MTLS_UNSUPPORTED = "mTLS is Go-host only: browsers, fetch and edge workers cannot present a client certificate (tls_client_certificate); " +
  "get this user's tokens with the Go host";

const NON_OAUTH_CODES = new Set([
  "invalid_preset", "not_loaded", "unknown_user", "unknown_task", "bad_request",
  "http_status", "invalid_response", "unsupported_token_type",
  "network", "timeout", "too_large", "canceled", "unsupported", "client_certificate",
  "issuer_mismatch", "invalid_metadata", "unsupported_auth_method", "signing_failed",
  "closed", "module_crashed", "bad_module", "unsupported_runtime",
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const noop = () => {};
const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

// ---------------------------------------------------------------------------
// Errors

/**
 * The structured error of the module (a preset that does not load, an
 * unknown user, a token endpoint that said no) or of this host. It never
 * holds a client secret or a token.
 */
export class CctokenError extends Error {
  /**
   * @param {string} message
   * @param {{code: string, field?: string, line?: number, column?: number,
   *   issues?: Issue[], user?: string, status?: number, oauthError?: string,
   *   description?: string, uri?: string, retryAt?: Date}} fields
   * @param {{cause?: unknown}} [options]
   */
  constructor(message, fields, options) {
    super(message, options);
    this.name = "CctokenError";
    /** @type {string} */
    this.code = fields.code;
    for (const k of ["field", "line", "column", "issues", "user", "status", "oauthError", "description", "uri", "retryAt"]) {
      if (fields[k] !== undefined && fields[k] !== null && fields[k] !== "" && fields[k] !== 0) this[k] = fields[k];
    }
  }

  toJSON() {
    /** @type {Record<string, unknown>} */
    const out = { name: this.name, code: this.code, message: this.message };
    for (const k of ["field", "line", "column", "issues", "user", "status", "oauthError", "description", "uri", "retryAt"]) {
      if (this[k] !== undefined) out[k] = this[k];
    }
    return out;
  }
}

/**
 * Turns the module's error object into a CctokenError (same text as the Go
 * host). The module has already removed every form of the credentials the
 * token request carried from what the endpoint said.
 * @param {any} e
 */
function moduleError(e) {
  const code = typeof e?.code === "string" && e.code !== "" ? e.code : "bad_module";
  const text = typeof e?.message === "string" && e.message !== "" ? e.message : code;
  const user = typeof e?.user === "string" ? e.user : undefined;
  const str = (v) => (typeof v === "string" ? v : undefined);
  return new CctokenError(`cctoken: ${user ? `user ${user}: ` : ""}${text}`, {
    code,
    field: e?.field,
    line: e?.line,
    column: e?.column,
    issues: Array.isArray(e?.issues) ? e.issues.map(copyIssue) : undefined,
    user,
    status: e?.status,
    oauthError: NON_OAUTH_CODES.has(code) ? undefined : code,
    description: str(e?.error_description),
    uri: str(e?.error_uri),
    retryAt: e?.retry_at ? new Date(e.retry_at) : undefined,
  });
}

function copyIssue(i) {
  /** @type {Issue} */
  const out = { field: i.field ?? "", line: i.line || undefined, column: i.column || undefined, message: i.message ?? "" };
  if (out.line === undefined) delete out.line;
  if (out.column === undefined) delete out.column;
  return out;
}

function closedError() {
  return new CctokenError("cctoken: the client is closed", { code: "closed" });
}

// ---------------------------------------------------------------------------
// Tokens

/** Access token and headers of each Token, out of reach of console.log. */
const secrets = new WeakMap();

/**
 * An access token and what a request made with it carries. The token and
 * the headers are getters backed by a private store: printing, logging,
 * JSON.stringify, structuredClone or spreading a Token shows neither.
 */
class Token {
  /** @param {any} r the module's Token answer */
  constructor(r) {
    secrets.set(this, {
      accessToken: String(r.access_token ?? ""),
      headers: { ...(r.headers ?? {}) },
      expiresAt: Number(r.expires_at ?? 0),
      refreshAt: Number(r.refresh_at ?? 0),
      useUntil: Number(r.use_until ?? 0),
    });
    /** @type {string} */
    this.user = r.user;
    /** @type {string} */
    this.tokenType = r.token_type ?? "Bearer";
    /** @type {string} */
    this.expirySource = r.expiry_source ?? "";
    /** @type {readonly string[]} */
    this.scopes = Object.freeze(Array.isArray(r.scopes) ? [...r.scopes] : []);
    Object.freeze(this);
  }

  /** The access token. */
  get accessToken() { return secrets.get(this).accessToken; }

  /** A copy of every header an authenticated request carries. */
  get headers() { return { ...secrets.get(this).headers }; }

  /** When the token expires (a new Date each time). */
  get expiresAt() { return new Date(secrets.get(this).expiresAt); }

  /** From when it is refreshed in the background (a new Date each time). */
  get refreshAt() { return new Date(secrets.get(this).refreshAt); }

  /** Until when it is handed out; after that callers wait for a new one. */
  get useUntil() { return new Date(secrets.get(this).useUntil); }

  toString() {
    return `${this.tokenType} [redacted] (expires ${isoTime(secrets.get(this).expiresAt)})`;
  }

  toJSON() {
    const redacted = {};
    for (const name of Object.keys(secrets.get(this).headers)) redacted[name] = "[redacted]";
    return {
      user: this.user,
      accessToken: "[redacted]",
      tokenType: this.tokenType,
      expiresAt: isoTime(secrets.get(this).expiresAt),
      expirySource: this.expirySource,
      scopes: [...this.scopes],
      headers: redacted,
    };
  }

  [inspectSymbol]() {
    return `Token { ${this.toString()}, user: ${JSON.stringify(this.user)}, scopes: ${JSON.stringify(this.scopes)} }`;
  }

  get [Symbol.toStringTag]() { return "Token"; }
}

function isoTime(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "unknown" : d.toISOString();
}

// ---------------------------------------------------------------------------
// Loading and running the module

/** Compiled modules by URL string, so a URL is fetched and compiled once. */
const compiledByURL = new Map();

/**
 * @param {WasmSource} wasm
 * @returns {Promise<WebAssembly.Module>}
 */
async function compileModule(wasm) {
  if (wasm === undefined || wasm === null) return packagedModule();
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (typeof wasm === "string" || (typeof URL !== "undefined" && wasm instanceof URL)) return compileURL(String(wasm));
  if (typeof wasm.then === "function") wasm = await wasm;
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (isResponse(wasm)) return compileResponse(wasm);
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) {
    try {
      return await WebAssembly.compile(wasm);
    } catch (err) {
      throw new CctokenError("cctoken: the wasm bytes are not a WebAssembly module", { code: "bad_module" }, { cause: err });
    }
  }
  throw new TypeError("cctoken: the wasm option must be a WebAssembly.Module, an ArrayBuffer or Uint8Array, a Response (or a Promise of one) or a URL");
}

function isResponse(v) {
  if (typeof Response !== "undefined" && v instanceof Response) return true;
  // A Response of another realm or fetch implementation.
  return typeof v === "object" && v !== null && typeof v.arrayBuffer === "function" && typeof v.status === "number" && typeof v.headers === "object";
}

async function compileResponse(res) {
  if (!res.ok) {
    throw new CctokenError(`cctoken: loading the wasm module failed with HTTP ${res.status}`, { code: "bad_module", status: res.status });
  }
  try {
    const type = res.headers?.get?.("content-type") ?? "";
    // compileStreaming insists on this media type; anything else is read
    // whole and compiled from bytes.
    if (typeof WebAssembly.compileStreaming === "function" && typeof Response !== "undefined" &&
        res instanceof Response && /^application\/wasm\s*(;|$)/i.test(type)) {
      return await WebAssembly.compileStreaming(res);
    }
    return await WebAssembly.compile(await res.arrayBuffer());
  } catch (err) {
    throw new CctokenError("cctoken: the wasm response is not a WebAssembly module", { code: "bad_module" }, { cause: err });
  }
}

/**
 * The module this package ships (cctoken.wasm beside this file), for a
 * client created without the wasm option. Node, Deno and Bun read it from
 * the installed package's folder; a bundler (Vite, webpack, Parcel, Rollup
 * with an import.meta plugin, esbuild with the module as a copied entry
 * point: see README.md) recognises the `new URL("./…", import.meta.url)`
 * form below and serves the module as an asset, which is then fetched.
 * Either way it is compiled once per process or page.
 */
function packagedModule() {
  // workerd and Cloudflare Workers compile no WebAssembly from bytes at run
  // time: the module has to arrive as a module import.
  if (globalThis.navigator?.userAgent === "Cloudflare-Workers") {
    throw new CctokenError('cctoken: workers compile no WebAssembly at run time, so pass the module: ' +
      'import wasm from "cctoken/cctoken.wasm" and createClient({ preset, wasm })', { code: "bad_module" });
  }
  let url;
  try {
    url = new URL("./cctoken.wasm", import.meta.url);
  } catch (err) {
    throw new CctokenError("cctoken: this script does not know its own URL (import.meta.url), so it cannot find the " +
      "cctoken.wasm it ships; bundle it as an ES module or pass the wasm option", { code: "bad_module" }, { cause: err });
  }
  return compileURL(url.href, true);
}

/** @param {string} url @param {boolean} [packaged] the module this package ships */
function compileURL(url, packaged = false) {
  let p = compiledByURL.get(url);
  if (!p) {
    p = url.startsWith("file:") ? compileFile(url) : globalThis.fetch(url).then(compileResponse, (err) => {
      throw new CctokenError("cctoken: the wasm module could not be fetched", { code: "bad_module" }, { cause: err });
    });
    if (packaged) p = p.catch((err) => { throw packagedError(url, err); });
    compiledByURL.set(url, p);
    p.catch(() => compiledByURL.delete(url));
  }
  return p;
}

/**
 * The error of a packaged module that did not load: where it was looked
 * for and the two ways out. A bundle whose module was not copied beside it
 * ends here (HTTP 404).
 */
function packagedError(url, err) {
  const what = err instanceof CctokenError ? err.message.replace(/^cctoken: /, "") : "it did not load";
  const fix = url.startsWith("file:") ? "reinstall the package" : "serve it beside the bundle (js/README.md says how per bundler)";
  return new CctokenError(`cctoken: the cctoken.wasm this package ships (${url}): ${what}; ${fix}, or pass the wasm option`,
    { code: "bad_module", status: err?.status }, { cause: err });
}

async function compileFile(url) {
  // Only Node-like runtimes have file: URLs. The specifier is a variable so
  // that bundlers targeting browsers and workers leave the import alone.
  const fsModule = "node:fs/promises";
  let bytes;
  try {
    const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsModule);
    bytes = await fs.readFile(new URL(url));
  } catch (err) {
    throw new CctokenError("cctoken: the wasm file could not be read", { code: "bad_module" }, { cause: err });
  }
  return compileModule(bytes);
}

/** The last bytes the module wrote to stdout/stderr: only a Go runtime crash writes there. */
class OutputTail {
  constructor() { this.text = ""; this.dec = new TextDecoder(); }
  /** @param {Uint8Array} bytes */
  write(bytes) {
    this.text = (this.text + this.dec.decode(bytes, { stream: true })).slice(-OUTPUT_TAIL);
  }
}

/**
 * One instantiated module. Calls are synchronous and JavaScript runs one
 * thing at a time, so each answer is read in full before anything else can
 * call in: that is the serialisation the module needs.
 */
class Instance {
  /** The module's memory as bytes (see #view). */
  #mem = new Uint8Array(0);

  /** @param {WebAssembly.Exports} exports @param {OutputTail} output */
  constructor(exports, output) {
    this.exports = exports;
    /** @type {WebAssembly.Memory} */
    this.memory = /** @type {any} */ (exports.memory);
    this.output = output;
    /** @type {CctokenError | undefined} */
    this.crashed = undefined;
  }

  /** @param {WebAssembly.Module} module */
  static async create(module) {
    const crypto = globalThis.crypto;
    if (!crypto || typeof crypto.getRandomValues !== "function") {
      throw new CctokenError("cctoken: this runtime has no crypto.getRandomValues, which the module needs as its random source", { code: "unsupported_runtime" });
    }
    const output = new OutputTail();
    const fds = [
      new OpenFile(new File([])),
      new ConsoleStdout((b) => output.write(b)),
      new ConsoleStdout((b) => output.write(b)),
    ];
    // debug: false, because the shim logs every WASI call to the console
    // when the option is left out.
    const wasi = new WASI(["cctoken"], [], fds, { debug: false });
    /** @type {WebAssembly.Memory | undefined} */
    let memory;
    // A DataView of the memory for the clock, made anew only after it grew.
    let clockView = new DataView(new ArrayBuffer(0));
    const imports = {
      ...wasi.wasiImport,
      // The shim falls back to Math.random when crypto is missing or the
      // memory is shared; the module needs a real random source or none.
      random_get(ptr, len) {
        ptr >>>= 0; len >>>= 0;
        const buf = memory.buffer;
        const shared = typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer;
        const target = new Uint8Array(buf, ptr, len);
        for (let i = 0; i < len; i += 65536) {
          const n = Math.min(65536, len - i);
          if (shared) {
            target.set(crypto.getRandomValues(new Uint8Array(n)), i);
          } else {
            crypto.getRandomValues(target.subarray(i, i + n));
          }
        }
        return ERRNO_SUCCESS;
      },
      // The shim answers 0 for the monotonic clock when performance.now is
      // missing and for unknown clocks; a frozen clock makes every token look
      // eternal. The wall clock is Date.now(), the same clock the memo is
      // checked against.
      clock_time_get(id, _precision, out) {
        let ns;
        if (id === CLOCK_REALTIME) {
          ns = BigInt(Date.now()) * 1_000_000n;
        } else if (id === CLOCK_MONOTONIC) {
          ns = monotonicNanos();
        } else {
          return ERRNO_INVAL;
        }
        if (clockView.buffer !== memory.buffer) clockView = new DataView(memory.buffer);
        clockView.setBigUint64(out >>> 0, ns, true);
        return ERRNO_SUCCESS;
      },
    };
    let instance;
    try {
      instance = await instantiateModule(module, { wasi_snapshot_preview1: imports });
    } catch (err) {
      throw new CctokenError("cctoken: the module could not be instantiated; is it cctoken.wasm?", { code: "bad_module" }, { cause: err });
    }
    const ex = instance.exports;
    for (const name of ["memory", "_initialize", "cctoken_abi_version", "cctoken_buffer", "cctoken_call"]) {
      if (!(name in ex)) {
        throw new CctokenError("cctoken: the module lacks the cctoken_* reactor exports; rebuild it with build.sh", { code: "bad_module" });
      }
    }
    memory = /** @type {WebAssembly.Memory} */ (ex.memory);
    try {
      wasi.initialize(/** @type {any} */ (instance));
    } catch (err) {
      throw crashError(err, output);
    }
    let version;
    try {
      version = /** @type {() => number} */ (ex.cctoken_abi_version)();
    } catch (err) {
      throw crashError(err, output);
    }
    if (version !== ABI_VERSION) {
      throw new CctokenError(`cctoken: the module speaks ABI version ${version}, but cctoken ${VERSION} for JavaScript speaks ` +
        `ABI version ${ABI_VERSION}: leave out the wasm option to use the module this package ships, or install the ` +
        "package version that matches your cctoken.wasm", { code: "bad_module" });
    }
    return new Instance(ex, output);
  }

  /**
   * Sends one call and returns the decoded answer. A response body given as
   * bytes follows the call's JSON text raw (`body_bytes`, wasm/ABI.md), so
   * that neither this host nor the module escapes it.
   * @param {object} call
   * @param {Uint8Array} [tail] the body that call.response.body_bytes counts
   * @returns {any}
   */
  do(call, tail) {
    if (this.crashed) throw this.crashed;
    const text = JSON.stringify(call);
    const extra = tail ? tail.byteLength : 0;
    // UTF-8 takes at least one byte per UTF-16 unit and at most three: ask
    // for the least and encode straight into the module's buffer; only text
    // that did not fit (not all ASCII) asks again for the most.
    let size = text.length;
    let ptr = this.#buffer(size + extra);
    let { read, written } = encoder.encodeInto(text, this.#mem.subarray(ptr, ptr + size));
    if (read < text.length) {
      size = text.length * 3;
      ptr = this.#buffer(size + extra);
      ({ written } = encoder.encodeInto(text, this.#mem.subarray(ptr, ptr + size)));
    }
    if (extra) this.#mem.set(tail, ptr + written);
    let result;
    try {
      result = this.exports.cctoken_call(written + extra);
    } catch (err) {
      throw this.#crash(err);
    }
    if (typeof result !== "bigint") result = BigInt(result);
    // Memory may have grown during the call: take a fresh view if so.
    const mem = this.#view();
    const at = Number(BigInt.asUintN(32, result >> 32n));
    const len = Number(BigInt.asUintN(32, result));
    let answer;
    if (len > 0 && at + len <= mem.length) {
      try {
        answer = JSON.parse(decoder.decode(mem.subarray(at, at + len)));
      } catch {
        answer = undefined;
      }
    }
    if (answer === null || typeof answer !== "object") {
      throw new CctokenError("cctoken: the module gave an answer that is not a JSON object", { code: "bad_module" });
    }
    return answer;
  }

  /** The module's call buffer for size bytes, checked to lie in memory; #mem is current after it. */
  #buffer(size) {
    let ptr;
    try {
      ptr = this.exports.cctoken_buffer(size) >>> 0;
    } catch (err) {
      throw this.#crash(err);
    }
    if (ptr + size > this.#view().length) {
      throw new CctokenError("cctoken: the module's call buffer is out of range", { code: "bad_module" });
    }
    return ptr;
  }

  /** A byte view of the module's memory, made anew only when the memory has grown (which replaces its buffer). */
  #view() {
    const buf = this.memory.buffer;
    if (this.#mem.buffer !== buf) this.#mem = new Uint8Array(buf);
    return this.#mem;
  }

  /** A trap or a throw out of the module: its state is lost, refuse every later call. */
  #crash(err) {
    this.crashed = crashError(err, this.output);
    return this.crashed;
  }
}

/**
 * Instantiates a compiled module. The synchronous constructor comes first:
 * with the code already compiled it takes milliseconds, while V8's
 * asynchronous WebAssembly.instantiate can wait behind the background
 * tier-up of earlier instances (1-2 s seen on a 2-core machine). A browser
 * that refuses synchronous instantiation on its main thread throws a
 * RangeError, and then the asynchronous path is taken.
 */
function instantiateModule(module, imports) {
  try {
    return new WebAssembly.Instance(module, imports);
  } catch (err) {
    if (err instanceof RangeError) return WebAssembly.instantiate(module, imports);
    throw err;
  }
}

let lastMonotonic = 0n;
function monotonicNanos() {
  const now = typeof performance !== "undefined" && typeof performance.now === "function"
    ? BigInt(Math.round(performance.now() * 1e6))
    : BigInt(Date.now()) * 1_000_000n;
  if (now > lastMonotonic) lastMonotonic = now;
  return lastMonotonic;
}

/** The error for a trap, proc_exit or other throw out of the module. */
function crashError(err, output) {
  const what = err && typeof err === "object" && "name" in err ? String(err.name) : "exception";
  const e = new CctokenError(
    `cctoken: the module crashed (${what}); this client cannot be used any more, create a new one`,
    { code: "module_crashed" }, { cause: err });
  // The Go runtime's crash report, for a developer who looks for it; not
  // enumerable, so logging the error does not print it.
  Object.defineProperty(e, "moduleOutput", { value: output.text, enumerable: false });
  return e;
}

// ---------------------------------------------------------------------------
// Input helpers

/** @param {PresetSource} preset */
function presetText(preset) {
  if (typeof preset === "string") return preset;
  if (preset instanceof ArrayBuffer || ArrayBuffer.isView(preset)) return decoder.decode(preset);
  if (preset !== null && typeof preset === "object") return JSON.stringify(preset);
  throw new TypeError("cctoken: preset must be the preset document (YAML or JSON text, its bytes, or an object)");
}

/**
 * Normalises token options to the module's fields and a memo key.
 * @param {TokenOptions | undefined} opts
 */
function tokenRequest(opts) {
  /** @type {{scopes?: string[], audience?: string, resource?: string[]}} */
  const req = {};
  if (opts === undefined || opts === null) return { req, key: "" };
  if (typeof opts !== "object") throw new TypeError("cctoken: token options must be an object {scopes, audience, resource, waitUntil}");
  if (opts.waitUntil !== undefined && typeof opts.waitUntil !== "function") {
    throw new TypeError("cctoken: waitUntil must be a function that takes a promise, like a worker's ctx.waitUntil");
  }
  const list = (v, name) => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") v = name === "scopes" ? v.split(" ").filter(Boolean) : [v];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      throw new TypeError(`cctoken: ${name} must be a string or an array of strings`);
    }
    return v.length ? [...v] : undefined;
  };
  const scopes = list(opts.scopes, "scopes");
  const resource = list(opts.resource, "resource");
  if (opts.audience !== undefined && opts.audience !== null && typeof opts.audience !== "string") {
    throw new TypeError("cctoken: audience must be a string");
  }
  if (scopes) req.scopes = scopes;
  if (opts.audience) req.audience = opts.audience;
  if (resource) req.resource = resource;
  const key = scopes || req.audience || resource ? JSON.stringify([scopes ?? null, req.audience ?? "", resource ?? null]) : "";
  return { req, key };
}

function checkUser(user) {
  if (typeof user !== "string") throw new TypeError("cctoken: user must be a username string");
}

/** Looks up exactly the names the module asked for. */
/**
 * Performs the module's file effect: a credential the platform keeps in a
 * file (client_assertion_file, a certificate path), read for every token
 * request. JavaScript has no files everywhere, so the application supplies
 * them through the readFile option (Node: fs.promises.readFile; a browser or
 * a worker: the assertion from wherever it has it). The failure message
 * never holds content.
 */
async function readCredentialFile(req, readFile) {
  if (typeof readFile !== "function") {
    return { failure: { kind: "file", message: "this JavaScript client reads no files; pass createClient({ readFile: (path) => text }) to supply " + req.field } };
  }
  try {
    const content = await readFile(req.path, { field: req.field });
    if (typeof content === "string") return { file: { content } };
    if (content instanceof Uint8Array) return { file: { content: new TextDecoder().decode(content) } };
    return { failure: { kind: "file", message: "readFile returned neither a string nor bytes" } };
  } catch (err) {
    const code = err && typeof err.code === "string" ? err.code : "an error";
    return { failure: { kind: "file", message: "readFile failed with " + code } };
  }
}

async function lookupEnv(names, env) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const name of names) {
    if (typeof name !== "string") continue;
    let v;
    if (typeof env === "function") {
      v = await env(name);
    } else if (env && Object.prototype.hasOwnProperty.call(env, name)) {
      v = env[name];
    }
    if (v !== undefined && v !== null) out[name] = String(v);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The fetch bridge

/** Reads a body of at most max bytes; null when it is longer. */
async function readCapped(res, max) {
  const stream = res.body;
  if (!stream || typeof stream.getReader !== "function") {
    if (stream === null) return new Uint8Array(0);
    const buf = await res.arrayBuffer();
    return buf.byteLength > max ? null : new Uint8Array(buf);
  }
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      reader.cancel().catch(noop);
      return null;
    }
    chunks.push(value);
  }
  // Most answers arrive in one chunk: hand it on where it lies.
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { all.set(c, off); off += c.byteLength; }
  return all;
}

const NETWORK_MESSAGES = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "the connection closed unexpectedly",
  UND_ERR_CLOSED: "the connection closed unexpectedly",
};
const STALE_CONNECTION_CODES = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** The first error code (ECONNREFUSED, UND_ERR_SOCKET, …) in an error's cause chain. */
function errorCode(err) {
  for (let e = err, i = 0; e && typeof e === "object" && i < 5; e = e.cause, i++) {
    if (typeof e.code === "string" && /^[A-Z][A-Z0-9_]{1,48}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/**
 * Describes a failed exchange without the error's own text, which may hold
 * the URL (or a header value, for an invalid one).
 */
function networkMessage(code) {
  if (!code) return "the request failed with no response (no connection, a TLS failure, or a browser's CORS refusal)";
  if (NETWORK_MESSAGES[code]) return `${NETWORK_MESSAGES[code]} (${code})`;
  if (/CERT|TLS|SSL|SELF_SIGNED|VERIFY/.test(code)) return `TLS handshake failed (${code})`;
  return `the request failed (${code})`;
}

// ---------------------------------------------------------------------------
// Drop-in fetch helpers

let cookieHeaderAllowed;
/**
 * Whether this platform lets a script set Cookie on a request: browsers
 * (pages and workers) drop it silently as a forbidden header; Node, Deno and
 * edge workers keep it.
 */
function cookieAllowed() {
  if (cookieHeaderAllowed === undefined) {
    try {
      cookieHeaderAllowed = new Request("http://127.0.0.1/", { headers: { cookie: "a=b" } }).headers.has("cookie");
    } catch {
      cookieHeaderAllowed = false;
    }
  }
  return cookieHeaderAllowed;
}

function isRequest(v) {
  return typeof Request !== "undefined" && v instanceof Request;
}

/** The caller's headers that describe a body, dropped when a redirect makes the request a GET. */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];

/**
 * Whether the module could do anything with an answer (ABI.md: for every
 * other answer the host may skip the answer call). An opaque redirect
 * (browsers) has status 0 and no headers.
 */
function mayAct(res) {
  return res.status === 401 || res.headers.has("dpop-nonce")
    || (res.status >= 300 && res.status < 400 && res.headers.has("location"));
}

/** Whether the request can be sent a second time with the same body. */
function replayable(input, init) {
  const body = init.body;
  if (body === undefined) return !isRequest(input) || input.body === null;
  if (body === null || typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (typeof Blob !== "undefined" && body instanceof Blob) return true;
  if (typeof URLSearchParams !== "undefined" && body instanceof URLSearchParams) return true;
  if (typeof FormData !== "undefined" && body instanceof FormData) return true;
  return false; // a ReadableStream, an async iterable, …
}

// ---------------------------------------------------------------------------
// The client

const internal = Symbol("cctoken.internal");

/**
 * Hands out tokens for the users of one preset document. Create it with
 * createClient().
 */
class Client {
  /** @type {Instance | null} */ #inst;
  #fetchImpl;
  #env;
  /** Reads a credential file the module asks for, see ClientOptions.readFile. */
  #readFile;
  #timeoutMs;
  #onEvent;
  /** @type {any[]} */ #users = [];
  /** @type {Set<string>} */ #known = new Set();
  /** user -> (options key -> memo) @type {Map<string, Map<string, {tok: Token, refreshAt: number, useUntil: number}>>} */
  #memos = new Map();
  /** user NUL options key -> the token operation in flight @type {Map<string, Promise<Token>>} */
  #flights = new Map();
  /** @type {Set<AbortController>} */ #aborts = new Set();
  #closed = false;
  /** Where tokens come from before the module's own requests, see ClientOptions.source. */
  #source;

  constructor(token, inst, opts) {
    if (token !== internal) throw new TypeError("cctoken: use createClient() to make a client");
    this.#inst = inst;
    this.#fetchImpl = opts.fetch;
    this.#env = opts.env;
    this.#readFile = opts.readFile;
    this.#timeoutMs = opts.timeoutMs;
    this.#onEvent = opts.onEvent;
    this.#source = opts.source;
  }

  /** @param {string} text */
  async [internal](text) {
    const res = await this.#run({ op: "load", text });
    this.#users = Array.isArray(res?.users) ? res.users : [];
    this.#known = new Set(this.#users.map((u) => u.username));
  }

  /** The preset's service accounts in document order, without secrets. */
  users() {
    return this.#users.map((u) => structuredCloneJSON(u));
  }

  /**
   * A valid token for user. A cached token is returned at once; past its
   * refresh point it is still returned while one refresh runs in the
   * background; only a caller with no usable token waits, and concurrent
   * callers share one request.
   * @param {string} user
   * @param {TokenOptions} [options]
   * @returns {Promise<Token>}
   */
  async token(user, options) {
    checkUser(user);
    const { req, key } = tokenRequest(options);
    if (this.#closed) throw closedError();
    const m = this.#memos.get(user)?.get(key);
    if (m) {
      const now = Date.now();
      if (now < m.useUntil) {
        if (now >= m.refreshAt) {
          const refresh = this.#flight(user, key, req, true).then(noop, noop);
          // A worker's ctx.waitUntil keeps the isolate alive for it.
          if (typeof options?.waitUntil === "function") options.waitUntil(refresh);
        }
        return m.tok;
      }
    }
    if (!this.#known.has(user)) {
      throw new CctokenError(`cctoken: no user ${JSON.stringify(user.slice(0, 64))} in the preset; use one of the usernames it lists`, { code: "unknown_user", field: "user" });
    }
    return this.#flight(user, key, req, false);
  }

  /**
   * The headers an authenticated request of user carries: Authorization,
   * the user's headers and its Cookie.
   * @param {string} user
   * @param {TokenOptions} [options]
   */
  async headers(user, options) {
    return (await this.token(user, options)).headers;
  }

  /**
   * Drops every cached token of user, here and in the module, so the next
   * call fetches a new one.
   * @param {string} user
   */
  async invalidate(user) {
    checkUser(user);
    if (this.#closed) throw closedError();
    this.#memos.delete(user);
    await this.#run({ op: "invalidate", user });
  }

  /** Tells the source, if any, that a server refused accessToken. */
  async #refusedAtSource(user, req, accessToken) {
    if (!this.#source?.invalidate || !accessToken) return;
    try {
      await this.#source.invalidate(user, req, accessToken);
    } catch {
      // The source is gone; the module dropped its own token already.
    }
  }

  /**
   * fetch() as user: adds the token's headers (replacing any Authorization;
   * Cookie is skipped where the platform forbids it) and, for a DPoP token,
   * a new proof for every request. What follows an answer is the module's
   * decision (wasm/ABI.md, "After an API's answer"), the same in every
   * host: one retry with the server's DPoP nonce, one retry with a new
   * token after invalid_token (only when the body can be sent again),
   * same-origin redirects followed and signed again, a redirect to another
   * origin handed back unfollowed. Requests go out with redirect: "manual":
   * in Node and edge workers the 3xx comes back with its Location; browsers
   * hide it (an opaque redirect, status 0), so there no redirect is
   * followed at all.
   * @param {string} user
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   * @param {TokenOptions} [options]
   * @returns {Promise<Response>}
   */
  async fetch(user, input, init, options) {
    init = init ?? {};
    const canReplay = replayable(input, init);
    const { req } = tokenRequest(options);
    const tok = await this.token(user, options);
    let method = String(init.method ?? (isRequest(input) ? input.method : "GET")).toUpperCase();
    let url = isRequest(input) ? input.url : input instanceof URL ? input.href
      : new URL(String(input), globalThis.location?.href).href;
    let headers = tok.headers;
    if (tok.tokenType.toLowerCase() === "dpop") {
      headers = (await this.#run({ op: "sign", user, method, url, ...req }))?.headers ?? {};
    }
    let target = input;
    let attempt;
    let dropBody = false;
    for (;;) {
      const res = await this.#send(headers, target, init, dropBody);
      if (!mayAct(res) || this.#closed) return res;
      const nonce = res.headers.get("dpop-nonce");
      const location = res.headers.get("location");
      const authorization = headers.Authorization ?? headers.authorization;
      const next = await this.#run({
        op: "answer", user, ...req, method, url, status: res.status,
        www_authenticate: res.headers.get("www-authenticate") ?? "",
        ...(nonce ? { dpop_nonce: nonce } : {}), ...(location ? { location } : {}),
        ...(authorization ? { authorization } : {}), ...(canReplay ? {} : { no_replay: true }),
        ...(attempt ? { attempt } : {}),
      }).catch((err) => {
        res.body?.cancel().catch(noop);
        throw err;
      });
      if (next?.invalidated) {
        this.#memos.delete(user);
        await this.#refusedAtSource(user, req, String(authorization ?? "").split(" ")[1]);
      }
      if (next?.action !== "retry" && next?.action !== "follow") return res;
      res.body?.cancel().catch(noop);
      attempt = next.attempt;
      headers = next.headers ?? {};
      if (next.action === "follow") {
        // A new URL on the same origin: the request is rebuilt from the
        // caller's init (a Request input gives its headers and signal).
        if (isRequest(target)) {
          init = { ...init, headers: init.headers ?? target.headers, signal: init.signal ?? target.signal };
        }
        target = next.url;
        url = next.url;
        method = next.method;
        init = { ...init, method };
        if (next.drop_body) {
          dropBody = true;
          const { body: _dropped, ...rest } = init;
          init = rest;
        }
      }
    }
  }

  /**
   * The headers of one request as user, to method and url: for a DPoP token
   * (RFC 9449) Authorization: DPoP and a new proof for this very request,
   * for a Bearer token the token's headers. Sign every request anew.
   * @param {string} user
   * @param {string} method
   * @param {string | URL} url
   * @param {TokenOptions & {nonce?: string}} [options]
   * @returns {Promise<Record<string, string>>}
   */
  async sign(user, method, url, options) {
    checkUser(user);
    const { req } = tokenRequest(options);
    const nonce = options?.nonce;
    if (nonce !== undefined && typeof nonce !== "string") throw new TypeError("cctoken: nonce must be a string");
    const tok = await this.token(user, options);
    if (tok.tokenType.toLowerCase() !== "dpop") return tok.headers;
    const signed = await this.#run({ op: "sign", user, method: String(method).toUpperCase(), url: String(url), ...req, ...(nonce ? { nonce } : {}) });
    return { ...(signed?.headers ?? {}) };
  }

  /** Releases the module instance; operations in flight fail with code closed. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#aborts) c.abort();
    this.#aborts.clear();
    this.#memos.clear();
    this.#inst = null;
  }

  get [Symbol.toStringTag]() { return "CctokenClient"; }

  [inspectSymbol]() {
    return `CctokenClient { users: ${JSON.stringify(this.#users.map((u) => u.username))}${this.#closed ? ", closed" : ""} }`;
  }

  /**
   * Sends one request with the user's headers, never following a redirect.
   * dropBody: a redirect turned it into a GET, so the caller's body headers
   * go too.
   * @param {Record<string, string>} add @param {any} input @param {RequestInit} init @param {boolean} [dropBody]
   */
  #send(add, input, init, dropBody) {
    const base = init.headers !== undefined ? init.headers : isRequest(input) ? input.headers : undefined;
    const headers = new Headers(base);
    headers.delete("authorization");
    headers.delete("dpop");
    if (dropBody) for (const name of BODY_HEADERS) headers.delete(name);
    for (const [name, value] of Object.entries(add)) {
      if (name.toLowerCase() === "cookie") {
        if (!cookieAllowed()) continue;
        const had = headers.get("cookie");
        headers.set("cookie", had ? `${had}; ${value}` : value);
      } else {
        headers.set(name, value);
      }
    }
    return this.#fetchImpl(input, { ...init, headers, redirect: "manual" });
  }

  /**
   * Joins the token operation in flight for (user, key) or starts one.
   * refresh marks a background refresh-ahead.
   */
  #flight(user, key, req, refresh) {
    const fkey = `${user}\u0000${key}`;
    let p = this.#flights.get(fkey);
    if (p) return p;
    // Started on a later tick, so the map holds p before the work can end
    // (or call out to a fetch, a source or a listener that asks again).
    p = (async () => {
      await null;
      try {
        return await this.#fetchToken(user, key, req, refresh);
      } finally {
        if (this.#flights.get(fkey) === p) this.#flights.delete(fkey);
      }
    })();
    p.catch(noop); // a background refresh has no one awaiting it
    this.#flights.set(fkey, p);
    return p;
  }

  async #fetchToken(user, key, req, refresh) {
    let res;
    let fromSource = false;
    try {
      if (this.#source) {
        res = await this.#fromSource(user, req, refresh);
        fromSource = res !== undefined;
      }
      res ??= await this.#run({ op: "token", user, ...req, ...(refresh ? { refresh: true } : {}) });
    } catch (err) {
      this.#emit({
        type: "token_error", user, refresh, code: err?.code ?? "error", status: err?.status,
        oauthError: err?.oauthError, message: err instanceof CctokenError ? err.message : "cctoken: token request failed",
      });
      throw err;
    }
    const tok = new Token(res);
    if (this.#closed) throw closedError();
    let byKey = this.#memos.get(user);
    if (!byKey) this.#memos.set(user, (byKey = new Map()));
    byKey.set(key, { tok, refreshAt: Number(res.refresh_at ?? 0), useUntil: Number(res.use_until ?? 0) });
    if (!this.#listening()) return tok; // no event built for nobody
    if (res.last_error) {
      const e = moduleError(res.last_error);
      this.#emit({
        type: "refresh_failed", user, code: e.code, status: e.status, oauthError: e.oauthError,
        message: e.message, retryAt: new Date(Number(res.refresh_at ?? 0)), expiresAt: tok.expiresAt,
      });
    } else {
      this.#emit({
        type: "token_fetched", user, refresh, expiresAt: tok.expiresAt, expirySource: tok.expirySource, scopes: [...tok.scopes],
        ...(fromSource ? { source: true } : {}),
      });
    }
    return tok;
  }

  /**
   * Asks the source; undefined when it cannot answer (then the module asks
   * the token endpoint itself). A CctokenError from it is the token's error.
   */
  async #fromSource(user, req, refresh) {
    try {
      const r = await this.#source.token(user, req, { refresh });
      if (r === null) return undefined; // not shared: the module fetches it
      if (r && typeof r === "object" && typeof r.access_token === "string" && Number(r.use_until) > Date.now()) return r;
      this.#emit({ type: "source_unavailable", user, message: "cctoken: the token source gave no usable token; asking the token endpoint" });
    } catch (err) {
      if (err instanceof CctokenError) throw err;
      this.#emit({ type: "source_unavailable", user, message: "cctoken: the token source failed; asking the token endpoint" });
    }
    return undefined;
  }

  /** Whether an event would reach a listener (none is built for nobody). */
  #listening() {
    return !!this.#onEvent && !this.#closed;
  }

  #emit(event) {
    if (!this.#onEvent || this.#closed) return;
    for (const k of Object.keys(event)) if (event[k] === undefined) delete event[k];
    try {
      this.#onEvent(event);
    } catch {
      // A listener's failure is not the token's.
    }
  }

  /**
   * Drives one operation to its end, performing every effect the module
   * asks for, and returns its result.
   */
  async #run(call) {
    if (this.#closed || !this.#inst) throw closedError();
    let a = this.#inst.do(call);
    for (let step = 0; step <= MAX_STEPS; step++) {
      if (a.error) throw moduleError(a.error);
      if (a.http && step < MAX_STEPS) {
        // fetch cannot present a client certificate (RFC 8705 mutual TLS):
        // refuse before anything is sent. The module turns this into an
        // "unsupported" error naming the user and the preset field.
        const outcome = a.http.tls_client
          ? { failure: { kind: "unsupported", field: "tls_client_certificate", message: MTLS_UNSUPPORTED } }
          : await this.#perform(a.http);
        if (this.#closed || !this.#inst) throw closedError();
        a = outcome.response
          ? this.#inst.do({ op: "resume", task: a.task, response: outcome.response }, outcome.body)
          : this.#inst.do({ op: "resume", task: a.task, failure: outcome.failure });
      } else if (Array.isArray(a.env) && step < MAX_STEPS) {
        const env = await lookupEnv(a.env, this.#env);
        if (this.#closed || !this.#inst) throw closedError();
        a = this.#inst.do({ op: "resume", task: a.task, env });
      } else if (a.file && step < MAX_STEPS) {
        const outcome = await readCredentialFile(a.file, this.#readFile);
        if (this.#closed || !this.#inst) throw closedError();
        a = this.#inst.do({ op: "resume", task: a.task, ...outcome });
      } else if ("result" in a) {
        return a.result;
      } else if (a.http || a.file || Array.isArray(a.env)) {
        throw new CctokenError(`cctoken: the module asked for more than ${MAX_STEPS} exchanges in one operation`, { code: "bad_module" });
      } else {
        break;
      }
    }
    throw new CctokenError("cctoken: the module's answer is not one this host understands", { code: "bad_module" });
  }

  /**
   * The fetch bridge: sends the module's request as it is, with no
   * redirects followed, a timeout and a 1 MiB cap on the body, and returns
   * what to resume the task with.
   */
  async #perform(req) {
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, this.#timeoutMs);
    this.#aborts.add(ctrl);
    try {
      const method = typeof req.method === "string" && req.method ? req.method : "GET";
      /** @type {RequestInit} */
      const init = { method, headers: req.header ?? {}, redirect: "manual", signal: ctrl.signal };
      if (typeof req.body === "string" && req.body !== "" && method !== "GET" && method !== "HEAD") init.body = req.body;
      let res;
      for (let attempt = 1; ; attempt++) {
        try {
          res = await this.#fetchImpl(req.url, init);
          break;
        } catch (err) {
          // A kept-alive connection the server closed just as it was reused
          // fails before any answer; like Go's transport, send once more on
          // a new one. A second client-credentials grant is harmless.
          if (attempt < 2 && !timedOut && !this.#closed && STALE_CONNECTION_CODES.has(errorCode(err))) continue;
          throw err;
        }
      }
      // A browser hides a redirect behind an opaque response of status 0;
      // it is a redirect all the same, and is not followed.
      const status = res.type === "opaqueredirect" ? 302 : res.status;
      // Repeated headers (Set-Cookie comes one by one) joined with ", ".
      // No prototype, so that every name (even __proto__) is a key of its own.
      /** @type {Record<string, string>} */
      const header = Object.create(null);
      const headers = res.headers;
      headers.forEach((value, name) => {
        header[name] = name in header ? `${header[name]}, ${value}` : value;
      });
      const length = Number(headers.get("content-length"));
      if (Number.isFinite(length) && length > MAX_BODY) {
        res.body?.cancel().catch(noop);
        return { failure: { kind: "too_large", message: "the token endpoint's answer is larger than 1 MiB" } };
      }
      const body = await readCapped(res, MAX_BODY);
      if (body === null) {
        return { failure: { kind: "too_large", message: "the token endpoint's answer is larger than 1 MiB" } };
      }
      return { response: { status, header, body_bytes: body.byteLength }, body };
    } catch (err) {
      if (this.#closed) return { failure: { kind: "canceled", message: "the client was closed" } };
      const code = errorCode(err);
      if (timedOut || TIMEOUT_CODES.has(code) || err?.name === "TimeoutError") {
        return { failure: { kind: "timeout", message: `the token endpoint did not answer within ${this.#timeoutMs} ms` } };
      }
      if (err?.name === "AbortError") return { failure: { kind: "canceled", message: "the request was canceled" } };
      return { failure: { kind: "network", message: networkMessage(code) } };
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(ctrl);
    }
  }
}

function structuredCloneJSON(v) {
  return JSON.parse(JSON.stringify(v));
}

// ---------------------------------------------------------------------------
// Public entry points

/**
 * Loads a preset document and returns a client for its users. A document
 * that does not load gives a CctokenError with code invalid_preset listing
 * every issue.
 * @param {ClientOptions} options
 * @returns {Promise<Client>}
 */
export async function createClient(options) {
  if (!options || typeof options !== "object") throw new TypeError("cctoken: createClient needs {preset}");
  const text = presetText(options.preset);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new TypeError("cctoken: timeoutMs must be a positive number of milliseconds");
  }
  const fetchOption = options.fetch;
  if (fetchOption !== undefined && typeof fetchOption !== "function") throw new TypeError("cctoken: fetch must be a function");
  if (options.onEvent !== undefined && typeof options.onEvent !== "function") throw new TypeError("cctoken: onEvent must be a function");
  const source = options.source;
  if (source !== undefined && (typeof source !== "object" || source === null || typeof source.token !== "function"
    || (source.invalidate !== undefined && typeof source.invalidate !== "function"))) {
    throw new TypeError("cctoken: source must be an object with token(user, request, {refresh}) and optionally invalidate(user, request, accessToken)");
  }
  const env = options.env ?? globalThis.process?.env ?? {};
  if (typeof env !== "function" && typeof env !== "object") throw new TypeError("cctoken: env must be an object or a function name => value");
  const fetchImpl = fetchOption
    ? (input, init) => fetchOption(input, init)
    : (input, init) => globalThis.fetch(input, init);

  if (options.readFile !== undefined && typeof options.readFile !== "function") throw new TypeError("cctoken: readFile must be a function (path, {field}) => text");
  const inst = await Instance.create(await compileModule(options.wasm));
  const client = new Client(internal, inst, { fetch: fetchImpl, env, timeoutMs, onEvent: options.onEvent, source, readFile: options.readFile });
  try {
    await client[internal](text);
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/**
 * A token in the form a source's token() returns (the module's Token
 * answer), to hand a token from one client to another, such as from a
 * Durable Object to the isolates it serves. It holds the access token:
 * pass it only over a trusted binding, never log it.
 * @param {Token} tok
 */
export function tokenAnswer(tok) {
  const t = secrets.get(tok);
  if (!t) throw new TypeError("cctoken: tokenAnswer needs a Token from client.token()");
  return {
    user: tok.user,
    access_token: t.accessToken,
    token_type: tok.tokenType,
    expires_at: t.expiresAt,
    expiry_source: tok.expirySource,
    scopes: [...tok.scopes],
    headers: { ...t.headers },
    refresh_at: t.refreshAt,
    use_until: t.useUntil,
  };
}

/**
 * Checks a preset document and returns every issue in it (none when it is
 * clean). ${env:NAME} references are taken as set.
 * @param {PresetSource} text
 * @param {{wasm?: WasmSource}} [options] wasm: as for createClient
 * @returns {Promise<Issue[]>}
 */
export async function lint(text, options) {
  const doc = presetText(text);
  const inst = await Instance.create(await compileModule(options?.wasm));
  const a = inst.do({ op: "lint", text: doc });
  if (a.error) throw moduleError(a.error);
  const issues = a.result?.issues;
  return Array.isArray(issues) ? issues.map((i) => copyIssue(i)) : [];
}

/**
 * @typedef {WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response | PromiseLike<Response | WebAssembly.Module> | string | URL} WasmSource
 * @typedef {string | ArrayBuffer | ArrayBufferView | object} PresetSource
 * @typedef {{scopes?: string[] | string, audience?: string, resource?: string[] | string, waitUntil?: (p: Promise<unknown>) => void}} TokenOptions
 * @typedef {{field: string, line?: number, column?: number, message: string}} Issue
 * @typedef {{preset: PresetSource, wasm?: WasmSource,
 *   env?: Record<string, string | undefined> | ((name: string) => string | undefined | null | Promise<string | undefined | null>),
 *   fetch?: typeof fetch, timeoutMs?: number, onEvent?: (event: object) => void,
 *   readFile?: (path: string, info: {field: string}) => string | Uint8Array | Promise<string | Uint8Array>}} ClientOptions
 */
