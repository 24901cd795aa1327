// Package jose signs compact JSON Web Signatures (RFC 7515) for the token
// requests that need one: JWT client assertions (RFC 7523, private_key_jwt
// and client_secret_jwt) and DPoP proofs (RFC 9449). It only signs; it
// never verifies, encrypts or fetches anything.
//
// A [Key] comes from [ParseKey] (a private key as PEM or as a JWK),
// [GenerateES256] (a fresh P-256 key, for DPoP) or [HS256] (a client
// secret). Supported algorithms (RFC 7518 §3, RFC 8037):
//
//	RS256  RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of 2048 bits or more
//	PS256  RSASSA-PSS with SHA-256, MGF1 SHA-256, salt length 32
//	ES256  ECDSA on P-256 with SHA-256, signature r||s (64 bytes)
//	EdDSA  Ed25519
//	HS256  HMAC SHA-256
//
// Errors are sentences that name what is wrong and how to fix it. They
// never quote key material, and they quote a value from the input only
// when it is a short name such as an algorithm or a curve. A Key prints as
// its algorithm and key id only, whatever the fmt verb.
//
// Randomness: since Go 1.26 crypto/ecdsa ignores the io.Reader it is
// given and always uses the system's secure source (in the wasip1 module
// that is the host's random_get), so ES256 signatures come from there.
// GenerateES256 and PS256 salts do read the reader passed in.
package jose
