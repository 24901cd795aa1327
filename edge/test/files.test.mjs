// A worker has no files: a credential "file" a preset names
// (client_assertion_file) is the text binding of that name, read at each
// token request. Real workerd, a token endpoint on 127.0.0.1 that records
// the client assertion it gets, and the sample upstream.

import assert from "node:assert/strict";
import { after, test } from "node:test";

import { closeAll, listen, readBody, sendToken } from "../../js/test-support/helpers.js";
import { startUpstream, startWorkerd, stopAllWorkerd, tempConfig } from "../test-support/harness.mjs";

const KEY = "files-test-inbound-key-0123456789";

after(async () => {
  await stopAllWorkerd();
  await closeAll();
});

/** A JWT-shaped workload assertion that expires in an hour. */
function workloadJWT(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: "https://oidc.cluster.example", sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
}

async function signer(tokenURL, upstreamURL, bindings) {
  const preset = `preset:\n- type: oauth_client_credentials\n  url: ${tokenURL}\n  users:\n  - username: wl\n    client_id: app\n    client_assertion_file: WORKLOAD_JWT\n`;
  const routes = JSON.stringify([{ path: "/api/", user: "wl", upstream: upstreamURL, strip_prefix: true }]);
  const extra = Object.entries(bindings).map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)}),`).join("\n        ");
  const cfg = await tempConfig(({ modules }) => `
const config :Workerd.Config = (
  services = [
    (name = "signer", worker = (
      modules = ${modules},
      compatibilityDate = "2026-11-01",
      bindings = [
        (name = "PRESET", text = ${JSON.stringify(preset)}),
        (name = "ROUTES", text = ${JSON.stringify(routes)}),
        (name = "INBOUND_KEY", text = ${JSON.stringify(KEY)}),
        ${extra}
      ],
      globalOutbound = "outbound",
    )),
    (name = "outbound", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "signer")],
);`);
  const w = await startWorkerd({ config: cfg.file });
  return { w, remove: cfg.remove };
}

test("client_assertion_file names a text binding, sent as the client assertion", async () => {
  const assertions = [];
  const tokenEndpoint = await listen(async (req, res) => {
    assertions.push(new URLSearchParams(await readBody(req)).get("client_assertion"));
    sendToken(res, `tok-${assertions.length}`);
  });
  const up = await startUpstream();
  const jwt = workloadJWT("system:serviceaccount:apps:api");
  const { w, remove } = await signer(`${tokenEndpoint.url}/token`, up.url, { WORKLOAD_JWT: jwt });
  try {
    const res = await fetch(`${w.url}/api/things`, { headers: { "x-cctoken-key": KEY } });
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual(assertions, [jwt]);
    assert.equal(up.seen.at(-1).token, "tok-1");
  } finally {
    await w.stop();
    await remove();
  }
});

test("without the binding the answer is a 502 credential_file, and nothing is sent", async () => {
  let hits = 0;
  const tokenEndpoint = await listen((req, res) => { hits += 1; sendToken(res, "never"); });
  const up = await startUpstream();
  const { w, remove } = await signer(`${tokenEndpoint.url}/token`, up.url, {});
  try {
    const res = await fetch(`${w.url}/api/things`, { headers: { "x-cctoken-key": KEY } });
    const body = await res.json();
    assert.equal(res.status, 502);
    assert.equal(body.error, "credential_file");
    assert.equal(hits, 0);
    assert.equal(up.seen.length, 0);
  } finally {
    await w.stop();
    await remove();
  }
});
