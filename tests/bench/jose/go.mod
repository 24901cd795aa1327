// Module jose benchmarks cctoken's signing (DPoP proofs, private_key_jwt
// assertions) against a native Go JWT library, golang-jwt/jwt/v5, in the
// same run. It is a module of its own so that the library stays out of
// cctoken's go.mod; cctoken itself comes from this repository (replace).
module github.com/cctoken/cctoken/tests/bench/jose

go 1.26.0

require github.com/cctoken/cctoken v0.0.0

require github.com/goccy/go-json v0.12.0 // indirect

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/tetratelabs/wazero v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/cctoken/cctoken => ../../..
