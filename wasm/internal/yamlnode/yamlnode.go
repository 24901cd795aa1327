// Package yamlnode reads the go-yaml AST for the loaders in wasm/ (presets
// and imported Keboola configurations). They walk the AST rather than
// decode into structs because it keeps the line and column of every node,
// so each problem can point at its place, and it keeps the reflection-based
// decoder out of the wasm build.
package yamlnode

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// Unwrap strips anchors, tags and explicit "? key" markers, which carry no
// meaning for presets. Aliases are kept so the caller can reject them.
func Unwrap(n ast.Node) ast.Node {
	for range 64 { // bounded: tags and anchors can be stacked
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

// Position is the 1-based line and column of n, or zeros when unknown. For
// a block map it is the first key, since go-yaml starts those at the ':'.
func Position(n ast.Node) (line, col int) {
	if n == nil {
		return 0, 0
	}
	if m, ok := n.(*ast.MappingNode); ok && m != nil && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0] != nil {
		if m.Values[0].Key != nil {
			return Position(m.Values[0].Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// Pairs returns the key/value pairs of a map node.
func Pairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
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

// Items returns the entries of a list node.
func Items(n ast.Node) ([]ast.Node, bool) {
	if s, ok := n.(*ast.SequenceNode); ok && s != nil {
		return s.Values, true
	}
	return nil, false
}

// IsNull reports an explicit null or an empty value (`key:` with nothing after).
func IsNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// Scalar returns the text of a scalar node. Numbers and booleans come back
// as written (client_id: 0012 stays "0012"), so string fields accept them.
func Scalar(n ast.Node) (string, bool) {
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

// Kind names what a node is, for "expected X, found Y" messages.
func Kind(n ast.Node) string {
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

// Join appends a key to a field path, quoting keys that would make the path
// ambiguous or unreadable.
func Join(path, key string) string {
	if !plainKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// KeyLike reports whether s looks like a key name: ASCII letters, digits,
// '_' and '-', at most 64 bytes. An error about a key it does not know
// quotes the key only when it is key-like: anything else may be a secret
// pasted in the wrong place, and errors travel to logs and callers.
func KeyLike(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// UnknownKey is the field path and the start of the message of an error
// about key, a key that does not belong at path (its parent) and sits at
// line: the key's own path when it is key-like, else the parent's path
// and "an unknown key on line N", the key itself left out.
func UnknownKey(path, key string, line int) (field, lead string) {
	if KeyLike(key) {
		return Join(path, key), "unknown key"
	}
	lead = "an unknown key"
	if line > 0 {
		lead += " on line " + strconv.Itoa(line)
	}
	return path, lead + " (not repeated here: it does not look like a key name, and may be a value in the wrong place)"
}

// Index appends a list index to a field path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

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

// EachKey walks the pairs of map n in order. Merge keys (<<), keys that are
// not plain strings and keys set twice go to report with a message that
// says the fix; every other pair goes to fn with its field path.
func EachKey(n ast.Node, path string, report func(at ast.Node, path, msg string), fn func(name, path string, key, val ast.Node)) {
	kv, _ := Pairs(n)
	seen := map[string]ast.Node{}
	for _, p := range kv {
		if p == nil {
			continue
		}
		if _, merge := Unwrap(p.Key).(*ast.MergeKeyNode); merge {
			report(p.Key, Join(path, "<<"), "YAML merge keys (<<) are not supported; write the keys out.")
			continue
		}
		name, ok := Scalar(Unwrap(p.Key))
		if !ok {
			report(p.Key, path, "map keys must be plain strings, found "+Kind(Unwrap(p.Key))+"; write the key as text.")
			continue
		}
		fieldPath := Join(path, name)
		if first, dup := seen[name]; dup {
			line, _ := Position(first)
			report(p.Key, fieldPath, fmt.Sprintf("this key is set more than once (first on line %d); keep only one.", line))
			continue
		}
		seen[name] = p.Key
		fn(name, fieldPath, p.Key, p.Value)
	}
}
