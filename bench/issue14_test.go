package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// at is a sample of a run: req/s, p50 in µs, CPU µs/request of the whole
// tree and of the server's own process.
func at(rps float64, p50us int, cpu, own float64) sample {
	return sample{loadResult: loadResult{rps: rps, p50: time.Duration(p50us) * time.Microsecond}, cpuPerReq: cpu, ownCPUPerReq: own}
}

// issue14Rows returns the issue 14 table's rows, each cut into its cells.
func issue14Rows(t *testing.T, r *results) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	for line := range strings.SplitSeq(r.issue14Table(64), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| issue 14 target") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		require.Len(t, cells, 4, line)
		rows[cells[0]] = cells[1:]
	}
	return rows
}

func TestIssue14TableTakesEachRatioWithinItsRound(t *testing.T) {
	r := &results{
		node: "Node v20.20.2",
		hello: []round{
			{srvHostd: at(40000, 900, 27, 15), srvNetHTTP: at(50000, 800, 20, 20), srvNode: at(40000, 1000, 25, 25)},
			{srvHostd: at(45000, 900, 26, 14), srvNetHTTP: at(45000, 800, 20, 20), srvNode: at(30000, 1000, 25, 25)},
			{srvHostd: at(30000, 900, 30, 16), srvNetHTTP: at(40000, 800, 20, 20), srvNode: at(20000, 1000, 25, 25)},
		},
		hop: []round{
			{srvHostd: at(5000, 180, 0, 0), srvEngine: at(9000, 90, 0, 0), srvRelay: at(8000, 130, 0, 0), srvNode: at(7000, 120, 0, 0)},
			{srvHostd: at(5000, 130, 0, 0), srvEngine: at(9000, 100, 0, 0), srvRelay: at(8000, 120, 0, 0), srvNode: at(7000, 130, 0, 0)},
			{srvHostd: at(5000, 170, 0, 0), srvEngine: at(9000, 90, 0, 0), srvRelay: at(8000, 140, 0, 0), srvNode: at(7000, 100, 0, 0)},
		},
		echo: []round{
			{srvHostd: at(30000, 0, 40, 22), srvNode: at(25000, 0, 35, 35)},
			{srvHostd: at(30000, 0, 42, 23), srvNode: at(20000, 0, 36, 36)},
			{srvHostd: at(26000, 0, 41, 21), srvNode: at(26000, 0, 34, 34)},
		},
		echoC1: []round{
			{srvHostd: at(5000, 200, 0, 0), srvNode: at(8000, 100, 0, 0)},
			{srvHostd: at(5000, 100, 0, 0), srvNode: at(8000, 125, 0, 0)},
			{srvHostd: at(5000, 180, 0, 0), srvNode: at(8000, 120, 0, 0)},
		},
	}
	rows := issue14Rows(t, r)
	require.Len(t, rows, 9)

	require.Equal(t, []string{"+80 µs, rounds +30 µs to +90 µs (p50 170 µs vs 90 µs; p99 0 µs vs 0 µs)", "≤ +40 µs", "**missed**"},
		rows["plugin hop at one request in flight: hostd p50 − engine p50"], "the median of the per-round differences")
	require.Equal(t, []string{"+40 µs, rounds +20 µs to +50 µs (p50 130 µs vs 90 µs; p99 0 µs vs 0 µs)", "–", "for reference"},
		rows["the hop's floor: the engine relaying 32 bytes to a second process and back, p50 − engine p50"], "the relay against the engine, round by round (40, 20, 50)")
	require.Equal(t, []string{"+30 µs, rounds +10 µs to +50 µs (p50 170 µs vs 130 µs; p99 0 µs vs 0 µs)", "–", "for reference"},
		rows["hostd's hop above that floor: hostd p50 − relay p50"], "hostd against the relay, round by round (50, 10, 30)")
	require.Equal(t, []string{"180 µs vs 120 µs, **1.50x** (rounds 0.80–2.00x)", "≤ 1.0x", "**missed**"},
		rows["one request in flight, GET /echo through hostd (echo plugin) vs the same JSON from Node in-process: p50"],
		"the median of the per-round ratios (2.00, 0.80, 1.50), not the ratio of the medians")
	require.Equal(t, []string{"40,000 vs 30,000 req/s, **1.50x** (rounds 1.00–1.50x)", "≥ 1.3x", "**met**"},
		rows["hello world through a plugin vs Node in-process: req/s"])
	require.Equal(t, []string{"170 µs vs 120 µs, **1.50x** (rounds 1.00–1.70x)", "–", "for reference"},
		rows["hello world through a plugin vs Node in-process at one request in flight: p50"])
	require.Equal(t, []string{"30,000 vs 25,000 req/s, **1.20x** (rounds 1.00–1.50x)", "≥ 1.2x", "**met**"},
		rows["GET /echo, the echo plugin's JSON through hostd vs the same JSON from Node in-process: req/s"])
	require.Equal(t, []string{"27.0 µs (hostd 15.0, plugin 12.0) vs 20.0 µs, **1.35x** (rounds 1.30–1.50x)", "≤ 1.0x", "**missed**"},
		rows["CPU per request, host + plugin, vs net/http in-process (hello world)"], "the split: the host's process, then its children")
	require.Equal(t, []string{"41.0 µs (hostd 22.0, plugin 19.0) vs 35.0 µs, **1.17x** (rounds 1.14–1.21x)", "–", "for reference"},
		rows["CPU per request of GET /echo, host + plugin, vs Node in-process"])
}

func TestIssue14TableSaysWhatWasNotMeasured(t *testing.T) {
	t.Run("without Node", func(t *testing.T) {
		r := &results{hello: []round{{srvHostd: at(40000, 900, 27, 15), srvNetHTTP: at(50000, 800, 20, 20)}}}
		rows := issue14Rows(t, r)
		require.Equal(t, []string{"Node not installed", "≥ 1.3x", "not measured"}, rows["hello world through a plugin vs Node in-process: req/s"])
		require.Equal(t, "not measured", rows["GET /echo, the echo plugin's JSON through hostd vs the same JSON from Node in-process: req/s"][2])
		require.Equal(t, "**missed**", rows["CPU per request, host + plugin, vs net/http in-process (hello world)"][2], "the CPU row needs no Node")
	})
	t.Run("without the echo section", func(t *testing.T) {
		rows := issue14Rows(t, &results{node: "Node v20.20.2"})
		require.Equal(t, []string{"–", "≥ 1.2x", "not measured"},
			rows["GET /echo, the echo plugin's JSON through hostd vs the same JSON from Node in-process: req/s"])
		require.Equal(t, []string{"–", "–", "not measured"}, rows["CPU per request of GET /echo, host + plugin, vs Node in-process"])
	})
}

func TestDetailsShowTheC1RoundsWithNodeAndSplitHostdsCPU(t *testing.T) {
	r := &results{
		servers: []string{srvHostd, srvEngine, srvNetHTTP, srvNode},
		hop:     []round{{srvHostd: at(5000, 180, 150, 100), srvEngine: at(9000, 90, 25, 25), srvRelay: at(8000, 130, 60, 40), srvNode: at(7000, 120, 90, 90)}},
		echo:    []round{{srvHostd: at(30000, 0, 40, 22), srvNode: at(25000, 0, 35, 35)}},
		echoC1:  []round{{srvHostd: at(5000, 200, 180, 120), srvNode: at(8000, 100, 85, 85)}},
	}
	b := &bench{opts: options{conns: 64, duration: 2 * time.Second, c1Duration: time.Second}}
	d := r.details(b)
	require.Contains(t, d, "| 1 | 180 µs / 0 µs (150.0 = 100.0 host + 50.0 plugin) | 90 µs / 0 µs (25.0) | 130 µs / 0 µs (60.0 = 40.0 host + 20.0 plugin) | +90 µs | +40 µs | 120 µs / 0 µs (90.0) | 1.50x |\n")
	require.Contains(t, d, "| 1 | 30,000 (0 µs, 40.0 = 22.0 host + 18.0 plugin) | 25,000 (0 µs, 35.0) | 1.20x |"+
		" 200 µs / 0 µs (180.0 = 120.0 host + 60.0 plugin) | 100 µs / 0 µs (85.0) | 2.00x |\n")
}
