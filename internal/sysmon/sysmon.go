// Package sysmon keeps the Go runtime's system monitor out of its deep
// sleep, in hostd and in the plugins it starts.
//
// When every P of a Go process is idle, sysmon sleeps until a goroutine
// next enters a system call, which then wakes it with a futex, and it
// polls every 20 µs for the next millisecond. A request through a plugin
// makes hostd idle twice and the plugin once: at one request in flight,
// those wake-ups and that polling cost each request about 25 µs of
// latency and a large share of both processes' CPU on a 2-CPU machine
// (see README, "Benchmarks"). The runtime skips the deep sleep when
// GODEBUG's schedtrace is set; at its largest value (2^31−1 ms, 24.8 days)
// sysmon then only backs off to one wake-up every 10 ms when idle. The
// trace line schedtrace exists for is printed when the machine's uptime
// passes a multiple of that period: at the start of a process on a
// machine up for longer, then every 24.8 days.
package sysmon

import (
	"os"
	"strings"
	"syscall"
)

// Setting is the GODEBUG setting that keeps sysmon awake.
const Setting = "schedtrace=2147483647"

// TraceLine reports whether line is the runtime's scheduler trace, which
// Setting prints rarely (see the package comment).
func TraceLine(line []byte) bool {
	s := string(line)
	return strings.HasPrefix(s, "SCHED ") && strings.Contains(s, "ms: gomaxprocs=")
}

// Env returns environ with Setting added to GODEBUG, unless GODEBUG
// already sets schedtrace: an explicit value (schedtrace=0 included)
// is the user's choice.
func Env(environ []string) []string {
	out := make([]string, 0, len(environ)+1)
	godebug, seen := "", false
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			if !seen { // the first one counts, as for the runtime
				godebug, seen = v, true
			}
			continue
		}
		out = append(out, kv)
	}
	if !setsSchedtrace(godebug) {
		if godebug == "" {
			godebug = Setting
		} else {
			godebug += "," + Setting
		}
	}
	if godebug != "" {
		out = append(out, "GODEBUG="+godebug)
	}
	return out
}

func setsSchedtrace(godebug string) bool {
	for _, kv := range strings.Split(godebug, ",") {
		if strings.HasPrefix(strings.TrimSpace(kv), "schedtrace=") {
			return true
		}
	}
	return false
}

// Reexec replaces the process with itself started with Setting, unless
// GODEBUG already sets schedtrace; the runtime reads GODEBUG only as a
// process starts. The process keeps its id, arguments and descriptors.
// It returns only if the exec failed, with the error; the caller goes on
// without the setting.
func Reexec() error {
	if setsSchedtrace(os.Getenv("GODEBUG")) {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, Env(os.Environ()))
}
