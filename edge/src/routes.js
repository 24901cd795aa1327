// The route table: which incoming requests the worker signs, as which
// user, and the one upstream origin each may reach. Kept apart from the
// worker so Node's test runner checks it without a runtime.

/** Thrown for a route table that does not parse; names the field and the fix. */
export class RouteError extends Error {
  constructor(field, message) {
    super(`ROUTES: ${field}: ${message}`);
    this.name = "RouteError";
    this.field = field;
  }
}

const ROUTE_KEYS = new Set(["host", "path", "user", "upstream", "strip_prefix", "scopes", "audience", "resource"]);

/**
 * Parses the ROUTES binding: a JSON array of
 * {host?, path?, user, upstream, strip_prefix?, scopes?, audience?, resource?}.
 * @param {string | object} text
 * @returns {Route[]}
 */
export function parseRoutes(text) {
  let raw = text;
  if (typeof text === "string") {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new RouteError("(document)", "is not JSON; give a JSON array of routes like [{\"path\":\"/api/\",\"user\":\"svc\",\"upstream\":\"https://api.example.com\"}]");
    }
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new RouteError("(document)", "must be a non-empty JSON array of routes");
  }
  const routes = raw.map((r, i) => parseRoute(r, `[${i}]`));
  const seen = new Set();
  for (const [i, r] of routes.entries()) {
    const k = `${r.host ?? "*"} ${r.path}`;
    if (seen.has(k)) throw new RouteError(`[${i}]`, `matches the same host and path as an earlier route; give each (host, path) once`);
    seen.add(k);
  }
  // Most specific first: a route for a host before one for any host, then
  // the longest path.
  return routes.sort((a, b) => (a.host ? 0 : 1) - (b.host ? 0 : 1) || b.path.length - a.path.length);
}

/**
 * @typedef {{host?: string, path: string, user: string, upstream: URL, origin: string,
 *   base: string, stripPrefix: boolean, options: {scopes?: string[], audience?: string, resource?: string[]}}} Route
 */

function parseRoute(r, at) {
  if (r === null || typeof r !== "object" || Array.isArray(r)) throw new RouteError(at, "must be an object with user and upstream");
  for (const k of Object.keys(r)) {
    if (!ROUTE_KEYS.has(k)) throw new RouteError(`${at}.${k}`, `is not a route field; use ${[...ROUTE_KEYS].join(", ")}`);
  }
  if (typeof r.user !== "string" || r.user === "") throw new RouteError(`${at}.user`, "is required: the preset username whose token this route carries");
  if (typeof r.upstream !== "string") throw new RouteError(`${at}.upstream`, "is required: the upstream origin, e.g. https://api.example.com");
  let upstream;
  try {
    upstream = new URL(r.upstream);
  } catch {
    throw new RouteError(`${at}.upstream`, "is not an absolute URL; give e.g. https://api.example.com");
  }
  if (upstream.protocol !== "https:" && upstream.protocol !== "http:") throw new RouteError(`${at}.upstream`, "must be an http or https URL");
  if (upstream.username || upstream.password) throw new RouteError(`${at}.upstream`, "must not hold credentials; tokens come from the preset");
  if (upstream.search || upstream.hash || r.upstream.includes("?") || r.upstream.includes("#")) {
    throw new RouteError(`${at}.upstream`, "must not have a query or fragment; give the origin and at most a base path");
  }
  let host;
  if (r.host !== undefined) {
    if (typeof r.host !== "string" || !/^[a-z0-9.-]+(:[0-9]+)?$/i.test(r.host)) {
      throw new RouteError(`${at}.host`, "must be a host name (with an optional :port) as callers send it in Host");
    }
    host = r.host.toLowerCase();
  }
  let path = "/";
  if (r.path !== undefined) {
    if (typeof r.path !== "string" || !r.path.startsWith("/") || /[?#]/.test(r.path)) {
      throw new RouteError(`${at}.path`, "must be a path prefix starting with / (no query or fragment)");
    }
    path = r.path.length > 1 ? r.path.replace(/\/+$/, "") || "/" : "/";
  }
  if (r.strip_prefix !== undefined && typeof r.strip_prefix !== "boolean") {
    throw new RouteError(`${at}.strip_prefix`, "must be true or false");
  }
  const options = {};
  const list = (v, name) => {
    if (v === undefined) return undefined;
    if (typeof v === "string") v = name === "scopes" ? v.split(" ").filter(Boolean) : [v];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string" && s !== "")) {
      throw new RouteError(`${at}.${name}`, "must be a string or an array of non-empty strings");
    }
    return v;
  };
  const scopes = list(r.scopes, "scopes");
  const resource = list(r.resource, "resource");
  if (scopes) options.scopes = scopes;
  if (resource) options.resource = resource;
  if (r.audience !== undefined) {
    if (typeof r.audience !== "string" || r.audience === "") throw new RouteError(`${at}.audience`, "must be a non-empty string");
    options.audience = r.audience;
  }
  return {
    host,
    path,
    user: r.user,
    upstream,
    origin: upstream.origin,
    base: upstream.pathname.replace(/\/+$/, ""),
    stripPrefix: r.strip_prefix === true,
    options,
  };
}

/** Whether pathname lies under prefix, on a segment boundary. */
function under(pathname, prefix) {
  if (prefix === "/") return true;
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/**
 * The route for an incoming URL, or undefined.
 * @param {Route[]} routes sorted by parseRoutes
 * @param {URL} url
 */
export function matchRoute(routes, url) {
  const host = url.host.toLowerCase();
  return routes.find((r) => (!r.host || r.host === host) && under(url.pathname, r.path));
}

/**
 * The upstream URL for an incoming one, or undefined when it would leave
 * the route's origin (which the string building below cannot do, but the
 * check is what the security of the worker rests on, so it is made).
 * @param {Route} route
 * @param {URL} url
 */
export function upstreamURL(route, url) {
  let rest = url.pathname;
  if (route.stripPrefix && route.path !== "/") rest = rest.slice(route.path.length);
  if (!rest.startsWith("/")) rest = `/${rest}`;
  const target = new URL(`${route.origin}${route.base}${rest}${url.search}`);
  return sameOrigin(route, target) ? target : undefined;
}

/** Whether url is on the route's upstream origin. */
export function sameOrigin(route, url) {
  return url.origin === route.origin;
}
