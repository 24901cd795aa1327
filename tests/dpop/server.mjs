#!/usr/bin/env node
// A resource server that checks DPoP-bound access tokens (RFC 9449), for
// cctoken's end-to-end tests. Every host (the Go host, js/, the edge worker)
// is tested against this one server. Node's own crypto only: no npm package.
//
// Usage:
//   node tests/dpop/server.mjs [CONFIG.json] [--no-stdin-exit]
//
// CONFIG.json (or, without a path, the first line of stdin) is a JSON object:
//   {
//     "issuer": "http://127.0.0.1:PORT",       // required: the access tokens' iss
//     "jwks_uri": "http://127.0.0.1:PORT/jwks", // required: keys of the access tokens (RS256 JWTs)
//     "audience": "urn:cctoken:test-api",       // optional: required aud of the access tokens
//     "require_nonce": false,                   // true: proofs must carry the server's nonce
//     "iat_window": 60                          // seconds a proof's iat may be off
//   }
//
// On ready exactly one JSON line goes to stdout:
//   {"url": "http://127.0.0.1:PORT", "stats": ".../__stats", "nonce": ".../__nonce"}
// The server listens on 127.0.0.1 only and exits on SIGTERM/SIGINT and when
// stdin reaches EOF (unless --no-stdin-exit), so it never outlives its test.
//
// Any other path is "the API": a request must carry
//   Authorization: DPoP <access token>    and    DPoP: <proof>
// and passes when all of these hold:
//   - the proof is a compact JWS with typ dpop+jwt, alg ES256, RS256, PS256
//     or EdDSA, and a public jwk (no private members) it verifies under;
//   - htm is the request's method, htu its URL without query and fragment
//     (http://127.0.0.1:PORT/path), iat within iat_window of now;
//   - jti not seen before (a replayed proof is refused);
//   - ath is the base64url SHA-256 of the access token;
//   - with require_nonce, nonce is the server's current nonce;
//   - the access token is an RS256 JWT that verifies under jwks_uri, with
//     the configured iss (and aud), not expired, and cnf.jkt equal to the
//     RFC 7638 thumbprint of the proof's jwk.
// A passing request gets 200 and {"ok":true,"client_id":…,"jkt":…,"path":…}.
// A failing one gets 401 with WWW-Authenticate: DPoP error="invalid_dpop_proof"
// (or "invalid_token", or "use_dpop_nonce" with a DPoP-Nonce header) and a
// JSON body {"error","error_description"}. With require_nonce every answer
// carries the current nonce in DPoP-Nonce.
//
// Extra endpoints:
//   GET  /__stats  {"accepted": n, "rejected": {"<error_description>": n}}
//   POST /__nonce  start a new nonce (the old one is then refused); answers {"nonce": …}

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import { readFirstStdinLine, stdinEnded } from '../scripts/stdin.mjs';

function fail(message) {
  process.stderr.write(`dpop test server: ${message}\n`);
  process.exit(2);
}


const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const ALGS = {
  ES256: { hash: 'sha256', opts: { dsaEncoding: 'ieee-p1363' } },
  RS256: { hash: 'sha256', opts: {} },
  PS256: { hash: 'sha256', opts: { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  EdDSA: { hash: null, opts: {} },
};

class Refusal extends Error {
  constructor(error, description) {
    super(description);
    this.error = error;
  }
}

// verifyJWS checks a compact JWS under a public JWK and returns its parts.
function verifyJWS(jws, jwk, allowed) {
  const parts = typeof jws === 'string' ? jws.split('.') : [];
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const header = b64json(parts[0]);
  const payload = b64json(parts[1]);
  const alg = ALGS[header.alg];
  if (!alg || !allowed.includes(header.alg)) throw new Error(`alg ${header.alg} not allowed`);
  const key = crypto.createPublicKey({ key: jwk ?? header.jwk, format: 'jwk' });
  const ok = crypto.verify(alg.hash, Buffer.from(`${parts[0]}.${parts[1]}`), { key, ...alg.opts }, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new Error('signature does not verify');
  return { header, payload };
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK.
function thumbprint(jwk) {
  const members = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] }[jwk.kty];
  if (!members) throw new Error(`unknown kty ${jwk.kty}`);
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`;
  return crypto.createHash('sha256').update(canonical).digest('base64url');
}

async function main() {
  const args = process.argv.slice(2);
  const stdinExit = !args.includes('--no-stdin-exit');
  const configPath = args.find((a) => !a.startsWith('--'));
  let cfg;
  try {
    cfg = JSON.parse(configPath ? fs.readFileSync(configPath, 'utf8') : await readFirstStdinLine());
  } catch (err) {
    fail(`cannot read config: ${err.message}`);
  }
  if (!cfg || typeof cfg.issuer !== 'string' || typeof cfg.jwks_uri !== 'string') fail('config needs issuer and jwks_uri');
  const window = cfg.iat_window ?? 60;

  let jwks; // fetched on first use: the authorization server may start later
  const tokenKey = async (kid) => {
    if (!jwks || !jwks.keys.some((k) => k.kid === kid)) {
      const res = await fetch(cfg.jwks_uri);
      if (!res.ok) throw new Error(`jwks_uri answered ${res.status}`);
      jwks = await res.json();
    }
    const key = jwks.keys.find((k) => k.kid === kid) ?? (jwks.keys.length === 1 ? jwks.keys[0] : undefined);
    if (!key) throw new Error('no key for the token\'s kid');
    return key;
  };

  const seen = new Map(); // jti -> expiry (ms)
  let nonce = crypto.randomBytes(16).toString('base64url');
  const stats = { accepted: 0, rejected: {} };
  let origin;

  const check = async (req) => {
    const auth = req.headers.authorization ?? '';
    const [scheme, token, extra] = auth.split(' ');
    if (scheme?.toLowerCase() !== 'dpop' || !token || extra !== undefined) {
      throw new Refusal('invalid_token', 'Authorization must be "DPoP <access token>"');
    }
    const proofs = req.headersDistinct?.dpop ?? [];
    if (proofs.length !== 1) throw new Refusal('invalid_dpop_proof', 'exactly one DPoP header is required');

    let header;
    let claims;
    try {
      const h = b64json(proofs[0].split('.')[0]);
      if (h.typ !== 'dpop+jwt') throw new Error('typ is not dpop+jwt');
      if (!h.jwk || typeof h.jwk !== 'object') throw new Error('no jwk');
      if (PRIVATE_MEMBERS.some((m) => m in h.jwk)) throw new Error('jwk has private members');
      ({ header, payload: claims } = verifyJWS(proofs[0], h.jwk, ['ES256', 'RS256', 'PS256', 'EdDSA']));
    } catch (err) {
      throw new Refusal('invalid_dpop_proof', `bad proof: ${err.message}`);
    }
    if (claims.htm !== req.method) throw new Refusal('invalid_dpop_proof', 'htm mismatch');
    const url = new URL(req.url, origin);
    if (claims.htu !== `${origin}${url.pathname}`) throw new Refusal('invalid_dpop_proof', 'htu mismatch');
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > window) throw new Refusal('invalid_dpop_proof', 'iat outside the window');
    if (typeof claims.jti !== 'string' || claims.jti.length < 8) throw new Refusal('invalid_dpop_proof', 'no usable jti');
    for (const [jti, until] of seen) if (until < Date.now()) seen.delete(jti);
    if (seen.has(claims.jti)) throw new Refusal('invalid_dpop_proof', 'replayed proof (jti seen before)');
    seen.set(claims.jti, Date.now() + 2 * window * 1000);
    const ath = crypto.createHash('sha256').update(token).digest('base64url');
    if (claims.ath !== ath) throw new Refusal('invalid_dpop_proof', 'ath mismatch');
    if (cfg.require_nonce && claims.nonce !== nonce) throw new Refusal('use_dpop_nonce', 'the proof must carry the current nonce');

    let at;
    try {
      const parts = token.split('.');
      if (parts.length !== 3) throw new Error('not a JWT');
      const { kid } = b64json(parts[0]);
      ({ payload: at } = verifyJWS(token, await tokenKey(kid), ['RS256']));
    } catch (err) {
      throw new Refusal('invalid_token', `bad access token: ${err.message}`);
    }
    if (at.iss !== cfg.issuer) throw new Refusal('invalid_token', 'wrong issuer');
    if (cfg.audience && !(Array.isArray(at.aud) ? at.aud : [at.aud]).includes(cfg.audience)) throw new Refusal('invalid_token', 'wrong audience');
    if (typeof at.exp !== 'number' || at.exp <= now) throw new Refusal('invalid_token', 'expired');
    const jkt = thumbprint(header.jwk);
    if (at.cnf?.jkt !== jkt) throw new Refusal('invalid_token', 'token not bound to the proof key (cnf.jkt mismatch)');
    return { client_id: at.client_id, jkt, path: url.pathname };
  };

  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    if (path === '/__stats') return json(200, stats);
    if (path === '/__nonce' && req.method === 'POST') {
      nonce = crypto.randomBytes(16).toString('base64url');
      return json(200, { nonce });
    }
    req.resume();
    const nonceHeader = cfg.require_nonce ? { 'DPoP-Nonce': nonce } : {};
    try {
      const out = await check(req);
      stats.accepted += 1;
      json(200, { ok: true, ...out }, nonceHeader);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      stats.rejected[err.message] = (stats.rejected[err.message] ?? 0) + 1;
      json(401, { error: err.error, error_description: err.message }, {
        'WWW-Authenticate': `DPoP error="${err.error}", error_description="${err.message.replace(/["\\]/g, '')}", algs="ES256 RS256 PS256 EdDSA"`,
        ...nonceHeader,
      });
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${server.address().port}`;

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (stdinExit) {
    if (stdinEnded()) stop();
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  process.stdout.write(`${JSON.stringify({ url: origin, stats: `${origin}/__stats`, nonce: `${origin}/__nonce` })}\n`);
}

main().catch((err) => {
  process.stderr.write(`dpop test server: ${err?.stack ?? err}\n`);
  process.exit(1);
});
