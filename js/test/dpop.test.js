// DPoP (RFC 9449) from the JavaScript host: node-oidc-provider issues
// DPoP-bound JWT access tokens, and tests/dpop/server.mjs checks every
// proof (signature, htm, htu, ath, jti replay, nonce, cnf.jkt). Both with
// and without servers that demand nonces.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { createClient } from "../cctoken.js";
import { closeAll, startDPoPServer, startOIDC, wasmModule } from "../test-support/helpers.js";

const SECRET = `dpop-CANARY-${randomBytes(6).toString("hex")}`;
let wasm;

before(async () => { wasm = await wasmModule(); });
after(closeAll);

function dpopPreset(oidc) {
  return JSON.stringify({
    preset: [{
      type: "oauth_client_credentials",
      url: oidc.token_endpoint,
      resource: [oidc.resource],
      users: [
        { username: "svc", client_id: "dpop-client", client_secret: SECRET, dpop: true, headers: { "X-Team": "a" } },
        { username: "bearer", client_id: "dpop-client", client_secret: SECRET },
      ],
    }],
  });
}

for (const nonce of [false, true]) {
  test(`client.fetch sends a fresh DPoP proof with every request${nonce ? ", with the nonces both servers demand" : ""}`, async () => {
    const oidc = await startOIDC({
      clients: [{ client_id: "dpop-client", client_secret: SECRET, token_endpoint_auth_method: "client_secret_basic", scope: "read" }],
      jwt_access_tokens: true,
      dpop_require_nonce: nonce,
    });
    const rs = await startDPoPServer(oidc, nonce);
    const client = await createClient({ preset: dpopPreset(oidc), wasm });
    try {
      const tok = await client.token("svc");
      assert.equal(tok.tokenType, "DPoP");
      for (const [method, path, body] of [["GET", "/things?page=2", undefined], ["POST", "/things", "{}"], ["GET", "/things?page=3", undefined]]) {
        const res = await client.fetch("svc", `${rs.url}${path}`, { method, body });
        const text = await res.text();
        assert.equal(res.status, 200, text);
        assert.equal(JSON.parse(text).client_id, "dpop-client");
      }
      const stats = await rs.stats();
      assert.equal(stats.accepted, 3);
      if (nonce) {
        // The first request learns the server's nonce (one refused try),
        // the later ones carry it from the start.
        assert.deepEqual(Object.values(stats.rejected), [1]);
      } else {
        assert.deepEqual(stats.rejected, {});
      }

      // sign() gives headers for one request; a replayed proof is refused.
      const headers = await client.sign("svc", "GET", `${rs.url}/replay`);
      assert.match(headers.Authorization, /^DPoP /);
      assert.equal(headers["X-Team"], "a");
      const first = await fetch(`${rs.url}/replay`, { headers });
      assert.equal(first.status, 200, await first.text());
      const replay = await fetch(`${rs.url}/replay`, { headers });
      assert.equal(replay.status, 401);
      assert.match(replay.headers.get("www-authenticate"), /invalid_dpop_proof/);

      // A proof for another URL does not pass.
      const other = await client.sign("svc", "GET", `${rs.url}/elsewhere`);
      const wrong = await fetch(`${rs.url}/here`, { headers: other });
      assert.equal(wrong.status, 401);

      // A Bearer user's token is not accepted where DPoP is required.
      const bearer = await client.fetch("bearer", `${rs.url}/things`);
      assert.equal(bearer.status, 401);
      assert.equal((await client.sign("bearer", "GET", rs.url)).Authorization.split(" ")[0], "Bearer");
    } finally {
      client.close();
      await rs.stop();
      await oidc.stop();
    }
  });
}
