// JWT client authentication from the JavaScript host: the module signs the
// RFC 7523 assertion (private_key_jwt with a key from the environment,
// client_secret_jwt with the secret); node-oidc-provider, strict about
// registered methods, checks it.

import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { createClient } from "../cctoken.js";
import { closeAll, startOIDC, wasmModule } from "../test-support/helpers.js";

const SECRET = `jwt-CANARY-${randomBytes(8).toString("hex")}`;
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const KEY_PEM = privateKey.export({ type: "pkcs8", format: "pem" });
let wasm;
let oidc;

before(async () => {
  wasm = await wasmModule();
  oidc = await startOIDC({
    clients: [
      { client_id: "key-client", token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ ...publicKey.export({ format: "jwk" }), alg: "ES256" }] } },
      { client_id: "hmac-client", client_secret: SECRET, token_endpoint_auth_method: "client_secret_jwt" },
    ],
    strict_auth_methods: true,
  });
});
after(closeAll);

test("private_key_jwt and client_secret_jwt get tokens; no key or secret in events or errors", async () => {
  const events = [];
  const client = await createClient({
    preset: JSON.stringify({
      preset: [{
        type: "oauth_client_credentials",
        url: oidc.token_endpoint,
        users: [
          { username: "key", client_id: "key-client", auth_method: "private_key_jwt", private_key: "${env:KEY}" },
          { username: "hmac", client_id: "hmac-client", auth_method: "client_secret_jwt", client_secret: "${env:SECRET}" },
          { username: "wrong", client_id: "hmac-client", auth_method: "client_secret_jwt", client_secret: "${env:WRONG}" },
        ],
      }],
    }),
    wasm,
    env: { KEY: KEY_PEM, SECRET, WRONG: `${SECRET}-wrong` },
    onEvent: (e) => events.push(e),
  });
  try {
    for (const user of ["key", "hmac"]) {
      const tok = await client.token(user);
      assert.equal(tok.tokenType, "Bearer");
      assert.ok(tok.accessToken.length > 10);
    }
    const stats = await oidc.stats();
    assert.deepEqual(stats.auth_methods, { "key-client": { private_key_jwt: 1 }, "hmac-client": { client_secret_jwt: 1 } });
    let failure;
    await assert.rejects(client.token("wrong"), (err) => { failure = err; return err.code === "invalid_client"; });
    const seen = JSON.stringify([events, failure, String(failure), failure.stack]);
    for (const secret of [SECRET, ...KEY_PEM.split("\n").filter((l) => l.length > 20)]) assert.ok(!seen.includes(secret));
  } finally {
    client.close();
  }
});
