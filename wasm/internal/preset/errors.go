package preset

import (
	"fmt"
	"strings"
)

// Issue is one problem found in a preset document.
type Issue struct {
	Field   string `json:"field"`            // e.g. preset[0].users[2].client_secret
	Line    int    `json:"line,omitempty"`   // 1-based; 0 when unknown
	Column  int    `json:"column,omitempty"` // 1-based; 0 when unknown
	Message string `json:"message"`          // what is wrong and how to fix it; never a secret
}

func (i Issue) String() string {
	var b strings.Builder
	if i.Line > 0 {
		fmt.Fprintf(&b, "line %d:%d: ", i.Line, i.Column)
	}
	if i.Field != "" {
		b.WriteString(i.Field)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Errors is every issue found in one document, in document order.
type Errors []Issue

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, is := range e {
		parts[i] = is.String()
	}
	return strings.Join(parts, "\n")
}

func userPath(p, u int) string { return fmt.Sprintf("preset[%d].users[%d]", p, u) }
