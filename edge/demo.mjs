// The signing worker, locally, in one command (./edge/run.sh): starts
// node-oidc-provider and a sample API on 127.0.0.1, the worker on workerd
// at 127.0.0.1:8787 (or a free port when that is taken) with a two-route
// preset, sends one signed request and prints what the API saw. Runs until
// Ctrl-C, or exits after that request with --once.

import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";

import { closeAll, startOIDC } from "../js/test-support/helpers.js";
import { edgeDir, freePort, startUpstream, startWorkerd, stopAllWorkerd } from "./test-support/harness.mjs";

const once = process.argv.includes("--once");
// --shared: config-shared.capnp, where a Durable Object fetches for every isolate.
const shared = process.argv.includes("--shared");
const secret = (name) => `${name}-${randomBytes(12).toString("hex")}`;
const SVC_SECRET = secret("svc");
const API_SECRET = secret("api");
const KEY = secret("inbound");

async function main() {
  const oidc = await startOIDC({
    clients: [
      { client_id: "svc-client", client_secret: SVC_SECRET, token_endpoint_auth_method: "client_secret_basic", scope: "read" },
      { client_id: "api", client_secret: API_SECRET, token_endpoint_auth_method: "client_secret_basic" },
    ],
    access_token_ttl: 300,
  });
  const api = await startUpstream({ introspection: oidc.introspection_endpoint, clientId: "api", clientSecret: API_SECRET });
  const preset = JSON.stringify({
    preset: [{
      type: "oauth_client_credentials",
      url: oidc.token_endpoint,
      users: [{ username: "svc", client_id: "svc-client", client_secret: SVC_SECRET, scopes: ["read"], headers: { "X-Team": "demo" } }],
    }],
  });
  const routes = JSON.stringify([{ path: "/api", user: "svc", upstream: api.url, strip_prefix: true }]);

  // The config's own address when it is free, so the printed curl is stable.
  let port = 8787;
  try {
    const probe = await fetch("http://127.0.0.1:8787/", { signal: AbortSignal.timeout(500) });
    await probe.body?.cancel();
    port = await freePort();
  } catch {
    // nothing listens there
  }
  if (shared) await mkdir(path.join(edgeDir, ".owners"), { recursive: true });
  const worker = await startWorkerd({
    env: { CCTOKEN_PRESET: preset, CCTOKEN_ROUTES: routes, CCTOKEN_INBOUND_KEY: KEY },
    port,
    config: path.join(edgeDir, shared ? "config-shared.capnp" : "config.capnp"),
  });

  const res = await fetch(`${worker.url}/api/orders?limit=2`, { headers: { "X-Cctoken-Key": KEY } });
  const body = await res.text();
  console.log(`workerd serves the signing worker at ${worker.url}${shared ? " (tokens from a Durable Object per user)" : ""}`);
  console.log(`token endpoint ${oidc.token_endpoint}; sample API ${api.url} (checks tokens by introspection)`);
  console.log(`\nGET ${worker.url}/api/orders?limit=2 -> ${res.status} ${body.trim()}`);
  console.log(`the API saw a Bearer token of client ${api.seen.at(-1)?.client ?? "(none)"}; the caller never held one`);
  console.log(`\ntry it:\n  curl -H 'X-Cctoken-Key: ${KEY}' ${worker.url}/api/anything`);
  console.log(`  curl ${worker.url}/api/anything        # no key: 401`);

  const stop = async (code) => {
    await stopAllWorkerd();
    await closeAll();
    process.exit(code);
  };
  if (once || res.status !== 200) {
    await stop(res.status === 200 ? 0 : 1);
    return;
  }
  console.log("\nCtrl-C stops the worker, the API and the provider.");
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  setInterval(() => {}, 1 << 30);
}

main().catch(async (err) => {
  console.error(`edge demo: ${err?.stack ?? err}`);
  await stopAllWorkerd();
  await closeAll();
  process.exit(1);
});
