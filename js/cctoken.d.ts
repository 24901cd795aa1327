// Type declarations for cctoken.js.

/** The module ABI this host speaks (wasm/ABI.md): 1. */
export declare const ABI_VERSION: 1;

/** This package's version, the project's: `cctoken --version` prints the same. */
export declare const VERSION: string;

/**
 * Where the cctoken.wasm reactor comes from. A Response served as
 * application/wasm is compiled while it streams. A string or URL is fetched
 * (file: URLs are read from disk in Node) and compiled once per process.
 */
export type WasmSource =
  | WebAssembly.Module
  | ArrayBuffer
  | ArrayBufferView
  | Response
  | PromiseLike<Response | WebAssembly.Module>
  | string
  | URL;

/** The preset document: YAML or JSON text, its UTF-8 bytes, or an object (sent as JSON). */
export type PresetSource = string | ArrayBuffer | ArrayBufferView | object;

/** How ${env:NAME} references are resolved; only the names the preset uses are asked for. */
export type EnvSource =
  | Record<string, string | undefined>
  | ((name: string) => string | undefined | null | PromiseLike<string | undefined | null>);

export interface ClientOptions {
  preset: PresetSource;
  /**
   * Default: the cctoken.wasm this package ships, read from the package's
   * folder in Node and fetched as the asset a bundler made of it in
   * browsers. Workers (workerd, Cloudflare) pass the module they import from
   * "cctoken/cctoken.wasm". When given, it wins.
   */
  wasm?: WasmSource;
  /** Default: process.env where there is one, otherwise nothing is set. */
  env?: EnvSource;
  /** Used for token requests and client.fetch. Default: globalThis.fetch. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** Bounds one token request, from connecting to the last byte. Default 30000. */
  timeoutMs?: number;
  /** Told about token fetches and failures; never given a token or a secret. */
  onEvent?: (event: CctokenEvent) => void;
  /**
   * Asked for a token before the module asks the token endpoint, e.g. a
   * Durable Object that fetches for every isolate. token() returns a
   * tokenAnswer(), or null for a token it does not share (the module then
   * fetches it without an event; a DPoP-bound token must be, since its key
   * stays in the module that asked for it); throwing a CctokenError fails the token,
   * any other failure makes the module fetch on its own (event
   * source_unavailable). invalidate() is told about a token a server refused.
   */
  source?: TokenSource;
  /**
   * Supplies a credential file the preset names (client_assertion_file, or a
   * certificate given as a path), read for every token request since the
   * platform replaces it. In Node: `(path) => fs.promises.readFile(path, "utf8")`;
   * in a browser or a worker, return the workload's JWT from wherever the
   * application has it. Without it such a user fails with `credential_file`.
   */
  readFile?: (path: string, info: { field: string }) => string | Uint8Array | Promise<string | Uint8Array>;
}

export interface TokenSource {
  token(user: string, request: { scopes?: string[]; audience?: string; resource?: string[] }, info: { refresh: boolean }): Promise<TokenAnswer | undefined>;
  invalidate?(user: string, request: { scopes?: string[]; audience?: string; resource?: string[] }, accessToken: string): Promise<void>;
}

/** A token in the module's answer form; holds the access token. */
export interface TokenAnswer {
  user: string;
  access_token: string;
  token_type: string;
  expires_at: number;
  expiry_source: string;
  scopes: string[];
  headers: Record<string, string>;
  refresh_at: number;
  use_until: number;
}

/** A Token as a TokenAnswer, to hand it to another client's source over a trusted binding. */
export declare function tokenAnswer(token: Token): TokenAnswer;

/** Asks for a token other than the user's default one; each combination is cached on its own. */
export interface TokenOptions {
  /** Instead of the user's scopes; a string is split on spaces. */
  scopes?: string[] | string;
  audience?: string;
  /** RFC 8707 resource indicators. */
  resource?: string[] | string;
  /**
   * Given the promise of a background refresh-ahead when one starts, so a
   * runtime that ends work with the response can keep it running: pass a
   * worker's ctx.waitUntil. Not part of which token is asked for.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** One service account of the loaded preset, as the module describes it; no secret. */
export interface User {
  username: string;
  /** Index of its preset in the document. */
  preset: number;
  /** The token endpoint; for a preset that gives an issuer, the issuer until its metadata is fetched. */
  url: string;
  /** The preset's issuer, when it uses discovery. */
  issuer?: string;
  client_id: string;
  auth_method: "client_secret_basic" | "client_secret_post" | "client_secret_jwt" | "private_key_jwt" | "tls_client_auth" | "self_signed_tls_client_auth" | string;
  scopes?: string[];
  audience?: string;
  resource?: string[];
}

/** One problem in a preset document. */
export interface Issue {
  field: string;
  line?: number;
  column?: number;
  message: string;
}

/**
 * An access token and what a request made with it carries. accessToken,
 * headers and expiresAt are getters: toString, toJSON and Node's inspect
 * redact the token, so printing a Token leaks nothing.
 */
export interface Token {
  readonly user: string;
  readonly accessToken: string;
  /** "Bearer". */
  readonly tokenType: string;
  readonly expiresAt: Date;
  /** From when it is refreshed in the background. */
  readonly refreshAt: Date;
  /** Until when it is handed out; after that callers wait for a new one. */
  readonly useUntil: Date;
  /** Where expiresAt came from: "expires_in", "jwt_exp" or "default_ttl". */
  readonly expirySource: string;
  readonly scopes: readonly string[];
  /** A copy of the headers of an authenticated request: Authorization, the user's headers, Cookie. */
  readonly headers: Record<string, string>;
  toString(): string;
  toJSON(): object;
}

export interface TokenFetchedEvent {
  type: "token_fetched";
  user: string;
  /** true for a background refresh-ahead. */
  refresh: boolean;
  expiresAt: Date;
  expirySource: string;
  scopes: string[];
  /** true when the token came from the client's source, not the token endpoint. */
  source?: boolean;
}

/** A refresh failed while the old token is still valid: it is served until retryAt. */
export interface RefreshFailedEvent {
  type: "refresh_failed";
  user: string;
  code: string;
  status?: number;
  oauthError?: string;
  message: string;
  retryAt: Date;
  expiresAt: Date;
}

/** A token operation failed (callers waiting for it get the same error). */
export interface TokenErrorEvent {
  type: "token_error";
  user: string;
  refresh: boolean;
  code: string;
  status?: number;
  oauthError?: string;
  message: string;
}

/** The client's source failed or had no token; the module asks the token endpoint itself. */
export interface SourceUnavailableEvent {
  type: "source_unavailable";
  user: string;
  message: string;
}

export type CctokenEvent = TokenFetchedEvent | RefreshFailedEvent | TokenErrorEvent | SourceUnavailableEvent;

/**
 * Error codes: the module's (invalid_preset, not_loaded, unknown_user,
 * unknown_task, bad_request, http_status, invalid_response,
 * unsupported_token_type, network, timeout, too_large, canceled,
 * unsupported: a user with a client certificate, mTLS being Go-host only), OAuth
 * error codes from the token endpoint (invalid_client, invalid_scope, …),
 * and this host's: closed, module_crashed, bad_module, unsupported_runtime.
 */
export type ErrorCode =
  | "invalid_preset" | "not_loaded" | "unknown_user" | "unknown_task" | "bad_request"
  | "http_status" | "invalid_response" | "unsupported_token_type"
  | "network" | "timeout" | "too_large" | "canceled" | "unsupported"
  | "closed" | "module_crashed" | "bad_module" | "unsupported_runtime"
  | (string & {});

/** The structured error of the module or of this host; never holds a secret or a token. */
export declare class CctokenError extends Error {
  readonly name: "CctokenError";
  code: ErrorCode;
  /** The preset field at fault, e.g. "preset[0].users[0].client_secret". */
  field?: string;
  line?: number;
  column?: number;
  /** Every problem of a preset that does not load (code invalid_preset). */
  issues?: Issue[];
  user?: string;
  /** The token endpoint's HTTP status. */
  status?: number;
  /** The OAuth error code when the token endpoint sent one (same as code). */
  oauthError?: string;
  /** The endpoint's error_description. */
  description?: string;
  /** The endpoint's error_uri. */
  uri?: string;
  /** Until when the endpoint asked not to be called (Retry-After). */
  retryAt?: Date;
  /** Only on module_crashed: the Go runtime's last output. Not enumerable. */
  readonly moduleOutput?: string;
  toJSON(): object;
}

/** Hands out tokens for the users of one preset document. */
export interface Client {
  /** The preset's service accounts in document order. */
  users(): User[];
  /**
   * A valid token: cached ones at once (refreshed in the background past
   * their refresh point); concurrent callers share one request.
   */
  token(user: string, options?: TokenOptions): Promise<Token>;
  /** The headers an authenticated request of user carries. */
  headers(user: string, options?: TokenOptions): Promise<Record<string, string>>;
  /**
   * fetch() as user: adds the token's headers (replacing Authorization;
   * Cookie only where the platform allows scripts to set it, so not in
   * browsers); for a DPoP token (a user with dpop: true) a new proof for
   * every request's method and URL. What follows an answer is the module's
   * decision, the same in every host (wasm/ABI.md, "After an API's
   * answer"): a 401 use_dpop_nonce with a DPoP-Nonce is retried once with
   * the nonce, a 401 error="invalid_token" once with a new token, each at
   * most once per call (so at most 3 requests), and only when the body can
   * be sent again (no body, string, ArrayBuffer, typed array, Blob,
   * URLSearchParams, FormData; not a stream or a Request with a body).
   * Requests go out with redirect: "manual" (init.redirect is ignored): a
   * redirect to the same origin is followed (at most 5) and signed again;
   * one to another origin is the answer, its Location never contacted. In
   * browsers every redirect comes back as an opaque redirect (type
   * "opaqueredirect", status 0), which the browser does not let scripts
   * read or follow.
   */
  fetch(user: string, input: RequestInfo | URL, init?: RequestInit, options?: TokenOptions): Promise<Response>;
  /**
   * The headers of one request as user: for a DPoP token (RFC 9449)
   * Authorization: DPoP and a new DPoP proof bound to method and url (sign
   * every request anew); for a Bearer token the token's headers. nonce puts
   * a resource server's DPoP-Nonce into the proof.
   */
  sign(user: string, method: string, url: string | URL, options?: TokenOptions & { nonce?: string }): Promise<Record<string, string>>;
  /** Drops every cached token of user so the next call fetches a new one. */
  invalidate(user: string): Promise<void>;
  /** Releases the module; operations in flight fail with code "closed". */
  close(): void;
}

/** Loads a preset and returns a client; a preset that does not load throws code invalid_preset. */
export declare function createClient(options: ClientOptions): Promise<Client>;

/** Every issue in a preset document (empty when clean); ${env:NAME} references are taken as set. */
export declare function lint(text: PresetSource, options?: { wasm?: WasmSource }): Promise<Issue[]>;
