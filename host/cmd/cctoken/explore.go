package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/cctoken/cctoken/host"
	"github.com/cctoken/cctoken/host/internal/explorer"
	"github.com/cctoken/cctoken/internal/watch"
)

// explore serves the API explorer page on a loopback address until the
// command is interrupted.
func (e *cliEnv) explore(args []string) error {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "the loopback address to listen on (port 0: any free port)")
	var origins headerFlags
	fs.Var(&origins, "allow-origin", "an API origin the relay may forward to, like https://api.example.com (repeatable)")
	quiet := fs.Bool("q", false, "do not log relayed requests")
	watchFile := fs.Bool("watch", false, "serve the preset file anew when it changes (the page gets it on its next load); a file that does not load is refused and the old one stays")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("usage: cctoken explore [FILE] [--addr 127.0.0.1:PORT] [--allow-origin ORIGIN]...")
	}
	if *watchFile && (len(pos) == 0 || pos[0] == "-") {
		return usageError("cctoken explore: --watch needs a preset file")
	}
	var preset []byte
	if len(pos) == 1 {
		if preset, err = e.readFile(pos[0]); err != nil {
			return err
		}
	}
	opts := []explorer.Option{}
	if !*quiet {
		opts = append(opts, explorer.WithLogger(slog.New(slog.NewTextHandler(e.stderr, nil))))
	}
	srv, err := explorer.New(preset, origins, opts...)
	if err != nil {
		var he *host.Error
		if errors.As(err, &he) && he.Code == "invalid_preset" {
			printIssues(e.stderr, pos[0], he.Issues)
			return exitError(1)
		}
		return usageError("cctoken explore: " + err.Error())
	}
	ln, err := explorer.Listen(*addr)
	if err != nil {
		return usageError("cctoken explore: " + err.Error())
	}
	// The URL holds the per-launch secret every request must carry; the
	// explorer refuses anything without it (docs/explorer-security.md).
	fmt.Fprintf(e.stdout, "cctoken API explorer: %s\n", srv.URL(ln.Addr().String()))
	fmt.Fprintln(e.stdout, "Open that URL: it holds this launch's secret, which every request to the explorer needs; do not share it.")
	if len(origins) > 0 {
		fmt.Fprintf(e.stdout, "The relay forwards to the token URLs of the loaded preset and to %s.\n", origins.String())
	} else {
		fmt.Fprintln(e.stdout, "The relay forwards to the token URLs of the loaded preset only; add --allow-origin ORIGIN for an API without CORS.")
	}
	if *watchFile {
		log := slog.New(slog.NewTextHandler(e.stderr, nil))
		go watch.File(e.ctx, pos[0], preset, func(b []byte) {
			if err := srv.SetPreset(e.ctx, b); err != nil {
				fmt.Fprintf(e.stderr, "cctoken explore: %s was not reloaded; the previous version is still served: %s\n", pos[0], err)
				return
			}
			fmt.Fprintf(e.stdout, "reloaded %s\n", pos[0])
		}, func(err error) { log.Warn("cctoken explore: watching the preset", "error", err.Error()) })
	}
	fmt.Fprintln(e.stdout, "Press Ctrl-C to stop.")
	return srv.Serve(e.ctx, ln)
}
