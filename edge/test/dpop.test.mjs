// DPoP through the signing worker: the worker signs every forwarded request
// with a fresh proof for the upstream URL it actually calls, and learns the
// nonces the servers demand. tests/dpop/server.mjs checks each proof.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";

import { closeAll, startDPoPServer, startOIDC } from "../../js/test-support/helpers.js";
import { startWorkerd, stopAllWorkerd } from "../test-support/harness.mjs";

const SECRET = `dpop-CANARY-${randomBytes(6).toString("hex")}`;
const KEY = `inbound-${randomBytes(12).toString("hex")}`;

after(async () => {
  await stopAllWorkerd();
  await closeAll();
});

test("the worker sends DPoP-bound tokens with a fresh proof per request, nonces included", async () => {
  const oidc = await startOIDC({
    clients: [{ client_id: "dpop-client", client_secret: SECRET, token_endpoint_auth_method: "client_secret_basic" }],
    jwt_access_tokens: true,
    dpop_require_nonce: true,
  });
  const rs = await startDPoPServer(oidc, true);
  const preset = JSON.stringify({
    preset: [{
      type: "oauth_client_credentials",
      url: oidc.token_endpoint,
      resource: [oidc.resource],
      users: [{ username: "svc", client_id: "dpop-client", client_secret: SECRET, dpop: true }],
    }],
  });
  const worker = await startWorkerd({
    env: {
      CCTOKEN_PRESET: preset,
      CCTOKEN_ROUTES: JSON.stringify([{ path: "/api", user: "svc", upstream: `${rs.url}/v1`, strip_prefix: true }]),
      CCTOKEN_INBOUND_KEY: KEY,
    },
  });
  for (const [method, path, body] of [["GET", "/api/a?x=1", undefined], ["PUT", "/api/b", "payload"], ["GET", "/api/a?x=2", undefined]]) {
    const res = await fetch(`${worker.url}${path}`, { method, body, headers: { "x-cctoken-key": KEY, dpop: "caller-proof" } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(JSON.parse(text).client_id, "dpop-client");
  }
  const stats = await rs.stats();
  assert.equal(stats.accepted, 3);
  assert.deepEqual(Object.values(stats.rejected), [1], "one try without the nonce, then it is known");
  assert.ok(!worker.output().includes(SECRET));
});
