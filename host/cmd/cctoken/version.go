package main

import "github.com/cctoken/cctoken/internal/cliout"

// version prints the project version, the one every artifact reports.
func (e *cliEnv) version(args []string) error { return cliout.Version(e.stdout, args) }

// demo points to the demo's own command: the development authorization
// server it runs (ory/fosite) stays out of the installed command.
func (e *cliEnv) demo([]string) error {
	return usageError("cctoken demo is its own command now: go run ./host/cmd/cctoken-demo (in a checkout of cctoken)")
}
