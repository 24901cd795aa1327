// Package keboola reads the client-credentials login of a Keboola
// generic-extractor configuration and maps it onto one cctoken preset.
//
// # What is understood
//
// The configuration is JSON (or YAML) holding `api` and `config`, either at
// the top or under `parameters` as Keboola stores it. Only
// api.authentication is read, and only the login shape Keboola's
// "OAuth 2.0 Client Credentials" template writes:
//
//   - type "login", format "json" or absent, expires absent or
//     {"response": "expires_in", "relative": true} (what cctoken does anyway);
//   - loginRequest: an endpoint (absolute, or relative to api.baseUrl),
//     method "FORM", optional headers, and params holding grant_type
//     "client_credentials" and optionally scope;
//   - the client id and secret either in an Authorization header built as
//     concat("Basic ", base64_encode(concat(ID, ":", SECRET))) (the Basic
//     Auth variant, client_secret_basic) or as params client_id and
//     client_secret (the Post Form variant, client_secret_post), where ID
//     and SECRET are {"attr": NAME} references into config or plain values;
//   - apiRequest.headers.Authorization built as
//     concat("Bearer ", {"response": "access_token"}).
//
// Everything else inside authentication (other functions, attr references
// outside the credentials, response references other than access_token,
// apiRequest.query, other keys) is refused with its JSON path and what is
// supported instead. Keys of api and config that authentication does not
// use (jobs, pagination, ...) are ignored.
//
// # Secrets
//
// A value that Keboola still holds encrypted (it starts with KBC::, as
// KBC::ProjectSecure::… ciphertext does) is refused: it cannot be sent.
// Values may be ${env:NAME} references, resolved like those of a preset.
// Issue messages name paths and keys, never values.
//
// # Output
//
// Read gives a Preset; Preset.YAML writes it as a preset document, either
// with the values themselves (Literal, which package preset loads in
// memory) or with the client secret, and a client id taken from a
// #-prefixed attribute, replaced by ${env:CCTOKEN_<USER>_CLIENT_SECRET} and
// ${env:CCTOKEN_<USER>_CLIENT_ID} references (EnvRefs, what `cctoken
// convert` prints). Preset.Origin maps a field path of that document back
// to the configuration, so issues found in it point at the configuration.
package keboola
