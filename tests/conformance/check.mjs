// The conformance checks, written once for every host: what a host's
// driver saw (one outcome per step) and what the fault server recorded,
// against a scenario's expectations. See docs/conformance.md for the
// scenario format.

/** The request kinds a scenario counts; a kind the scenario does not list must see no request. */
export const KINDS = ["token", "metadata", "api", "other"];

const show = (v) => JSON.stringify(v);

/**
 * Checks one run of scenario s on host.
 * @param {any} s the scenario, placeholders replaced
 * @param {string} host go, js, edge or wasi
 * @param {any[]} outcomes one per step: {access_token, token_type,
 *   expiry_source} or {status} or {error, message}, with `unobservable`
 *   listing the keys this host cannot report
 * @param {any[]} log the requests the fault server recorded
 * @returns {{pass: boolean, failures: string[], notes: string[]}}
 */
export function check(s, host, outcomes, log) {
  const failures = [];
  const notes = [];
  if (!Array.isArray(outcomes) || outcomes.length !== s.steps.length) {
    failures.push(`the driver reported ${outcomes?.length ?? 0} outcomes for ${s.steps.length} steps`);
    return { pass: false, failures, notes };
  }
  s.steps.forEach((step, i) => checkStep(step, i, host, outcomes[i] ?? {}, failures, notes));

  const counts = s.expect?.counts ?? {};
  for (const kind of KINDS) {
    const want = counts[kind] ?? 0;
    const got = log.filter((r) => r.kind === kind).length;
    if (got !== want) failures.push(`${kind} requests: want ${want}, got ${got} (${summary(log, kind)})`);
  }
  for (const [j, e] of (s.expect?.requests ?? []).entries()) {
    const of = log.filter((r) => r.kind === e.kind);
    const picked = e.each ? of : [of[(e.nth ?? 1) - 1]].filter(Boolean);
    const label = `expect.requests[${j}] (${e.kind}${e.each ? " each" : ` #${e.nth ?? 1}`})`;
    if (picked.length === 0) {
      failures.push(`${label}: no such request was made`);
      continue;
    }
    for (const r of picked) checkRequest(e, r, label, failures);
  }
  return { pass: failures.length === 0, failures, notes };
}

function checkStep(step, i, host, got, failures, notes) {
  const label = `step ${i + 1} (${step.do}${step.url ? ` ${step.method ?? "GET"} ${step.url}` : ""})`;
  const want = step.expect_by_host?.[host] ?? step.expect;
  if (!want) {
    if (got.error) failures.push(`${label}: failed with ${got.error}: ${got.message ?? ""}`);
    return;
  }
  if (got.error && want.error === undefined) {
    failures.push(`${label}: want ${show(want)}, failed with ${got.error}: ${got.message ?? ""}`);
    return;
  }
  for (const [k, v] of Object.entries(want)) {
    if (!(k in got)) {
      if ((got.unobservable ?? []).includes(k)) notes.push(`${label}: ${k} is not observable on ${host}`);
      else failures.push(`${label}: want ${k} ${show(v)}, got ${show(got)}`);
      continue;
    }
    if (show(got[k]) !== show(v)) failures.push(`${label}: want ${k} ${show(v)}, got ${show(got[k])}${got.message ? ` (${got.message})` : ""}`);
  }
}

function checkRequest(e, r, label, failures) {
  const at = `${label} ${r.method} ${r.path}`;
  if (e.method !== undefined && r.method !== e.method) failures.push(`${at}: want method ${e.method}`);
  if (e.path !== undefined && r.path !== e.path) failures.push(`${at}: want path ${e.path}`);
  if (e.body !== undefined && r.body !== e.body) failures.push(`${at}: want body ${show(e.body)}, got ${show(r.body)}`);
  for (const [name, v] of Object.entries(e.headers ?? {})) {
    const got = r.headers[name.toLowerCase()];
    if (got === undefined) failures.push(`${at}: header ${name} is missing`);
    else if (v !== true && got !== v) failures.push(`${at}: header ${name}: want ${show(v)}, got ${show(got)}`);
  }
  for (const name of e.absent ?? []) {
    if (r.headers[name.toLowerCase()] !== undefined) failures.push(`${at}: header ${name} must be absent, got ${show(r.headers[name.toLowerCase()])}`);
  }
  for (const [k, v] of Object.entries(e.form ?? {})) {
    const got = r.form?.[k];
    if (got === undefined) failures.push(`${at}: form parameter ${k} is missing (body ${show(r.body)})`);
    else if (v !== true && got !== v) failures.push(`${at}: form parameter ${k}: want ${show(v)}, got ${show(got)}`);
  }
  for (const k of e.form_absent ?? []) {
    if (r.form?.[k] !== undefined) failures.push(`${at}: form parameter ${k} must be absent`);
  }
  if (e.dpop || e.dpop_absent) {
    const claims = r.dpop?.claims;
    if (!claims) {
      failures.push(`${at}: no DPoP proof`);
      return;
    }
    for (const [k, v] of Object.entries(e.dpop ?? {})) {
      if (claims[k] === undefined) failures.push(`${at}: DPoP proof has no ${k} claim`);
      else if (v !== true && claims[k] !== v) failures.push(`${at}: DPoP claim ${k}: want ${show(v)}, got ${show(claims[k])}`);
    }
    for (const k of e.dpop_absent ?? []) {
      if (claims[k] !== undefined) failures.push(`${at}: DPoP proof must have no ${k} claim, got ${show(claims[k])}`);
    }
  }
}

function summary(log, kind) {
  const of = log.filter((r) => r.kind === kind);
  return of.length === 0 ? "none" : of.map((r) => `${r.method} ${r.path}`).join(", ");
}
