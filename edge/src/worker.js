// cctoken's request-signing worker. A caller sends a request with the
// inbound key; the worker finds its route, removes any credentials the
// caller sent, adds the route's user's token, headers and cookies, and
// forwards the request to the route's upstream origin, and nowhere else.
//
// Bindings (wrangler.toml or config.capnp):
//   PRESET       secret text: the preset document (YAML or JSON). Its
//                ${env:NAME} references read the worker's other bindings.
//   ROUTES       text: the route table, see routes.js and edge/README.md.
//   INBOUND_KEY  secret text: what callers send in X-Cctoken-Key.
//   SIGNING      optional text "off": forward without tokens (benchmarks).
//   TOKENS       optional Durable Object namespace of class TokenOwner:
//                one object per (preset, user, token options) fetches and
//                refreshes for every isolate (see token-owner.js).
// The cctoken reactor is imported from the package's subpath
// "cctoken/cctoken.wasm" as a compiled module and passed as the wasm option:
// edge runtimes do not compile wasm from bytes at run time.

import { createClient } from "cctoken";
import wasm from "cctoken/cctoken.wasm";

import { matchRoute, parseRoutes, sameOrigin, upstreamURL } from "./routes.js";
import { ownerSource } from "./token-owner.js";

export { TokenOwner } from "./token-owner.js";

const KEY_HEADER = "x-cctoken-key";
/** Request bodies up to this size are kept so a request can be sent again. */
const REPLAY_LIMIT = 1 << 20;

// Hop-by-hop headers (RFC 9110 §7.6.1) and what a caller must not choose.
const DROP = new Set([
  "authorization", "cookie", "dpop", KEY_HEADER, "host", "connection", "keep-alive", "proxy-authorization",
  "proxy-authenticate", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
]);

/**
 * What one isolate keeps: the client for the configured preset and the
 * parsed routes. Tokens live in the client, so they are shared by every
 * request the isolate serves.
 * @type {{preset: string, routes: string, client: Promise<any>, table: any[]} | undefined}
 */
let isolate;

function log(event) {
  // Events carry no token and no secret; see js/cctoken.d.ts.
  console.log(JSON.stringify({ cctoken: event.type, ...event, type: undefined }));
}

function setup(env) {
  const preset = env.PRESET;
  const routes = env.ROUTES;
  if (isolate && isolate.preset === preset && isolate.routes === routes) return isolate;
  if (typeof preset !== "string" || preset.trim() === "") {
    throw new ConfigError("PRESET", "the binding is missing or empty; bind the preset document as a secret text");
  }
  if (typeof routes !== "string" && (typeof routes !== "object" || routes === null)) {
    throw new ConfigError("ROUTES", "the binding is missing; bind the route table as JSON text");
  }
  const table = parseRoutes(routes);
  const client = createClient({
    preset,
    wasm,
    // ${env:NAME} in the preset reads the worker's bindings, so secrets can
    // be bound one by one.
    env: (name) => (typeof env[name] === "string" ? env[name] : undefined),
    onEvent: log,
    // A worker has no files: a credential "file" the preset names
    // (client_assertion_file, a certificate path) is the text binding of
    // that name, read at each token request.
    readFile: (name) => {
      if (typeof env[name] === "string") return env[name];
      throw Object.assign(new Error("no such binding"), { code: "no text binding of that name" });
    },
    // With a TOKENS namespace the isolate asks the preset user's Durable
    // Object and keeps its answer until the refresh point; when the object
    // cannot be reached the isolate fetches on its own.
    ...(env.TOKENS ? { source: ownerSource(env.TOKENS, preset, env) } : {}),
  });
  client.catch(() => {});
  isolate = { preset, routes, client, table };
  return isolate;
}

class ConfigError extends Error {
  constructor(binding, message) {
    super(`${binding}: ${message}`);
    this.binding = binding;
  }
}

function json(status, body, extra) {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...extra },
  });
}

/** Compares two strings in time that depends only on their lengths. */
function equalKeys(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

/** The request as it will go upstream: credentials and hop-by-hop headers removed. */
function forwardHeaders(request) {
  const headers = new Headers();
  const listed = (request.headers.get("connection") ?? "").toLowerCase().split(",").map((s) => s.trim());
  for (const [name, value] of request.headers) {
    if (DROP.has(name) || listed.includes(name)) continue;
    headers.append(name, value);
  }
  return headers;
}

/**
 * The body to forward: kept in memory when it is small and its length is
 * known, so the request can be sent again (a retry or a redirect the module
 * asks for); streamed otherwise, which client.fetch never sends twice.
 */
async function forwardBody(request) {
  if (request.method === "GET" || request.method === "HEAD" || request.body === null) return { body: undefined };
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(length) && length <= REPLAY_LIMIT) return { body: await request.arrayBuffer() };
  return { body: request.body };
}

function tokenFailure(err, user) {
  // CctokenError messages and fields never hold a token or a secret.
  const body = {
    error: err?.code ?? "token_error",
    error_description: typeof err?.message === "string" ? err.message : "the token request failed",
    user,
  };
  if (err?.status) body.token_endpoint_status = err.status;
  return json(502, body);
}

/**
 * Signs and forwards one request. trusted: it came through a service
 * binding, so it needs no inbound key.
 */
async function sign(request, env, ctx) {
  let state;
  try {
    state = setup(env);
  } catch (err) {
    return json(500, { error: "misconfigured", error_description: err instanceof Error ? err.message : "bad configuration" });
  }
  const url = new URL(request.url);
  const route = matchRoute(state.table, url);
  if (!route) {
    return json(403, { error: "no_route", error_description: "no route for this host and path: the worker forwards only to the upstream origins in its route table" });
  }
  let target = upstreamURL(route, url);
  if (!target) return json(403, { error: "origin_not_allowed", error_description: "the request would leave the route's upstream origin" });

  const headers = forwardHeaders(request);
  const { body } = await forwardBody(request);

  const signing = env.SIGNING !== "off";
  let client;
  if (signing) {
    try {
      client = await state.client;
    } catch (err) {
      return json(500, { error: "misconfigured", error_description: err?.message ?? "the preset does not load" });
    }
  }
  const options = { ...route.options, waitUntil: (p) => ctx.waitUntil(p) };

  // Retries and same-origin redirects are the module's decision, made
  // inside client.fetch (wasm/ABI.md, "After an API's answer"): what comes
  // back is the answer for the caller, or a redirect the module did not
  // follow.
  const init = { method: request.method, headers, redirect: "manual" };
  if (body !== undefined) init.body = body;
  let res;
  try {
    res = signing ? await client.fetch(route.user, target.href, init, options) : await fetch(target.href, init);
  } catch (err) {
    if (err?.name === "CctokenError") return tokenFailure(err, route.user);
    return json(502, { error: "upstream_unreachable", error_description: "the upstream did not answer" });
  }
  const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
  if (location !== null) {
    let next;
    try {
      next = new URL(location, target);
    } catch {
      next = undefined;
    }
    // A proxy's caller stays on the route: a redirect off it is not handed
    // on (and the module never sent anything there).
    if (next && !sameOrigin(route, next)) {
      res.body?.cancel();
      return json(403, { error: "redirect_not_allowed", error_description: "the upstream redirected to another origin; the worker sends tokens only to the route's upstream origin and did not follow" });
    }
  }
  return passBack(res);
}

/** The upstream's answer, minus what only concerned the hop to it. */
function passBack(res) {
  const headers = new Headers(res.headers);
  for (const name of ["connection", "keep-alive", "transfer-encoding"]) headers.delete(name);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

export default {
  /** Reached from the network: callers must send the inbound key. */
  async fetch(request, env, ctx) {
    const key = env.INBOUND_KEY;
    if (typeof key !== "string" || key.length < 16) {
      return json(500, { error: "misconfigured", error_description: "INBOUND_KEY: bind a secret text of at least 16 characters that callers send in X-Cctoken-Key" });
    }
    const given = request.headers.get(KEY_HEADER);
    if (given === null || !equalKeys(given, key)) {
      return json(401, { error: "unauthorized", error_description: "send the worker's inbound key in X-Cctoken-Key" }, { "www-authenticate": "CctokenKey" });
    }
    return sign(request, env, ctx);
  },
};

/**
 * Reached only through a service binding that names this entrypoint
 * (`entrypoint = "bound"`): the binding is the caller's credential, so no
 * inbound key is asked for.
 */
export const bound = {
  fetch(request, env, ctx) {
    return sign(request, env, ctx);
  },
};
