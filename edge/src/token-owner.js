// One Durable Object per (preset, user, token options) fetches that token
// for every isolate and refreshes it ahead of expiry from alarm(), so the
// token endpoint sees one request per token lifetime however many isolates
// run. Isolates keep its answer until the refresh point (the client's memo)
// and ask again then; an object that cannot be reached makes the isolate
// fetch on its own.

import { DurableObject } from "cloudflare:workers";
import { CctokenError, createClient, tokenAnswer } from "cctoken";
import wasm from "cctoken/cctoken.wasm";

/** How long an isolate waits for its Durable Object before fetching itself. */
const OWNER_TIMEOUT_MS = 10_000;

/** The hex SHA-256 of text: names a preset's objects without the preset in the name. */
async function digest(text) {
  const sum = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(sum)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function withTimeout(p, ms) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("the token owner did not answer in time")), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The isolate's side: a cctoken client source that asks the object of
 * (preset, user, request). A changed preset names other objects, so a
 * rotated secret never serves an old token.
 * @param {DurableObjectNamespace} ns
 * @param {string} preset
 */
export function ownerSource(ns, preset) {
  const tag = digest(preset);
  const stub = async (user, req) => ns.get(ns.idFromName(`${await tag}\n${user}\n${JSON.stringify(req)}`));
  return {
    async token(user, req, { refresh }) {
      const answer = await withTimeout((await stub(user, req)).token(user, req, refresh), OWNER_TIMEOUT_MS);
      if (answer?.error) {
        const e = answer.error;
        throw new CctokenError(e.message, { code: e.code, user, status: e.status, oauthError: e.oauthError, description: e.description });
      }
      return answer?.token === null ? null : answer?.token;
    },
    async invalidate(user, req, accessToken) {
      await withTimeout((await stub(user, req)).refused(accessToken), OWNER_TIMEOUT_MS);
    },
  };
}

export class TokenOwner extends DurableObject {
  /** @type {Promise<any> | undefined} */ #client;

  #clientFor() {
    this.#client ??= createClient({
      preset: this.env.PRESET,
      wasm,
      env: (name) => (typeof this.env[name] === "string" ? this.env[name] : undefined),
      onEvent: (event) => console.log(JSON.stringify({ cctoken: event.type, owner: true, ...event, type: undefined })),
    });
    this.#client.catch(() => { this.#client = undefined; });
    return this.#client;
  }

  /**
   * The current token, as a tokenAnswer or {error}. refresh: the isolate is
   * past its refresh point, so a refresh that is under way is waited for
   * (the isolate asks from ctx.waitUntil, so no request waits on it).
   */
  async token(user, req, refresh) {
    try {
      const client = await this.#clientFor();
      // Stored, not kept in memory: an idle object is evicted between
      // alarms. askedAt lets an alarm see whether anyone still asks.
      await this.ctx.storage.put({ what: { user, req }, askedAt: Date.now() });
      const pending = [];
      let tok = await client.token(user, { ...req, waitUntil: (p) => pending.push(p) });
      if (pending.length) {
        if (refresh) {
          await Promise.all(pending);
          tok = await client.token(user, req);
        } else {
          this.ctx.waitUntil(Promise.all(pending));
        }
      }
      if (tok.tokenType.toLowerCase() === "dpop") {
        // Bound to this object's key, which never leaves its module: no
        // isolate could make proofs for it. Isolates fetch their own.
        await this.ctx.storage.delete("what");
        return { token: null };
      }
      await this.#schedule(tok);
      return { token: tokenAnswer(tok) };
    } catch (err) {
      return { error: { code: err?.code ?? "token_error", message: err?.message ?? "the token request failed", status: err?.status, oauthError: err?.oauthError, description: err?.description } };
    }
  }

  /** A server refused accessToken: drop it if it is still the current one. */
  async refused(accessToken) {
    const what = await this.ctx.storage.get("what");
    if (!what) return;
    const client = await this.#clientFor();
    const current = await client.token(what.user, what.req);
    if (current.accessToken === accessToken) await client.invalidate(what.user);
  }

  /** Refresh-ahead: runs at the token's refresh point. */
  async alarm() {
    const stored = await this.ctx.storage.get(["what", "askedAt", "alarmAt"]);
    const what = stored.get("what");
    if (!what) return;
    const previous = stored.get("alarmAt") ?? 0;
    await this.ctx.storage.put("alarmAt", Date.now());
    // Nobody asked since the alarm before: let the token lapse rather than
    // refresh it for no one. The next isolate that asks starts it again.
    if (previous && (stored.get("askedAt") ?? 0) < previous) return;
    const client = await this.#clientFor();
    const pending = [];
    await client.token(what.user, { ...what.req, waitUntil: (p) => pending.push(p) });
    await Promise.all(pending);
    await this.#schedule(await client.token(what.user, what.req));
  }

  async #schedule(tok) {
    const at = tok.refreshAt.getTime();
    const current = await this.ctx.storage.getAlarm();
    if (current !== at) await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 100));
  }
}
