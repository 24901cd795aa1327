#!/usr/bin/env node
// End-to-end test authorization server for cctoken, built on node-oidc-provider.
//
// Usage:
//   node tests/oidc/server.mjs [CONFIG.json] [--port N] [--no-stdin-exit]
//
// CONFIG.json (or, without a path, the first line of stdin) is a JSON object:
//   {
//     "clients": [
//       {"client_id": "basic-client", "client_secret": "s3cret",
//        "token_endpoint_auth_method": "client_secret_basic", "scope": "read write"},
//       {"client_id": "jwt-client", "token_endpoint_auth_method": "private_key_jwt",
//        "jwks": {"keys": [PUBLIC JWK, ...]}}  // no client_secret; client_secret_jwt needs one
//     ],
//     "access_token_ttl": 300,        // seconds, ClientCredentials tokens
//     "cors_origins": [],             // origins allowed to call client endpoints; "*" = any
//     "jwt_access_tokens": false,     // true: RS256 JWT access tokens for "resource"
//     "resource": "urn:cctoken:test-api", // resource indicator / JWT audience
//     "scopes": [],                   // extra declared scopes besides the clients' ones
//     "strict_auth_methods": false,   // true: a client must use its registered method
//     "dpop_require_nonce": false,    // true: DPoP proofs must carry the server's nonce
//     "tls": {                        // serve https instead of http, with mutual TLS (RFC 8705):
//       "cert": "PEM", "key": "PEM",  //   the server's certificate chain and key
//       "ca": "PEM",                  //   CAs whose client certificates count as verified (tls_client_auth)
//       "mtls_alias": false           //   true: the main listener asks for no client certificate; a second
//     }                               //   one does and is published as mtls_endpoint_aliases.token_endpoint
//   }
//
// With tls, clients may also use token_endpoint_auth_method tls_client_auth
// (no client_secret; one of tls_client_auth_san_dns or
// tls_client_auth_subject_dn) or self_signed_tls_client_auth (no
// client_secret; "certificate": the client's PEM certificate, registered
// as its JWKS with x5c).
//
// DPoP (RFC 9449) is on: a token request with a DPoP proof gets a DPoP-bound
// token (with jwt_access_tokens, a JWT with cnf.jkt). With dpop_require_nonce
// a proof without the server's nonce is answered use_dpop_nonce with a
// DPoP-Nonce header.
//
// On ready exactly one JSON line is written to stdout; everything else goes to
// stderr. The process exits on SIGTERM/SIGINT and when stdin reaches EOF (unless
// --no-stdin-exit is given), so it never outlives the test that spawned it.
//
// Extra endpoints next to the provider's own:
//   GET  /__stats  {"token_requests": {"<client_id>": n}, "total": n,
//                   "auth_methods": {"<client_id>": {"client_secret_basic": n, ...}}}
//                  (auth methods: client_secret_basic, client_secret_post,
//                  client_secret_jwt, private_key_jwt or none)
//   POST /__reset  zero the counters

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

import { readFirstStdinLine, stdinEnded } from '../scripts/stdin.mjs';

// oidc-provider prints its notices with console.info (stdout) and some
// warnings at import time, so route the console to stderr before loading it.
// Its development notices are dropped unless OIDC_TEST_VERBOSE is set.
const verbose = Boolean(process.env.OIDC_TEST_VERBOSE);
const toStderr = (...args) => {
  const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  if (!verbose && line.startsWith('oidc-provider ')) return;
  process.stderr.write(`${line}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.debug = toStderr;

// With OIDC_TEST_TRACE set, each step of the start is noted on stderr, so
// that a start that never ends says where it stopped.
const trace = process.env.OIDC_TEST_TRACE
  ? (step) => process.stderr.write(`oidc test server: ${step} (${Math.round(performance.now())} ms)\n`)
  : () => {};

function fail(message) {
  process.stderr.write(`oidc test server: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { configPath: undefined, port: 0, stdinExit: true };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--port') {
      out.port = Number(argv[i += 1]);
    } else if (arg.startsWith('--port=')) {
      out.port = Number(arg.slice('--port='.length));
    } else if (arg === '--no-stdin-exit') {
      out.stdinExit = false;
    } else if (arg.startsWith('--')) {
      fail(`unknown flag ${arg}`);
    } else if (out.configPath === undefined) {
      out.configPath = arg;
    } else {
      fail(`unexpected argument ${arg}`);
    }
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) {
    fail('--port must be an integer between 0 and 65535');
  }
  return out;
}

const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']);
const TLS_METHODS = new Set(['tls_client_auth', 'self_signed_tls_client_auth']);
const NOT_VSCHAR = /[^\x20-\x7E]/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 scope-token

function normalizeConfig(raw) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail('config must be a JSON object');
  }
  const clients = raw.clients ?? [];
  if (!Array.isArray(clients) || clients.length === 0) {
    fail('config.clients must be a non-empty array');
  }
  const declared = new Set();
  const addScopes = (value, where) => {
    const list = Array.isArray(value) ? value : String(value ?? '').split(' ');
    const out = [];
    for (const s of list) {
      if (s === '') continue;
      if (!SCOPE_TOKEN.test(s)) fail(`${where}: invalid scope token ${JSON.stringify(s)}`);
      declared.add(s);
      out.push(s);
    }
    return out;
  };

  const tls = raw.tls ?? null;
  if (tls !== null) {
    if (typeof tls !== 'object' || typeof tls.cert !== 'string' || typeof tls.key !== 'string') {
      fail('tls must be an object with PEM strings cert and key');
    }
    if (tls.ca !== undefined && typeof tls.ca !== 'string') fail('tls.ca must be a PEM string');
  }

  const seen = new Set();
  const normClients = clients.map((c, i) => {
    const where = `clients[${i}]`;
    if (!c || typeof c.client_id !== 'string' || c.client_id === '') fail(`${where}.client_id is required`);
    if (seen.has(c.client_id)) fail(`${where}: duplicate client_id ${c.client_id}`);
    seen.add(c.client_id);
    const method = c.token_endpoint_auth_method ?? 'client_secret_basic';
    if (TLS_METHODS.has(method)) {
      if (!tls) fail(`${where}: ${method} needs the tls option`);
      if (NOT_VSCHAR.test(c.client_id)) fail(`${where}.client_id must be printable ASCII`);
      const scope = addScopes(c.scope ?? c.scopes, where).join(' ');
      const out = { client_id: c.client_id, token_endpoint_auth_method: method, ...(scope ? { scope } : {}) };
      if (method === 'tls_client_auth') {
        for (const k of ['tls_client_auth_san_dns', 'tls_client_auth_subject_dn']) {
          if (typeof c[k] === 'string' && c[k] !== '') out[k] = c[k];
        }
        if (!out.tls_client_auth_san_dns && !out.tls_client_auth_subject_dn) {
          fail(`${where}: tls_client_auth needs tls_client_auth_san_dns or tls_client_auth_subject_dn`);
        }
      } else {
        if (typeof c.certificate !== 'string') fail(`${where}.certificate (PEM) is required for self_signed_tls_client_auth`);
        const x509 = new crypto.X509Certificate(c.certificate);
        out.jwks = { keys: [{ ...x509.publicKey.export({ format: 'jwk' }), x5c: [x509.raw.toString('base64')] }] };
      }
      return out;
    }
    if (!AUTH_METHODS.has(method)) fail(`${where}: unsupported token_endpoint_auth_method ${method}`);
    const keyJWT = method === 'private_key_jwt';
    if (keyJWT) {
      // The client's public keys, to verify its assertions; no secret.
      if (!Array.isArray(c.jwks?.keys) || c.jwks.keys.length === 0) fail(`${where}.jwks.keys is required for private_key_jwt`);
      if (c.client_secret !== undefined) fail(`${where}.client_secret is not used with private_key_jwt`);
    } else if (typeof c.client_secret !== 'string' || c.client_secret === '') {
      fail(`${where}.client_secret is required`);
    }
    // oidc-provider only accepts printable ASCII (RFC 6749 VSCHAR) in client
    // credentials and would otherwise fail every request for the client.
    if (NOT_VSCHAR.test(c.client_id)) fail(`${where}.client_id must be printable ASCII`);
    if (!keyJWT && NOT_VSCHAR.test(c.client_secret)) fail(`${where}.client_secret must be printable ASCII`);
    const scope = addScopes(c.scope ?? c.scopes, where).join(' ');
    return {
      client_id: c.client_id,
      ...(keyJWT ? { jwks: { keys: c.jwks.keys } } : { client_secret: c.client_secret }),
      token_endpoint_auth_method: method,
      // No scope metadata: the client may request any declared scope.
      ...(scope ? { scope } : {}),
    };
  });
  addScopes(raw.scopes, 'scopes');

  const ttl = raw.access_token_ttl ?? 300;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) fail('access_token_ttl must be a positive integer (seconds)');

  const corsOrigins = raw.cors_origins ?? [];
  if (!Array.isArray(corsOrigins)) fail('cors_origins must be an array');

  const resource = raw.resource ?? 'urn:cctoken:test-api';
  if (!URL.canParse(resource) || resource.includes('#')) fail('resource must be an absolute URI without fragment');

  return {
    clients: normClients,
    scopes: declared,
    ttl,
    corsOrigins: new Set(corsOrigins.map(String)),
    jwt: Boolean(raw.jwt_access_tokens),
    resource,
    strict: Boolean(raw.strict_auth_methods),
    dpopRequireNonce: Boolean(raw.dpop_require_nonce),
    tls,
  };
}

// Best-effort client identification for the statistics: works for requests
// that fail before oidc-provider resolved the client as well.
function basicClientId(header) {
  if (typeof header !== 'string') return undefined;
  const [scheme, value] = header.split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i === -1) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, '%20'));
  } catch {
    return decoded.slice(0, i);
  }
}

function usedAuthMethod(ctx) {
  if (ctx.get('Authorization')) return 'client_secret_basic';
  const body = ctx.oidc?.body;
  if (body && typeof body === 'object' && body.client_secret !== undefined) return 'client_secret_post';
  if (body && typeof body === 'object' && typeof body.client_assertion === 'string') {
    // The assertion's alg tells the two JWT methods apart: HMAC is
    // client_secret_jwt, anything else private_key_jwt.
    try {
      const header = JSON.parse(Buffer.from(body.client_assertion.split('.')[0], 'base64url').toString('utf8'));
      return String(header.alg).startsWith('HS') ? 'client_secret_jwt' : 'private_key_jwt';
    } catch {
      return 'none';
    }
  }
  // A client certificate and nothing else: the client's mutual-TLS method.
  const registered = ctx.oidc?.client?.tokenEndpointAuthMethod;
  if (peerCertificate(ctx) && TLS_METHODS.has(registered)) return registered;
  return 'none';
}

// The client certificate of the request's TLS connection, if one was sent.
function peerCertificate(ctx) {
  const socket = ctx.req?.socket;
  if (typeof socket?.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  if (!peer?.raw) return undefined;
  return new crypto.X509Certificate(peer.raw);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));

  let rawConfig;
  try {
    const text = args.configPath !== undefined
      ? fs.readFileSync(args.configPath, 'utf8')
      : await readFirstStdinLine();
    rawConfig = JSON.parse(text);
    trace('config read');
  } catch (err) {
    fail(`cannot read config: ${err.message}`);
  }
  const cfg = normalizeConfig(rawConfig);

  const { default: Provider, errors } = await import('oidc-provider');
  trace('oidc-provider loaded');

  const stats = { perClient: new Map(), perMethod: new Map(), total: 0 };
  const resetStats = () => {
    stats.perClient.clear();
    stats.perMethod.clear();
    stats.total = 0;
  };
  const statsJSON = () => {
    const tokenRequests = {};
    for (const [id, n] of stats.perClient) tokenRequests[id] = n;
    const authMethods = {};
    for (const [id, m] of stats.perMethod) authMethods[id] = Object.fromEntries(m);
    return { token_requests: tokenRequests, total: stats.total, auth_methods: authMethods };
  };

  let handle; // the provider's request handler, set once the port (and so the issuer) is known
  const onRequest = (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/__stats' || path === '/__reset') {
      const want = path === '/__stats' ? 'GET' : 'POST';
      if (req.method !== want) {
        res.writeHead(405, { Allow: want, 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'method_not_allowed' }));
        return;
      }
      if (path === '/__reset') resetStats();
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'Access-Control-Allow-Origin': '*',
      });
      res.end(JSON.stringify(statsJSON()));
      return;
    }
    if (!handle) {
      // Only reachable with a fixed --port, before the provider exists.
      res.writeHead(503, { 'Retry-After': '1' });
      res.end();
      return;
    }
    handle(req, res);
  };
  // With tls the server asks for a client certificate but lets the
  // handshake finish without one: oidc-provider decides (invalid_client).
  const tlsServer = (requestCert) => https.createServer({
    cert: cfg.tls.cert, key: cfg.tls.key, ...(cfg.tls.ca ? { ca: cfg.tls.ca } : {}),
    requestCert, rejectUnauthorized: false,
  }, onRequest);
  const listen = (srv, port) => new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv.address().port));
  });
  const alias = Boolean(cfg.tls?.mtls_alias);
  const server = cfg.tls ? tlsServer(!alias) : http.createServer(onRequest);
  const servers = [server];
  const port = await listen(server, args.port);
  trace('listening');
  const issuer = `${cfg.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  let aliasBase;
  if (alias) {
    const mtlsServer = tlsServer(true);
    servers.push(mtlsServer);
    aliasBase = `https://127.0.0.1:${await listen(mtlsServer, 0)}`;
  }

  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  trace('signing key made');
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: crypto.randomBytes(8).toString('hex'),
    use: 'sig',
    alg: 'RS256',
  };

  // oidc-provider ignores scopes it does not know for client_credentials;
  // a real authorization server answers invalid_scope, so check explicitly.
  // Scopes that are declared but not registered for the client are already
  // rejected by oidc-provider itself.
  const assertKnownScopes = (ctx) => {
    if (ctx.oidc?.route !== 'token') return;
    const requested = ctx.oidc.params?.scope;
    if (typeof requested !== 'string') return;
    for (const s of requested.split(' ')) {
      if (s !== '' && !cfg.scopes.has(s)) {
        throw new errors.InvalidScope('requested scope is not allowed', s);
      }
    }
  };

  const resourceServer = () => ({
    scope: [...cfg.scopes].join(' '),
    audience: cfg.resource,
    accessTokenTTL: cfg.ttl,
    accessTokenFormat: cfg.jwt ? 'jwt' : 'opaque',
    ...(cfg.jwt ? { jwt: { sign: { alg: 'RS256' } } } : {}),
  });

  const provider = new Provider(issuer, {
    clients: cfg.clients.map((c) => ({
      ...c,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
    scopes: [...cfg.scopes],
    claims: {},
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', ...(cfg.tls ? TLS_METHODS : [])],
    ...(aliasBase ? { discovery: { mtls_endpoint_aliases: { token_endpoint: `${aliasBase}/token` } } } : {}),
    features: {
      mTLS: {
        enabled: Boolean(cfg.tls),
        certificateBoundAccessTokens: true, // only for clients that ask (tls_client_certificate_bound_access_tokens)
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: peerCertificate,
        certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
        certificateSubjectMatches: (ctx, property, expected) => {
          const cert = peerCertificate(ctx);
          if (!cert) return false;
          switch (property) {
            case 'tls_client_auth_san_dns':
              return (cert.subjectAltName ?? '').split(', ').includes(`DNS:${expected}`);
            case 'tls_client_auth_subject_dn':
              return cert.subject.split('\n').join(',') === expected;
            default:
              return false;
          }
        },
      },
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: {
        enabled: true,
        nonceSecret: crypto.randomBytes(32),
        requireNonce: () => cfg.dpopRequireNonce,
      },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx) => {
          assertKnownScopes(ctx);
          return cfg.jwt ? cfg.resource : undefined;
        },
        getResourceServerInfo: async (ctx, resource) => {
          assertKnownScopes(ctx);
          if (resource !== cfg.resource) throw new errors.InvalidTarget();
          return resourceServer();
        },
      },
    },
    ttl: {
      ClientCredentials: () => cfg.ttl,
    },
    clientBasedCORS: (_ctx, origin) => cfg.corsOrigins.has('*') || cfg.corsOrigins.has(origin),
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  const tokenPath = new URL(provider.urlFor('token')).pathname;
  const registered = new Map(cfg.clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));

  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    try {
      await next();
    } finally {
      const clientId = ctx.oidc?.client?.clientId
        ?? ctx.oidc?.params?.client_id
        ?? ctx.oidc?.body?.client_id
        ?? basicClientId(ctx.get('Authorization'))
        ?? '';
      const method = usedAuthMethod(ctx);

      if (cfg.strict && ctx.status === 200 && registered.get(clientId) !== method) {
        // The grant already issued a token; drop it and fail the request.
        await ctx.oidc?.entities?.ClientCredentials?.destroy();
        ctx.status = 401;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          error: 'invalid_client',
          error_description: 'the provided authentication mechanism does not match the registered client authentication method',
        };
      }

      stats.total += 1;
      stats.perClient.set(clientId, (stats.perClient.get(clientId) ?? 0) + 1);
      if (!stats.perMethod.has(clientId)) stats.perMethod.set(clientId, new Map());
      const m = stats.perMethod.get(clientId);
      m.set(method, (m.get(method) ?? 0) + 1);
    }
  });

  handle = provider.callback();

  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    let open = servers.length;
    for (const srv of servers) {
      srv.close(() => { open -= 1; if (open === 0) process.exit(code); });
      srv.closeAllConnections();
    }
    setTimeout(() => process.exit(code), 2000).unref();
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  if (args.stdinExit) {
    if (stdinEnded()) stop(0);
    process.stdin.on('end', () => stop(0));
    process.stdin.on('close', () => stop(0));
    process.stdin.on('error', () => stop(0));
    process.stdin.resume();
  }

  trace('ready');
  process.stdout.write(`${JSON.stringify({
    issuer,
    token_endpoint: provider.urlFor('token'),
    introspection_endpoint: provider.urlFor('introspection'),
    revocation_endpoint: provider.urlFor('revocation'),
    jwks_uri: provider.urlFor('jwks'),
    stats: `${issuer}/__stats`,
    reset: `${issuer}/__reset`,
    resource: cfg.resource,
    ...(aliasBase ? { mtls_token_endpoint: `${aliasBase}/token` } : {}),
  })}\n`);
}

main().catch((err) => {
  process.stderr.write(`oidc test server: ${err?.stack ?? err}\n`);
  process.exit(1);
});
