// What the Node drivers (js.test.mjs, edge.test.mjs) share: the fault
// server process, running one scenario's steps through a host and asking
// the fault server to check the outcome, and the per-host summary.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts fault-server.mjs and returns its control client. The server exits
 * when its stdin closes, so it cannot outlive this process.
 */
export async function startFaultServer() {
  const child = spawn(process.execPath, [path.join(here, "fault-server.mjs")], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c) => { stderr = (stderr + c).slice(-8192); });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ready = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c) => {
      out += c;
      const nl = out.indexOf("\n");
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)));
    });
    exited.then((code) => reject(new Error(`the fault server exited (${code}):\n${stderr}`)));
  });
  const call = async (method, p, body) => {
    const res = await fetch(`${ready.control}${p}`, { method, body: body && JSON.stringify(body) });
    const v = await res.json();
    if (res.status !== 200) throw new Error(`fault server ${method} ${p}: ${v.error}`);
    return v;
  };
  return {
    scenarios: () => call("GET", "/scenarios"),
    reset: (name) => call("POST", `/reset/${encodeURIComponent(name)}`),
    log: (name) => call("GET", `/log/${encodeURIComponent(name)}`),
    check: (name, host, outcomes) => call("POST", `/check/${encodeURIComponent(name)}?host=${host}`, { outcomes }),
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** An outcome for an error thrown by a host. */
export function failed(err) {
  return { error: String(err?.code ?? "exception"), message: String(err?.message ?? err) };
}

/**
 * Collects every scenario's result for one host and prints the summary:
 * which passed, which failed (and whether the scenario is about API
 * answers, POLICY.md), which are not applicable and why.
 */
export class Summary {
  constructor(host) {
    this.host = host;
    this.rows = [];
  }

  add(s, result, detail = "") {
    this.rows.push({ name: s.name, policy: !!s.policy, result, detail });
    const tag = result === "not applicable" ? `NOT APPLICABLE: ${detail}` : result.toUpperCase();
    console.log(`conformance ${this.host}: ${s.name}: ${tag}`);
  }

  print() {
    const by = (r) => this.rows.filter((x) => x.result === r);
    const lines = [`conformance ${this.host}: ${by("pass").length} pass, ${by("fail").length} fail, ${by("not applicable").length} not applicable`];
    for (const r of by("fail")) lines.push(`  FAIL ${r.name}${r.policy ? " (API answer policy)" : ""}`);
    for (const r of by("not applicable")) lines.push(`  N/A  ${r.name}: ${r.detail}`);
    console.log(lines.join("\n"));
  }
}

/**
 * Runs scenario s through steps (an object of functions token, request,
 * invalidate, wait, each returning an outcome) and returns the fault
 * server's verdict. A step that throws gives the error outcome.
 */
export async function runSteps(s, run) {
  const outcomes = [];
  for (const step of s.steps) {
    try {
      switch (step.do) {
        case "token": outcomes.push(await run.token(step)); break;
        case "request": outcomes.push(await run.request(step)); break;
        case "invalidate": outcomes.push(await run.invalidate(step)); break;
        case "wait": await sleep(step.ms); outcomes.push({}); break;
        default: throw new Error(`unknown step ${step.do}`);
      }
    } catch (err) {
      outcomes.push(failed(err));
    }
  }
  return outcomes;
}
