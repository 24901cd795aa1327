package cliout

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ExitError ends a command with a status after it has printed its own
// report.
type ExitError int

func (e ExitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// UsageError is a mistake in the command line: printed, exit status 2.
type UsageError string

func (e UsageError) Error() string { return string(e) }

// Commands maps a command name to what runs it with the arguments after it.
type Commands map[string]func(args []string) error

// Run dispatches to the named command and turns its outcome into an exit
// status: 0, 1 for a failure, 2 for a usage error. errText words an error
// for people; nil means err.Error().
func Run(args []string, usage string, stdout, stderr io.Writer, cmds Commands, errText func(error) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cctoken: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := run(args[1:])
	var ex ExitError
	var ue UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return int(ex)
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	}
	if errText == nil {
		errText = func(err error) string { return err.Error() }
	}
	fmt.Fprintln(stderr, strings.TrimPrefix(errText(err), "cctoken: "))
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// ParseFlags parses flags that may come before or after the positional
// arguments, as people type them, and returns the positional ones.
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err // -h: Run prints the usage and exits 0
			}
			return nil, UsageError("cctoken " + fs.Name() + ": " + err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
