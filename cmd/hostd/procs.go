package main

import "strings"

// hostProcs is the GOMAXPROCS hostd gives itself: one less than the Go
// runtime's default (the CPUs it may use, at least one), so that a CPU is
// left to the plugin processes. It reports false when GOMAXPROCS is set in
// the environment: that value is the user's, and the runtime has applied
// it already.
//
// Why: every request runs in hostd and then in a plugin. With a processor
// for each CPU, hostd's idle threads spin looking for work after each
// hand-off, on the CPU the plugin needs next, and wake one another with
// futex calls the plugin then waits behind. On a 2-CPU machine one
// processor measured 10–12% lower latency at one request in flight, the
// same req/s at 64 connections and about 10% less CPU per request.
func hostProcs(goDefault int, env string) (int, bool) {
	if strings.TrimSpace(env) != "" {
		return 0, false
	}
	return max(1, goDefault-1), true
}
