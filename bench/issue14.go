package main

import (
	"fmt"
	"math"
	"strings"
)

// Issue 14 (the plugin hop toward its floor) sets targets on the cost of
// crossing into a plugin: at one request in flight, against Node with the
// echo plugin's JSON, and in CPU per request, split between hostd and its
// plugin.

// p50Gap is, within one round, a's p50 minus b's.
func p50Gap(a, b string) func(round) (float64, bool) {
	return func(rd round) (float64, bool) {
		x, okA := rd[a]
		y, okB := rd[b]
		return float64(x.p50 - y.p50), okA && okB
	}
}

// hopOf is, within one round, hostd's p50 minus the engine's: what the
// plugin hop adds to one request in flight.
var hopOf = p50Gap(srvHostd, srvEngine)

// gapFigure is the median over the c=1 rounds of a's p50 minus b's, and
// its description for the report.
func (r *results) gapFigure(a, b string) (float64, string) {
	gaps := perRound(r.hop, p50Gap(a, b))
	if len(gaps) == 0 {
		return math.NaN(), "–"
	}
	gap := median(gaps)
	med := func(name string, field func(sample) float64) string {
		return fmtLat(median(perRound(r.hop, valueOf(name, field))))
	}
	return gap, fmt.Sprintf("%s, rounds %s to %s (p50 %s vs %s; p99 %s vs %s)",
		signed(gap), signed(minOf(gaps)), signed(maxOf(gaps)),
		med(a, p50), med(b, p50), med(a, p99), med(b, p99))
}

// hopFigure is the median plugin hop over the c=1 rounds and its
// description.
func (r *results) hopFigure() (float64, string) { return r.gapFigure(srvHostd, srvEngine) }

// versus describes a comparison of a with b over rounds rs: the medians
// of field, formatted by format and followed by unit, then the per-round
// ratios. It returns the median ratio, NaN when no round has both.
func versus(rs []round, a, b string, field func(sample) float64, format func(float64) string, unit string) (float64, string) {
	xs := perRound(rs, ratioOf(a, b, field))
	if len(xs) == 0 {
		return math.NaN(), "–"
	}
	med := func(name string) string { return format(median(perRound(rs, valueOf(name, field)))) }
	return median(xs), fmt.Sprintf("%s vs %s%s, %s", med(a), med(b), unit, spread(xs))
}

// cpuSplit describes hostd's CPU per request over rounds rs against
// other's: the total, the host's and the plugin's medians, then the
// per-round ratios of the totals.
func cpuSplit(rs []round, other string) (float64, string) {
	xs := perRound(rs, ratioOf(srvHostd, other, cpu))
	if len(xs) == 0 {
		return math.NaN(), "–"
	}
	med := func(name string, field func(sample) float64) float64 {
		return median(perRound(rs, valueOf(name, field)))
	}
	return median(xs), fmt.Sprintf("%.1f µs (hostd %.1f, plugin %.1f) vs %.1f µs, %s",
		med(srvHostd, cpu), med(srvHostd, ownCPU), med(srvHostd, childCPU), med(other, cpu), spread(xs))
}

func ownCPU(s sample) float64   { return s.ownCPUPerReq }
func childCPU(s sample) float64 { return s.childCPUPerReq() }

// issue14Table is issue 14's figures next to its targets. The echo rows
// need the echo section; every row but the CPU one needs Node.
func (r *results) issue14Table(conns int) string {
	var w strings.Builder
	fmt.Fprintf(&w, "\n| issue 14 target | measured | target | |\n|---|---|---|---|\n")
	row := func(name, measured, target, verdict string) {
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", name, measured, target, verdict)
	}
	// withNode is a row comparing with Node; a row without a target is
	// there for reference.
	withNode := func(name string, x float64, measured, target string, met bool) {
		switch {
		case r.node == "":
			row(name, "Node not installed", target, "not measured")
		case target == "" && math.IsNaN(x):
			row(name, measured, "–", "not measured")
		case target == "":
			row(name, measured, "–", "for reference")
		default:
			row(name, measured, target, verdict(x, met))
		}
	}

	hop, measured := r.hopFigure()
	row("plugin hop at one request in flight: hostd p50 − engine p50", measured, "≤ +40 µs", verdict(hop, hop <= 40e3))
	// The floor: what crossing into a second process costs by itself.
	for _, g := range []struct{ name, a, b string }{
		{"the hop's floor: the engine relaying 32 bytes to a second process and back, p50 − engine p50", srvRelay, srvEngine},
		{"hostd's hop above that floor: hostd p50 − relay p50", srvHostd, srvRelay},
	} {
		if x, measured := r.gapFigure(g.a, g.b); math.IsNaN(x) {
			row(g.name, measured, "–", "not measured")
		} else {
			row(g.name, measured, "–", "for reference")
		}
	}
	x, measured := versus(r.echoC1, srvHostd, srvNode, p50, fmtLat, "")
	withNode("one request in flight, GET /echo through hostd (echo plugin) vs the same JSON from Node in-process: p50", x, measured, "≤ 1.0x", x <= 1)
	x, measured = versus(r.hello, srvHostd, srvNode, rps, fmtRPS, " req/s")
	withNode("hello world through a plugin vs Node in-process: req/s", x, measured, "≥ 1.3x", x >= 1.3)
	x, measured = versus(r.hop, srvHostd, srvNode, p50, fmtLat, "")
	withNode("hello world through a plugin vs Node in-process at one request in flight: p50", x, measured, "", false)
	x, measured = versus(r.echo, srvHostd, srvNode, rps, fmtRPS, " req/s")
	withNode("GET /echo, the echo plugin's JSON through hostd vs the same JSON from Node in-process: req/s", x, measured, "≥ 1.2x", x >= 1.2)
	x, measured = cpuSplit(r.hello, srvNetHTTP)
	row("CPU per request, host + plugin, vs net/http in-process (hello world)", measured, "≤ 1.0x", verdict(x, x <= 1))
	x, measured = cpuSplit(r.echo, srvNode)
	withNode("CPU per request of GET /echo, host + plugin, vs Node in-process", x, measured, "", false)
	fmt.Fprintf(&w, "\nThe req/s and CPU rows are at %d connections, the p50 rows at one. The echo rows come from the echo section, whose Node server answers the load's request with the echo plugin's bytes, checked before the rounds. hostd's CPU is split between its own process and its plugin's (medians over rounds, so the parts need not add up to the total).\n", conns)
	return w.String()
}
