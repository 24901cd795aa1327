// The one command a newcomer runs to see the worker: ./edge/run.sh.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { edgeDir } from "../test-support/harness.mjs";

test("./edge/run.sh --once runs the demo end to end", async () => {
  const { stdout } = await promisify(execFile)(path.join(edgeDir, "run.sh"), ["--once"], { timeout: 90_000 });
  assert.match(stdout, /-> 200 /);
  assert.match(stdout, /client svc-client/);
});

test("./edge/run.sh --once --shared runs it with a Durable Object per user", async () => {
  const { stdout } = await promisify(execFile)(path.join(edgeDir, "run.sh"), ["--once", "--shared"], { timeout: 90_000 });
  assert.match(stdout, /Durable Object per user/);
  assert.match(stdout, /-> 200 /);
});
