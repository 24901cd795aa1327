// A small program as an application would write it against the published
// types. The tests compile it with `tsc --strict` (typescript from
// js/package-lock.json), here against js/ and in a project that installed
// the packed tarball. The @ts-expect-error lines prove the types refuse
// what the library refuses: if one of them compiles, tsc fails.

import { CctokenError, VERSION, createClient, lint, tokenAnswer } from "cctoken";
import type { CctokenEvent, Client, ClientOptions, Issue, Token, TokenAnswer } from "cctoken";
import wasm from "cctoken/cctoken.wasm";

/** Every event variant is handled; adding one breaks this switch. */
function describe(event: CctokenEvent): string {
  switch (event.type) {
    case "token_fetched":
      return `${event.user}: token until ${event.expiresAt.toISOString()} (${event.scopes.join(" ")})`;
    case "refresh_failed":
      return `${event.user}: refresh failed (${event.code}), retry at ${event.retryAt.toISOString()}`;
    case "token_error":
      return `${event.user}: ${event.code}${event.status === undefined ? "" : ` HTTP ${event.status}`}`;
    case "source_unavailable":
      return `${event.user}: ${event.message}`;
  }
}

export async function main(preset: string, api: string): Promise<number> {
  const seen: string[] = [];
  // No wasm: the package's own module.
  const client: Client = await createClient({ preset, onEvent: (e) => { seen.push(describe(e)); } });
  const token: Token = await client.token("svc", { scopes: ["read"] });
  const expires: Date = token.expiresAt;
  const authorization: string | undefined = token.headers["Authorization"];
  const answer: TokenAnswer = tokenAnswer(token);
  const res: Response = await client.fetch("svc", `${api}/orders`, { method: "POST", body: "{}" });
  const headers: Record<string, string> = await client.headers("svc");
  try {
    await client.token("nobody");
  } catch (err) {
    if (err instanceof CctokenError) {
      const code: string = err.code;
      const field: string | undefined = err.field;
      seen.push(`${code} ${field ?? ""}`);
    }
  }
  client.close();

  // With the module a worker imports from the subpath.
  const options: ClientOptions = { preset: { preset: [] }, wasm, timeoutMs: 5_000, fetch: globalThis.fetch };
  const other = await createClient(options);
  other.close();
  const issues: Issue[] = await lint(preset);

  // @ts-expect-error preset is required
  await createClient({ wasm });
  // @ts-expect-error a token's fields are read-only
  token.accessToken = "x";
  // @ts-expect-error events have no token field
  seen.push(describe({ type: "token_error", user: "u", refresh: false, code: "x", message: "m" }).accessToken);

  return [VERSION, expires, authorization, answer.access_token, res.status, headers, issues, seen].length;
}
