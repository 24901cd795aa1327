package preset

import (
	_ "embed"
	"slices"
)

// schemaJSON is generated from the types in format.go by
// `go test ./wasm/internal/preset -run TestSchema -update`; embedding the file keeps
// the reflection-based generator out of the wasm build.
//
//go:embed preset.schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 2020-12) of the preset format, as indented JSON bytes.
func Schema() []byte { return slices.Clone(schemaJSON) }
