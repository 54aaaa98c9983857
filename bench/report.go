package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// results is everything a run measured; a section that failed leaves its
// part empty and the report says "not measured".
type results struct {
	commit  string
	date    time.Time
	node    string // "Node v20…", or "" when left out
	loader  string
	elapsed time.Duration

	servers []string
	// clientNames and clients are the client section's, one map a round.
	clientNames []string
	clients     []map[string]clientSample
	hello       []round // c=-connections, one per round
	hop         []round // c=1: hostd, engine and Node
	echo        []round // GET /echo, c=-connections: hostd (echo plugin) and Node
	echoC1      []round // GET /echo, c=1
	idle        map[string]idleResult
	tunnel      pipeResult
	upgrade     pipeResult
	upload      transfer
	download    transfer
	proxies     []string // the proxies compared, in first-round order
	proxy       []round  // c=-connections, one per round

	failures []string
	warnings []string
}

// warnBad notes load runs in which some requests failed.
func (r *results) warnBad(name string, bad int64) {
	if bad > 0 {
		r.warnings = append(r.warnings, fmt.Sprintf("%s: %d errors or non-2xx responses in one run", name, bad))
	}
}

// perRound maps each round of rs to f, skipping rounds where f cannot be
// computed (a server missing).
func perRound(rs []round, f func(round) (float64, bool)) []float64 {
	var out []float64
	for _, rd := range rs {
		if v, ok := f(rd); ok {
			out = append(out, v)
		}
	}
	return out
}

// ratioOf is, within one round, field(a) / field(b).
func ratioOf(a, b string, field func(sample) float64) func(round) (float64, bool) {
	return func(rd round) (float64, bool) {
		sa, okA := rd[a]
		sb, okB := rd[b]
		if !okA || !okB || field(sb) == 0 {
			return 0, false
		}
		return field(sa) / field(sb), true
	}
}

// valueOf is, within one round, field(a).
func valueOf(a string, field func(sample) float64) func(round) (float64, bool) {
	return func(rd round) (float64, bool) {
		s, ok := rd[a]
		return field(s), ok
	}
}

func rps(s sample) float64 { return s.rps }
func p50(s sample) float64 { return float64(s.p50) }
func p99(s sample) float64 { return float64(s.p99) }
func cpu(s sample) float64 { return s.cpuPerReq }

// median of xs; NaN when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Min(xs)
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}

// verdict compares a measured value with a target.
func verdict(v float64, ok bool) string {
	switch {
	case math.IsNaN(v):
		return "not measured"
	case ok:
		return "**met**"
	default:
		return "**missed**"
	}
}

// Number formats.
func fmtX(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2fx", x)
}

func fmtRPS(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := fmt.Sprintf("%d", int64(math.Round(x)))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtLat formats nanoseconds as µs below 1 ms, else ms.
func fmtLat(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "–"
	case math.Abs(ns) < 1e6:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.2f ms", ns/1e6)
}

func fmtF(x float64, format string) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf(format, x)
}

func fmtSize(mib int64) string {
	if mib%1024 == 0 {
		return fmt.Sprintf("%d GiB", mib/1024)
	}
	return fmt.Sprintf("%d MiB", mib)
}

// details are the per-round figures, printed before the summary.
func (r *results) details(b *bench) string {
	var w strings.Builder
	fmt.Fprintf(&w, "\n## Details (per round)\n\n")
	if len(r.hello) > 0 {
		fmt.Fprintf(&w, "Hello world, c=%d, %v per run: req/s (p99, server CPU µs/request)\n\n", b.opts.conns, b.opts.duration)
		fmt.Fprintf(&w, "| round | order |")
		for _, s := range r.servers {
			fmt.Fprintf(&w, " %s |", s)
		}
		hasNode := slices.Contains(r.servers, srvNode)
		if hasNode {
			fmt.Fprintf(&w, " hostd/node | engine/node |")
		}
		fmt.Fprintf(&w, " hostd/net/http | hostd CPU/net/http CPU | other processes, CPUs |\n|---|---|%s\n", strings.Repeat("---|", len(r.servers)+3+2*boolInt(hasNode)))
		for i, rd := range r.hello {
			fmt.Fprintf(&w, "| %d | %s |", i+1, strings.Join(rotate(r.servers, i), " "))
			for _, s := range r.servers {
				fmt.Fprintf(&w, " %s |", fmtSample(rd, s, s == srvHostd))
			}
			if hasNode {
				fmt.Fprintf(&w, " %s | %s |", fmtX(one(ratioOf(srvHostd, srvNode, rps), rd)), fmtX(one(ratioOf(srvEngine, srvNode, rps), rd)))
			}
			var others []float64
			for _, sm := range rd {
				others = append(others, sm.others)
			}
			fmt.Fprintf(&w, " %s | %s | %.2f–%.2f |\n", fmtX(one(ratioOf(srvHostd, srvNetHTTP, rps), rd)), fmtX(one(ratioOf(srvHostd, srvNetHTTP, cpu), rd)),
				minOf(others), maxOf(others))
		}
	}
	if len(r.hop) > 0 {
		fmt.Fprintf(&w, "\nHello world at c=1, %v per run: p50 / p99 (server CPU µs/request)\n\n| round | hostd | engine | relay | plugin hop (p50 difference) | the hop's floor (relay − engine) | node | hostd/node p50 |\n|---|---|---|---|---|---|---|---|\n", b.opts.c1Duration)
		for i, rd := range r.hop {
			fmt.Fprintf(&w, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", i+1, fmtP50P99(rd, srvHostd, true), fmtP50P99(rd, srvEngine, false),
				fmtP50P99(rd, srvRelay, true), signed(one(hopOf, rd)), signed(one(p50Gap(srvRelay, srvEngine), rd)),
				fmtP50P99(rd, srvNode, false), fmtX(one(ratioOf(srvHostd, srvNode, p50), rd)))
		}
	}
	w.WriteString(r.echoDetails(b))
	if len(r.tunnel.hostd) > 0 || len(r.upgrade.hostd) > 0 {
		fmt.Fprintf(&w, "\nByte pipes, %s per run: MB/s through hostd / plain loopback (ratio)\n\n| round | CONNECT tunnel | upgrade echo |\n|---|---|---|\n", fmtSize(b.opts.pipeMiB))
		for i := range max(len(r.tunnel.hostd), len(r.upgrade.hostd)) {
			fmt.Fprintf(&w, "| %d | %s | %s |\n", i+1, pipeRound(r.tunnel, i), pipeRound(r.upgrade, i))
		}
	}
	if len(r.idle) > 0 {
		fmt.Fprintf(&w, "\nIdle keep-alive connections: RSS of the process tree before → %v after the last was opened\n\n| server | connections | RSS before | RSS after | per connection | of which plugins |\n|---|---|---|---|---|---|\n", idleSettle)
		for _, s := range r.servers {
			if m, ok := r.idle[s]; ok {
				plugins := "–"
				if s == srvHostd {
					plugins = fmt.Sprintf("%.2f KiB", m.childPerConnKiB())
				}
				fmt.Fprintf(&w, "| %s | %d | %.1f MiB | %.1f MiB | %.2f KiB | %s |\n", s, m.conns, float64(m.baseKiB)/1024, float64(m.nowKiB)/1024, m.perConnKiB(), plugins)
			}
		}
	}
	w.WriteString(r.proxyDetails(b))
	return w.String()
}

// fmtSample formats name's run in rd as "req/s (p99, CPU µs/request)",
// the CPU split as fmtCPU splits it.
func fmtSample(rd round, name string, split bool) string {
	sm, ok := rd[name]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%s (%s, %s)", fmtRPS(sm.rps), fmtLat(float64(sm.p99)), fmtCPU(sm, split))
}

// fmtP50P99 formats name's run in rd as "p50 / p99 (CPU µs/request)",
// the CPU split as fmtCPU splits it.
func fmtP50P99(rd round, name string, split bool) string {
	sm, ok := rd[name]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%s / %s (%s)", fmtLat(float64(sm.p50)), fmtLat(float64(sm.p99)), fmtCPU(sm, split))
}

// fmtCPU formats the CPU µs per request of sm, split between the
// server's process and its children (hostd and its plugins) when split
// is set.
func fmtCPU(sm sample, split bool) string {
	if split {
		return fmt.Sprintf("%.1f = %.1f host + %.1f plugin", sm.cpuPerReq, sm.ownCPUPerReq, sm.childCPUPerReq())
	}
	return fmt.Sprintf("%.1f", sm.cpuPerReq)
}

func pipeRound(p pipeResult, i int) string {
	if i >= len(p.hostd) {
		return "–"
	}
	return fmt.Sprintf("%.0f / %.0f (%.2fx)", p.hostd[i], p.plain[i], p.hostd[i]/p.plain[i])
}

func one(f func(round) (float64, bool), rd round) float64 {
	if v, ok := f(rd); ok {
		return v
	}
	return math.NaN()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// markdown is the summary the README embeds: the servers side by side,
// then each figure of the issue next to its target.
func (r *results) markdown(b *bench) string {
	var w strings.Builder
	fmt.Fprintf(&w, "\n### hostd benchmark: commit %s, %s\n\n", r.commit, r.date.Format("2006-01-02 15:04 UTC"))
	env := []string{fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()), runtime.Version()}
	if r.node != "" {
		env = append(env, r.node)
	}
	env = append(env, fmt.Sprintf("load: %s, %d keep-alive connections, %d interleaved rounds of %v",
		r.loader, b.opts.conns, b.opts.rounds, b.opts.duration))
	env = append(env, "hello world (13-byte text/plain body)", fmt.Sprintf("run took %v", r.elapsed.Round(time.Second)),
		fmt.Sprintf("other processes used %s of the %d CPUs during the hello-world runs", fmtF(r.others(), "%.2f"), runtime.NumCPU()))
	fmt.Fprintf(&w, "%s\n\n", strings.Join(env, " · "))
	if o := r.others(); o > 0.1*float64(runtime.NumCPU()) {
		fmt.Fprintf(&w, "**The machine was busy**: other processes took %.2f of its %d CPUs while the servers were measured, so req/s and latencies (p99 above all) are skewed; the ratios within a round less so.\n\n", o, runtime.NumCPU())
	}

	if len(r.hello) > 0 {
		hasNode := slices.Contains(r.servers, srvNode)
		fmt.Fprintf(&w, "| server | req/s, median (min–max) | p50 | p99 | server CPU µs/req |%s vs net/http |\n", map[bool]string{true: " vs Node |", false: ""}[hasNode])
		fmt.Fprintf(&w, "|---|---|---|---|---|%s---|\n", map[bool]string{true: "---|", false: ""}[hasNode])
		for _, s := range r.servers {
			rs := perRound(r.hello, valueOf(s, rps))
			fmt.Fprintf(&w, "| %s | %s (%s–%s) | %s | %s | %s |", describe[s], fmtRPS(median(rs)), fmtRPS(minOf(rs)), fmtRPS(maxOf(rs)),
				fmtLat(median(perRound(r.hello, valueOf(s, p50)))), fmtLat(median(perRound(r.hello, valueOf(s, p99)))),
				fmtF(median(perRound(r.hello, valueOf(s, cpu))), "%.1f"))
			if hasNode {
				fmt.Fprintf(&w, " %s |", fmtX(median(perRound(r.hello, ratioOf(s, srvNode, rps)))))
			}
			fmt.Fprintf(&w, " %s |\n", fmtX(median(perRound(r.hello, ratioOf(s, srvNetHTTP, rps)))))
		}
		fmt.Fprintf(&w, "\nRatios are taken within each round, then the median over rounds. Server CPU counts user + system time of the server process and its plugin processes.\n\n")
	}

	fmt.Fprintf(&w, "| issue 5 target | measured | target | |\n|---|---|---|---|\n")
	row := func(name, measured, target, verdict string) {
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", name, measured, target, verdict)
	}
	noNode := func(name, target string) {
		row(name, "Node not installed", target, "not measured")
	}

	// Throughput, latency and CPU at c=64. Each ratio is the median of
	// the per-round ratios, shown with their range.
	med := func(name string, field func(sample) float64) float64 {
		return median(perRound(r.hello, valueOf(name, field)))
	}
	if r.node != "" {
		xs := perRound(r.hello, ratioOf(srvHostd, srvNode, rps))
		row("hostd (plugin process) req/s vs Node", fmt.Sprintf("%s vs %s req/s, %s", fmtRPS(med(srvHostd, rps)), fmtRPS(med(srvNode, rps)), spread(xs)),
			"≥ 1.2x", verdict(median(xs), median(xs) >= 1.2))
		xs = perRound(r.hello, ratioOf(srvHostd, srvNode, p99))
		row("hostd p99 vs Node's p99", fmt.Sprintf("%s vs %s, %s", fmtLat(med(srvHostd, p99)), fmtLat(med(srvNode, p99)), spread(xs)),
			"≤ 1.0x", verdict(median(xs), median(xs) <= 1))
	} else {
		noNode("hostd (plugin process) req/s vs Node", "≥ 1.2x")
		noNode("hostd p99 vs Node's p99", "≤ 1.0x")
	}
	xs := perRound(r.hello, ratioOf(srvHostd, srvNetHTTP, cpu))
	row("hostd CPU per request (host + plugin) vs net/http in-process", fmt.Sprintf("%s µs vs %s µs, %s",
		fmtF(med(srvHostd, cpu), "%.1f"), fmtF(med(srvNetHTTP, cpu), "%.1f"), spread(xs)),
		"≤ 1.0x", verdict(median(xs), median(xs) <= 1))
	if r.node != "" {
		xs = perRound(r.hello, ratioOf(srvEngine, srvNode, rps))
		row("engine in-process req/s vs Node", fmt.Sprintf("%s vs %s req/s, %s", fmtRPS(med(srvEngine, rps)), fmtRPS(med(srvNode, rps)), spread(xs)),
			"≥ 1.5x", verdict(median(xs), median(xs) >= 1.5))
	} else {
		noNode("engine in-process req/s vs Node", "≥ 1.5x")
	}

	hop, hopMeasured := r.hopFigure()
	row("plugin hop at c=1: hostd p50 − engine p50", hopMeasured, "≤ 40 µs", verdict(hop, hop <= 40e3))

	// Memory of idle connections.
	if m, ok := r.idle[srvHostd]; ok {
		measured := fmt.Sprintf("%.2f KiB (%d connections", m.perConnKiB(), m.conns)
		if n, ok := r.idle[srvNode]; ok {
			measured += fmt.Sprintf("; Node %.2f KiB", n.perConnKiB())
		}
		measured += ")"
		row("RSS per idle keep-alive connection, hostd", measured, "≤ 6 KiB", verdict(m.perConnKiB(), m.perConnKiB() <= 6))
	} else {
		row("RSS per idle keep-alive connection, hostd", "–", "≤ 6 KiB", "not measured")
	}

	// Byte pipes.
	for _, p := range []struct {
		name string
		res  pipeResult
	}{{"CONNECT tunnel (tunnel plugin) vs plain TCP forwarder", r.tunnel}, {"upgraded echo (echo plugin) vs plain TCP echo", r.upgrade}} {
		xs := p.res.ratios()
		row(p.name, fmt.Sprintf("%s vs %s MB/s, %s", fmtF(median(p.res.hostd), "%.0f"), fmtF(median(p.res.plain), "%.0f"), spread(xs)),
			"≥ 0.9x", verdict(median(xs), median(xs) >= 0.9))
	}

	// Large bodies.
	for _, t := range []struct {
		name string
		res  transfer
	}{{"upload", r.upload}, {"download", r.download}} {
		name := fmt.Sprintf("%s streamed %s through a plugin", fmtSize(b.opts.streamMiB), t.name)
		if t.res.bytes == 0 {
			row(name, "–", "peak RSS < 64 MiB per process", "not measured")
			continue
		}
		peak := max(t.res.hostKiB, t.res.pluginKiB)
		since := ""
		if t.res.sinceStart {
			since = ", peaks since process start"
		}
		row(name, fmt.Sprintf("%.0f MB/s; peak RSS hostd %.1f MiB, %s plugin %.1f MiB%s", t.res.mbps(),
			float64(t.res.hostKiB)/1024, t.res.plugin, float64(t.res.pluginKiB)/1024, since),
			"peak RSS < 64 MiB per process", verdict(float64(peak), peak < 64<<10))
	}
	fmt.Fprintf(&w, "\nByte pipes: MB/s are medians over rounds of %s each; the ratio is the median of the per-round ratios.\n", fmtSize(b.opts.pipeMiB))
	if b.opts.streamMiB != 1024 {
		fmt.Fprintf(&w, "\nStreams moved %s each, not the 1 GiB of the issue (-stream-mib).\n", fmtSize(b.opts.streamMiB))
	}
	w.WriteString(r.issue14Table(b.opts.conns))
	w.WriteString(r.clientTable())
	w.WriteString(r.proxyMarkdown())
	for _, f := range r.failures {
		fmt.Fprintf(&w, "\nFAILED: %s\n", f)
	}
	for _, s := range r.warnings {
		fmt.Fprintf(&w, "\nWarning: %s\n", s)
	}
	return w.String()
}

// others is the median, over the hello-world runs, of the CPUs that
// processes other than the bench's own used meanwhile.
func (r *results) others() float64 {
	var xs []float64
	for _, rs := range [][]round{r.hello, r.hop} {
		for _, rd := range rs {
			for _, sm := range rd {
				xs = append(xs, sm.others)
			}
		}
	}
	return median(xs)
}

// spread formats per-round ratios as their median and range.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	return fmt.Sprintf("**%s** (rounds %.2f–%s)", fmtX(median(xs)), minOf(xs), fmtX(maxOf(xs)))
}

// signed formats a latency difference with its sign.
func signed(ns float64) string {
	if !math.IsNaN(ns) && ns >= 0 {
		return "+" + fmtLat(ns)
	}
	return fmtLat(ns)
}
