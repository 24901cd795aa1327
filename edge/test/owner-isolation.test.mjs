// A worker service bound to the TokenOwner namespace must not get, through
// an object, a token that object was not named for: the object checks that
// its own id is the one its (preset, user, token options) name gives, and
// refuses anything else, whoever asks. Real workerd: the signer defines the
// objects; "other" is a second worker service bound to the same namespace
// that asks object A for user b, for other options, with a name from
// another preset, and with an id made up on the spot; "stranger" runs the
// signing worker with another preset on the same namespace.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { closeAll, startOIDC } from "../../js/test-support/helpers.js";
import { freePort, startUpstream, startWorkerd, stopAllWorkerd, tempConfig } from "../test-support/harness.mjs";

const A_SECRET = `a-CANARY-${randomBytes(6).toString("hex")}`;
const B_SECRET = `b-CANARY-${randomBytes(6).toString("hex")}`;

// The second service: it knows the preset and its secrets (the strongest
// case: it can name every object), and reports what each attempt got.
const OTHER = `
import { DurableObject } from "cloudflare:workers";
import * as owner from "token-owner.js";

async function attempt(call) {
  try {
    const answer = await call();
    return { answer };
  } catch (err) {
    return { refused: String(err?.message ?? err) };
  }
}

export default {
  async fetch(request, env) {
    // Only /try attempts anything: startWorkerd's probe asks for /.
    if (new URL(request.url).pathname !== "/try") return new Response("up");
    const ns = env.TOKENS;
    const nameOf = (preset, user, req) => owner.ownerName(preset, env, user, req);
    const idA = ns.idFromName(await nameOf(env.PRESET, "a", {}));
    const otherPreset = env.PRESET.replace("a-client", "a-client ");
    const results = {
      // The object of user a, asked for user b's token.
      otherUser: await attempt(() => ns.get(idA).token("b", {}, false)),
      // The object of user a with default options, asked for other scopes.
      otherOptions: await attempt(() => ns.get(idA).token("a", { scopes: ["x"] }, false)),
      // An object named from another preset's digest, asked for user a.
      otherPreset: await attempt(async () => ns.get(ns.idFromName(await nameOf(otherPreset, "a", {}))).token("a", {}, false)),
      // An id nobody derived from a name.
      uniqueId: await attempt(() => ns.get(ns.newUniqueId()).token("b", {}, false)),
      // Invalidation for another user through user a's object.
      invalidateOther: await attempt(() => ns.get(idA).refused("b", {}, "some-token")),
      // The object asked for exactly what its name says: served.
      own: await attempt(() => ns.get(idA).token("a", {}, false)),
    };
    return new Response(JSON.stringify(results));
  },
};
`;

const KEY = `inbound-${randomBytes(12).toString("hex")}`;

let oidc;
let api;
let cfg;
let worker;
let strangerPort;

before(async () => {
  oidc = await startOIDC({
    clients: [
      { client_id: "a-client", client_secret: A_SECRET, token_endpoint_auth_method: "client_secret_basic" },
      { client_id: "b-client", client_secret: B_SECRET, token_endpoint_auth_method: "client_secret_basic" },
    ],
  });
  const preset = JSON.stringify({
    preset: [{
      type: "oauth_client_credentials",
      url: oidc.token_endpoint,
      users: [
        { username: "a", client_id: "a-client", client_secret: "${env:A_SECRET}" },
        { username: "b", client_id: "b-client", client_secret: "${env:B_SECRET}" },
      ],
    }],
  });
  api = await startUpstream();
  // The same users with another setting: another preset, so other names.
  const otherPreset = preset.replace('"users"', '"refresh_skew":"5s","users"');
  strangerPort = await freePort();
  const bindings = (tokens, text = preset) => `[
        (name = "PRESET", text = ${JSON.stringify(text)}),
        (name = "ROUTES", text = ${JSON.stringify(JSON.stringify([{ path: "/a", user: "a", upstream: api.url, strip_prefix: true }]))}),
        (name = "INBOUND_KEY", text = ${JSON.stringify(KEY)}),
        (name = "A_SECRET", text = ${JSON.stringify(A_SECRET)}),
        (name = "B_SECRET", text = ${JSON.stringify(B_SECRET)}),
        (name = "TOKENS", durableObjectNamespace = ${tokens}),
      ]`;
  cfg = await tempConfig(({ modules }) => `
const config :Workerd.Config = (
  services = [
    (name = "signer", worker = (
      modules = ${modules},
      compatibilityDate = "2026-11-01",
      durableObjectNamespaces = [(className = "TokenOwner", uniqueKey = "cctoken-test-isolation")],
      durableObjectStorage = (inMemory = void),
      bindings = ${bindings('"TokenOwner"')},
      globalOutbound = "outbound",
    )),
    (name = "other", worker = (
      modules = [
        (name = "other.js", esModule = ${JSON.stringify(OTHER)}),
        ${modules.trim().slice(1, -1)}
      ],
      compatibilityDate = "2026-11-01",
      bindings = ${bindings('(serviceName = "signer", className = "TokenOwner")')},
    )),
    (name = "stranger", worker = (
      modules = ${modules},
      compatibilityDate = "2026-11-01",
      bindings = ${bindings('(serviceName = "signer", className = "TokenOwner")', otherPreset)},
      globalOutbound = "outbound",
    )),
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:0", http = (), service = "other"),
    (name = "stranger", address = "127.0.0.1:${strangerPort}", http = (), service = "stranger"),
  ],
);`);
  worker = await startWorkerd({ config: cfg.file });
});

after(async () => {
  await stopAllWorkerd();
  await closeAll();
  await cfg?.remove();
});

test("an object serves only the (preset, user, token options) its id was derived from", async () => {
  await oidc.reset();
  const res = await fetch(`http://127.0.0.1:${worker.port}/try`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const results = JSON.parse(text);
  for (const name of ["otherUser", "otherOptions", "otherPreset", "uniqueId", "invalidateOther"]) {
    const r = results[name];
    assert.equal(r.answer, undefined, `${name}: refused, no answer (got ${JSON.stringify(r.answer)})`);
    assert.match(r.refused, /serves only the preset, user and token options its name was derived from/, name);
  }
  // The object named for user a and default options still serves it.
  assert.equal(typeof results.own.answer?.token?.access_token, "string", JSON.stringify(results.own));
  const stats = await oidc.stats();
  assert.equal(stats.token_requests["b-client"] ?? 0, 0, "nothing asked the token endpoint for user b");
  assert.equal(stats.token_requests["a-client"], 1, "user a's token was fetched once, for its own object");
  for (const s of [A_SECRET, B_SECRET]) {
    assert.ok(!text.includes(s), "no secret in any answer");
    assert.ok(!worker.output().includes(s), "no secret in workerd's output");
  }
});

test("a service with another preset is refused by the objects and fetches its own tokens", async () => {
  await oidc.reset();
  const before = worker.output().length;
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`http://127.0.0.1:${strangerPort}/a/x`, { headers: { "x-cctoken-key": KEY } });
    assert.equal(res.status, 200, await res.text());
  }
  const events = worker.output().slice(before).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.cctoken === "source_unavailable"), "the object refused and the isolate said so");
  const fetched = events.filter((e) => e.cctoken === "token_fetched");
  assert.ok(!fetched.some((e) => e.owner), "no object fetched for the stranger");
  assert.equal((await oidc.stats()).token_requests["a-client"], 1, "the isolate fetched once on its own, then cached");
  assert.ok(api.seen.at(-1).token, "the request went out with a token");
});
