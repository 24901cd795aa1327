package keboola

import "github.com/cctoken/cctoken/wasm/internal/yamlnode"

// Readers of the go-yaml AST, shared with package preset.
var (
	unwrap = yamlnode.Unwrap
	pairs  = yamlnode.Pairs
	items  = yamlnode.Items
	isNull = yamlnode.IsNull
	scalar = yamlnode.Scalar
	kind   = yamlnode.Kind
	join   = yamlnode.Join
	index  = yamlnode.Index
)
