package cliout

import (
	"fmt"
	"io"

	"github.com/cctoken/cctoken/internal/version"
)

// Version answers `cctoken version` and `cctoken --version`, the same in
// the native and the WASI command.
func Version(w io.Writer, args []string) error {
	if len(args) > 0 {
		return UsageError("usage: cctoken version")
	}
	fmt.Fprintf(w, "cctoken %s\n", version.Version)
	return nil
}
