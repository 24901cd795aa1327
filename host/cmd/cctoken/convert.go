package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/cctoken/cctoken/host"
)

// convert prints a Keboola generic-extractor configuration as the
// equivalent preset, with secrets replaced by ${env:NAME} references, and
// names on stderr the variables to set (never their values).
func (e *cliEnv) convert(args []string) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	user := fs.String("user", "", "the username of the preset's user (default keboola)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: cctoken convert FILE [--user U]")
	}
	text, err := e.readFile(pos[0])
	if err != nil {
		return err
	}
	yaml, env, err := host.Convert(e.ctx, text, host.WithUsername(*user))
	if err != nil {
		var he *host.Error
		if errors.As(err, &he) && he.Code == host.CodeInvalidPreset {
			printIssues(e.stderr, pos[0], he.Issues)
			return exitError(1)
		}
		return err
	}
	fmt.Fprint(e.stdout, yaml)
	if len(env) > 0 {
		fmt.Fprintf(e.stderr, "cctoken convert: set %s before using this preset (the comments at its top say which configuration values they hold)\n",
			strings.Join(env, ", "))
	}
	return nil
}
