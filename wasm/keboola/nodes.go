package keboola

import (
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// Small readers of the go-yaml AST. Package preset has its own; this
// package cannot import preset (preset imports it).

// unwrap strips anchors, tags and explicit "? key" markers.
func unwrap(n ast.Node) ast.Node {
	for range 64 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v == nil {
				return nil
			}
			n = v.Value
		case *ast.TagNode:
			if v == nil {
				return nil
			}
			n = v.Value
		case *ast.MappingKeyNode:
			if v == nil {
				return nil
			}
			n = v.Value
		default:
			return n
		}
	}
	return n
}

func pairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		if v != nil {
			return v.Values, true
		}
	case *ast.MappingValueNode:
		if v != nil {
			return []*ast.MappingValueNode{v}, true
		}
	}
	return nil, false
}

func items(n ast.Node) ([]ast.Node, bool) {
	if s, ok := n.(*ast.SequenceNode); ok && s != nil {
		return s.Values, true
	}
	return nil, false
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// scalar returns the text of a scalar as written (numbers and booleans
// too, so a client id of 0012 stays 0012).
func scalar(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		if v != nil {
			return v.Value, true
		}
	case *ast.LiteralNode:
		if v == nil || v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
	}
	return "", false
}

func kind(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "an empty value"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.AliasNode:
		return "an alias"
	}
	return "an unsupported value"
}

// join appends a key to a JSON path, quoting keys that would make the path
// ambiguous (the same rule as package preset's field paths).
func join(path, key string) string {
	if !plainKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '.' || c == '[' || c == ']' || c == '"' {
			return false
		}
	}
	return true
}
