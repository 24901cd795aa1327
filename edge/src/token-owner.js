// One Durable Object per (preset, user, token options) fetches that token
// for every isolate and refreshes it ahead of expiry from alarm(), so the
// token endpoint sees one request per token lifetime however many isolates
// run. Isolates keep its answer until the refresh point (the client's memo)
// and ask again then; an object that cannot be reached makes the isolate
// fetch on its own.
//
// Anything bound to the namespace can call any object, so each object
// checks that its own id is the one its name gives for what it is asked,
// and refuses everything else: an object serves one (preset, user, token
// options) only, whoever asks.

import { DurableObject } from "cloudflare:workers";
import { CctokenError, createClient, tokenAnswer } from "cctoken";
import wasm from "cctoken/cctoken.wasm";

/** How long an isolate waits for its Durable Object before fetching itself. */
const OWNER_TIMEOUT_MS = 10_000;

/** What an object answers when it is asked for what it was not named for. */
const REFUSED = "TokenOwner refused: this object serves only the preset, user and token options its name was derived from; ask the object named for them (ownerName in edge/src/token-owner.js)";

/** The hex SHA-256 of text: names a preset's objects without the preset in the name. */
async function digest(text) {
  const sum = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(sum)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The part of every object name that stands for the preset: a digest of
 * its text and of the values of the ${env:NAME} bindings it refers to. A
 * preset that keeps its secrets in bindings has no secret in its text, so
 * the values go in too: only a service that holds the same preset and the
 * same secrets can name an object that serves, and a rotated secret names
 * new objects.
 * @param {string} preset
 * @param {Record<string, unknown>} env
 */
function presetTag(preset, env) {
  const names = [...new Set(Array.from(String(preset).matchAll(/\$\{env:([^}]*)\}/g), (m) => m[1]))].sort();
  return digest(JSON.stringify([String(preset), names.map((n) => [n, typeof env[n] === "string" ? env[n] : null])]));
}

const nameFrom = (tag, user, req) => `${tag}\n${user}\n${JSON.stringify(req)}`;

/**
 * The name of the object that serves user's token with the token options
 * req (as the cctoken client passes them to its source) under preset and
 * the bindings env.
 */
export async function ownerName(preset, env, user, req) {
  return nameFrom(await presetTag(preset, env), user, req);
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
 * @param {Record<string, unknown>} env the bindings the preset's ${env:NAME} read
 */
export function ownerSource(ns, preset, env) {
  const tag = presetTag(preset, env);
  const stub = async (user, req) => ns.get(ns.idFromName(nameFrom(await tag, user, req)));
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
      await withTimeout((await stub(user, req)).refused(user, req, accessToken), OWNER_TIMEOUT_MS);
    },
  };
}

export class TokenOwner extends DurableObject {
  /** @type {Promise<any> | undefined} */ #client;
  /** @type {Promise<string> | undefined} */ #tag;

  /**
   * Throws unless this object's id is the one named for (user, req) under
   * this worker's own preset and bindings. Ids come from names one way
   * only, so no caller can make an object serve anything else: not another
   * user, other options, another preset, nor an id made up with
   * newUniqueId. A refusal is an exception, never an answer, so an
   * isolate of a service with another preset fetches on its own.
   */
  async #check(user, req) {
    if (typeof user !== "string" || typeof req !== "object" || req === null || Array.isArray(req)) throw new Error(REFUSED);
    const ns = this.env.TOKENS;
    if (typeof ns?.idFromName !== "function") {
      throw new Error("TokenOwner: bind this class's own namespace as TOKENS in the worker that defines it; each object checks its name with it and serves nothing without");
    }
    this.#tag ??= presetTag(this.env.PRESET, this.env);
    if (!ns.idFromName(nameFrom(await this.#tag, user, req)).equals(this.ctx.id)) throw new Error(REFUSED);
  }

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
    await this.#check(user, req);
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
  async refused(user, req, accessToken) {
    await this.#check(user, req);
    if (!(await this.ctx.storage.get("what"))) return;
    const client = await this.#clientFor();
    const current = await client.token(user, req);
    if (current.accessToken === accessToken) await client.invalidate(user);
  }

  /** Refresh-ahead: runs at the token's refresh point. */
  async alarm() {
    const stored = await this.ctx.storage.get(["what", "askedAt", "alarmAt"]);
    const what = stored.get("what");
    if (!what) return;
    try {
      await this.#check(what.user, what.req);
    } catch {
      // Stored by an older version that did not check: serve nobody.
      await this.ctx.storage.delete("what");
      return;
    }
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
