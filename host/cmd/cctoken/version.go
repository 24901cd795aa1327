package main

import (
	"fmt"

	"github.com/cctoken/cctoken/internal/version"
)

// version prints the project version, the one every artifact reports.
func (e *cliEnv) version(args []string) error {
	if len(args) > 0 {
		return usageError("usage: cctoken version")
	}
	fmt.Fprintf(e.stdout, "cctoken %s\n", version.Version)
	return nil
}

// demo points to the demo's own command: the development authorization
// server it runs (ory/fosite) stays out of the installed command.
func (e *cliEnv) demo([]string) error {
	return usageError("cctoken demo is its own command now: go run ./host/cmd/cctoken-demo (in a checkout of cctoken)")
}
