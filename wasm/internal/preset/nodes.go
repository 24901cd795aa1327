package preset

import "github.com/cctoken/cctoken/wasm/internal/yamlnode"

// Readers of the go-yaml AST, shared with package keboola.
var (
	unwrap   = yamlnode.Unwrap
	position = yamlnode.Position
	pairs    = yamlnode.Pairs
	items    = yamlnode.Items
	isNull   = yamlnode.IsNull
	scalar   = yamlnode.Scalar
	kind     = yamlnode.Kind
	pathJoin = yamlnode.Join
)
