// Package report prints what both cold-start programs measure, in the
// lines run.sh reads: main_ms (main to first token, less the local token
// server's start), new_ms (from just before the client was made), wall_ms
// (from the shell's $EPOCHREALTIME in CCTOKEN_T0, so process start-up
// counts) and cpu_ms (the process's user and system time).
package report

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Print writes the four lines for a first token that arrived at done.
func Print(t0, tNew, done time.Time, serverStart time.Duration) {
	cpu := "-1"
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu = strconv.FormatFloat(float64(ru.Utime.Nano()+ru.Stime.Nano())/1e6, 'f', 2, 64)
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	wall := "-1"
	if v := os.Getenv("CCTOKEN_T0"); v != "" {
		// bash's $EPOCHREALTIME: seconds with a fractional part.
		if sec, frac, ok := strings.Cut(v, "."); ok {
			s, err1 := strconv.ParseInt(sec, 10, 64)
			f, err2 := strconv.ParseInt((frac + "000000")[:6], 10, 64)
			if err1 == nil && err2 == nil {
				wall = ms(done.Sub(time.Unix(s, f*1000)) - serverStart)
			}
		}
	}
	fmt.Println("main_ms", ms(done.Sub(t0)-serverStart))
	fmt.Println("new_ms", ms(done.Sub(tNew)))
	fmt.Println("wall_ms", wall)
	fmt.Println("cpu_ms", cpu)
}
