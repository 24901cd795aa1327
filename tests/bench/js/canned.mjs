// What breakdown.mjs and compare.mjs share: a token endpoint that answers at
// once without the network (a canned fetch), the one-user preset that points
// at it, and the "name value unit" output.

export const TOKEN_BODY = JSON.stringify({
  access_token: "bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH", token_type: "Bearer", expires_in: 3600,
});

/** A fetch that answers every request with TOKEN_BODY. */
export const canned = () => Promise.resolve(new Response(TOKEN_BODY, {
  status: 200, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
}));

export const preset = `preset:
- type: oauth_client_credentials
  url: http://127.0.0.1:9/token
  users:
  - username: svc
    client_id: svc-id
    client_secret: svc-secret
`;

export const fig = (name, value, unit) => console.log(`${name} ${value} ${unit}`);

/** Microseconds. */
export const now = () => performance.now() * 1e3;
