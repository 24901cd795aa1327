// The file effect in the JavaScript host: a client_assertion_file user's
// JWT comes from the application's readFile for every token request, and
// without readFile the user fails with credential_file before anything is
// sent.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { CctokenError, createClient } from "../cctoken.js";
import { closeAll, listen, preset, readBody, sendToken, wasmModule } from "../test-support/helpers.js";

let wasm;
before(async () => { wasm = await wasmModule(); });
after(closeAll);

/** An unsigned JWT-shaped assertion; the endpoint below only records it. */
function workloadJWT(n, expSeconds) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: "https://oidc.example", sub: `wl-${n}`, exp: expSeconds })}.c2ln`;
}

test("client_assertion_file is read through readFile for every token request", async () => {
  const seen = [];
  const srv = await listen(async (req, res) => {
    seen.push(new URLSearchParams(await readBody(req)));
    sendToken(res, `tok-${seen.length}`);
  });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  let current = workloadJWT(1, exp);
  const reads = [];
  const client = await createClient({
    wasm,
    preset: preset(`${srv.url}/token`, [{ username: "wl", client_id: "app", client_assertion_file: "/var/run/wl/token" }]),
    readFile: (path, info) => { reads.push([path, info.field]); return current + "\n"; },
  });
  try {
    await client.token("wl");
    current = workloadJWT(2, exp);
    await client.invalidate("wl");
    await client.token("wl");
  } finally {
    client.close();
  }
  assert.equal(seen.length, 2);
  assert.equal(seen[0].get("client_assertion"), workloadJWT(1, exp));
  assert.equal(seen[1].get("client_assertion"), workloadJWT(2, exp));
  assert.equal(seen[0].get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  assert.equal(seen[0].get("client_id"), "app");
  assert.deepEqual(reads[0], ["/var/run/wl/token", "preset[0].users[0].client_assertion_file"]);
});

test("without readFile, or with an expired JWT, nothing is sent", async () => {
  let hits = 0;
  const srv = await listen((req, res) => { hits += 1; sendToken(res, "never"); });
  const doc = preset(`${srv.url}/token`, [{ username: "wl", client_id: "app", client_assertion_file: "/var/run/wl/token" }]);
  const expired = workloadJWT(3, Math.floor(Date.now() / 1000) - 60);
  for (const [name, readFile, want] of [
    ["no readFile", undefined, /reads no files/],
    ["expired", () => expired, /expired/],
  ]) {
    const client = await createClient({ wasm, preset: doc, readFile });
    try {
      await assert.rejects(client.token("wl"), (err) => {
        assert.ok(err instanceof CctokenError, name);
        assert.equal(err.code, "credential_file", name);
        assert.equal(err.field, "preset[0].users[0].client_assertion_file", name);
        assert.match(err.message, want, name);
        assert.ok(!err.message.includes(expired.split(".")[1]), `${name}: the error quotes the JWT`);
        return true;
      });
    } finally {
      client.close();
    }
  }
  assert.equal(hits, 0);
});
