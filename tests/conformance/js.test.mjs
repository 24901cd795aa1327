// The conformance suite on the JavaScript host in Node: every scenario of
// tests/conformance/scenarios/ through js/cctoken.js (createClient,
// client.token, client.fetch, client.invalidate) against the fault server.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";

import { createClient } from "../../js/cctoken.js";
import { failed, root, runSteps, startFaultServer, Summary } from "./driver.mjs";

const HOST = "js";
const server = await startFaultServer();
const scenarios = await server.scenarios();
const wasm = await WebAssembly.compile(await readFile(path.join(root, "host", "embed", "cctoken.wasm")));
const summary = new Summary(HOST);

before(() => assert.ok(scenarios.length >= 25, `only ${scenarios.length} scenarios`));
after(async () => {
  summary.print();
  await server.stop();
});

for (const s of scenarios) {
  const na = s.not_applicable?.[HOST];
  test(na ? `${s.name} [not applicable: ${na}]` : s.name, async () => {
    if (na) {
      summary.add(s, "not applicable", na);
      return;
    }
    await server.reset(s.name);
    let client;
    let outcomes;
    try {
      client = await createClient({ preset: s.preset, wasm, env: {}, timeoutMs: s.client?.timeout_ms ?? 10_000 });
    } catch (err) {
      outcomes = s.steps.map(() => failed(err));
    }
    if (client) {
      try {
        outcomes = await runSteps(s, {
          async token() {
            const tok = await client.token(s.user);
            return { access_token: tok.accessToken, token_type: tok.tokenType, expiry_source: tok.expirySource };
          },
          async request(step) {
            const res = await client.fetch(s.user, step.url, { method: step.method ?? "GET", body: step.body, headers: step.headers });
            await res.arrayBuffer();
            return { status: res.status };
          },
          async invalidate() {
            await client.invalidate(s.user);
            return {};
          },
        });
      } finally {
        client.close();
      }
    }
    const verdict = await server.check(s.name, HOST, outcomes);
    summary.add(s, verdict.pass ? "pass" : "fail");
    for (const n of verdict.notes) console.log(`  note: ${n}`);
    assert.ok(verdict.pass, `${s.name}${s.policy ? " (API answer policy, POLICY.md)" : ""}:\n  ${verdict.failures.join("\n  ")}`);
  });
}
