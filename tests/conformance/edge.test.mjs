// The conformance suite on the edge worker (edge/src/worker.js) on a real
// workerd: one workerd serves every scenario. Its PRESET binding holds all
// scenarios' presets, each scenario's user renamed to the scenario's name;
// its ROUTES send /NAME/api/… to the scenario's API origin and /NAME/as/…
// to its authorization server origin (for scenarios whose API shares it).
//
// The worker is a signing proxy, so the steps become requests to it:
//   request   the same method, path, headers and body through the route;
//             the worker's own answers (502 with the token's error, 403
//             redirect_not_allowed) become the outcome's error
//   token     GET /NAME/api/__probe: the fault server echoes the
//             Authorization the worker added (the token and its type;
//             expiry_source is not observable from outside the worker)
//   wait      waits
//   invalidate has no counterpart (scenarios using it say not applicable)

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

import { startWorkerd, stopAllWorkerd } from "../../edge/test-support/harness.mjs";
import { failed, runSteps, startFaultServer, Summary } from "./driver.mjs";

const HOST = "edge";
const KEY = `conformance-${randomBytes(12).toString("hex")}`;
const server = await startFaultServer();
const scenarios = await server.scenarios();
const summary = new Summary(HOST);
const runnable = scenarios.filter((s) => !s.not_applicable?.[HOST]);

let worker;

before(async () => {
  assert.ok(scenarios.length >= 25, `only ${scenarios.length} scenarios`);
  const presets = runnable.map((s) => ({
    ...s.preset,
    users: s.preset.users.filter((u) => u.username === s.user).map((u) => ({ ...u, username: s.name })),
  }));
  const routes = runnable.flatMap((s) => [
    { path: `/${s.name}/api`, user: s.name, upstream: s.origins.api, strip_prefix: true },
    { path: `/${s.name}/as`, user: s.name, upstream: s.origins.as, strip_prefix: true },
  ]);
  worker = await startWorkerd({
    env: {
      CCTOKEN_PRESET: JSON.stringify({ preset: presets }),
      CCTOKEN_ROUTES: JSON.stringify(routes),
      CCTOKEN_INBOUND_KEY: KEY,
    },
  });
});

after(async () => {
  summary.print();
  await stopAllWorkerd();
  await server.stop();
});

/** The worker's URL for a URL at one of the scenario's origins. */
function through(s, url) {
  const u = new URL(url);
  const which = Object.entries(s.origins).find(([, o]) => o === u.origin)?.[0];
  if (which !== "api" && which !== "as") throw new Error(`${url} is not at the scenario's API or authorization server origin`);
  return `${worker.url}/${s.name}/${which}${u.pathname}${u.search}`;
}

/** A worker answer as an outcome: its own errors (JSON with error) become the outcome's error. */
async function outcome(res) {
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status === 502 && typeof body?.error === "string") return { error: body.error, message: body.error_description };
  if ((res.status === 403 || res.status === 500) && typeof body?.error === "string") {
    return { status: res.status, error: body.error, message: body.error_description };
  }
  return { status: res.status, body };
}

for (const s of scenarios) {
  const na = s.not_applicable?.[HOST];
  test(na ? `${s.name} [not applicable: ${na}]` : s.name, async () => {
    if (na) {
      summary.add(s, "not applicable", na);
      return;
    }
    await server.reset(s.name);
    const outcomes = await runSteps(s, {
      async token() {
        const res = await fetch(`${worker.url}/${s.name}/api/__probe`, { headers: { "X-Cctoken-Key": KEY } });
        const got = await outcome(res);
        if (got.error || got.status !== 200) return got;
        const [scheme, token] = String(got.body?.authorization ?? "").split(" ");
        return { access_token: token, token_type: scheme, unobservable: ["expiry_source"] };
      },
      async request(step) {
        const res = await fetch(through(s, step.url), {
          method: step.method ?? "GET",
          headers: { ...(step.headers ?? {}), "X-Cctoken-Key": KEY },
          body: step.body,
          redirect: "manual",
        });
        const { body, ...got } = await outcome(res);
        return got;
      },
      async invalidate() {
        return failed(new Error("the edge worker has no invalidate; mark the scenario not applicable for edge"));
      },
    });
    const verdict = await server.check(s.name, HOST, outcomes);
    summary.add(s, verdict.pass ? "pass" : "fail");
    for (const n of verdict.notes) console.log(`  note: ${n}`);
    assert.ok(verdict.pass, `${s.name}${s.policy ? " (API answer policy, POLICY.md)" : ""}:\n  ${verdict.failures.join("\n  ")}`);
  });
}
