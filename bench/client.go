package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostd/hostd/sdk/client"
)

// The clients of the client section, as its table names them.
const (
	cliHostd   = "hostd sdk/client"
	cliNetHTTP = "Go net/http"
	cliNode    = "Node http.request"
)

// Environment of a client helper process.
const (
	envDuration = "HOSTD_BENCH_DURATION" // how long the client runs
	envConns    = "HOSTD_BENCH_CONNS"    // its concurrent requests, and its pool
)

// clientSample is one client's run: requests per second, and the CPU its
// process spent per request.
type clientSample struct {
	rps, cpuPerReq float64
	bad            int64
}

// nodeClient is Node's side: keep-alive GETs through an http.Agent with
// maxSockets, as many in flight as sockets, for a time; it prints the
// count of answers and of failures.
const nodeClient = `const http = require('http');
const [host, port, conns, ms] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: +conns });
let n = 0, bad = 0, active = +conns, stop = false;
setTimeout(() => { stop = true; }, +ms);
function one() {
  if (stop) { if (--active === 0) { console.log(n + ' ' + bad); agent.destroy(); } return; }
  http.get({ host, port, path: '/', agent }, (res) => {
    if (res.statusCode !== 200) bad++;
    res.resume();
    res.on('end', () => { n++; one(); });
  }).on('error', () => { bad++; one(); });
}
for (let i = 0; i < +conns; i++) one();
`

// runClients measures the client half: the same keep-alive GETs of the
// hello world from net/http's server, at -connections, by hostd's client
// with an Agent, Go's net/http client and Node's http.request with an
// Agent, each in a process of its own, in interleaved rounds.
func (b *bench) runClients(ctx context.Context, res *results) error {
	srv, err := b.startServer(ctx, srvNetHTTP)
	if err != nil {
		return err
	}
	clients := []string{cliHostd, cliNetHTTP}
	if b.node != "" {
		clients = append(clients, cliNode)
		if err := os.WriteFile(filepath.Join(b.dir, "client.js"), []byte(nodeClient), 0o644); err != nil {
			return err
		}
	}
	res.clientNames = clients
	for r := range b.opts.rounds {
		rd := map[string]clientSample{}
		for _, name := range rotate(clients, r) {
			s, err := b.runClient(ctx, name, srv.addr)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			rd[name] = s
			b.logf("round %d/%d c=%d %-18s %8.0f req/s  %5.1f µs CPU/req%s", r+1, b.opts.rounds, b.opts.conns, name, s.rps, s.cpuPerReq, badNote(s.bad))
			res.warnBad(name, s.bad)
		}
		res.clients = append(res.clients, rd)
	}
	return nil
}

// runClient runs one client process for -duration against addr.
func (b *bench) runClient(ctx context.Context, name, addr string) (clientSample, error) {
	ms := strconv.FormatInt(b.opts.duration.Milliseconds(), 10)
	var cmd *exec.Cmd
	switch name {
	case cliNode:
		host, port, _ := strings.Cut(addr, ":")
		cmd = exec.CommandContext(ctx, b.node, filepath.Join(b.dir, "client.js"), host, port, strconv.Itoa(b.opts.conns), ms)
	default:
		mode := map[string]string{cliHostd: "client-hostd", cliNetHTTP: "client-nethttp"}[name]
		cmd = exec.CommandContext(ctx, b.self)
		cmd.Env = append(os.Environ(), envHelper+"="+mode, envAddr+"="+addr, envDuration+"="+ms, envConns+"="+strconv.Itoa(b.opts.conns))
	}
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		return clientSample{}, fmt.Errorf("%w: %s", err, out)
	}
	var n, bad int64
	if _, err := fmt.Sscan(string(out), &n, &bad); err != nil || n == 0 {
		return clientSample{}, fmt.Errorf("unexpected output %q", out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	// The process's own start and exit are in its CPU time and its wall
	// time alike; against a run of seconds they are small.
	return clientSample{
		rps:       float64(n) / min(elapsed, b.opts.duration+time.Second).Seconds(),
		cpuPerReq: float64(cpu.Microseconds()) / float64(n),
		bad:       bad,
	}, nil
}

// runClientHelper is a client process of the client section: conns loops
// of keep-alive GETs for the duration, then "answers failures" on stdout.
func runClientHelper(mode string) error {
	addr := os.Getenv(envAddr)
	d, err := time.ParseDuration(os.Getenv(envDuration) + "ms")
	if err != nil {
		return err
	}
	conns, err := strconv.Atoi(os.Getenv(envConns))
	if err != nil {
		return err
	}
	var get func(ctx context.Context) error
	switch mode {
	case "client-hostd":
		agent := client.NewAgent(client.AgentOptions{KeepAlive: true, MaxSockets: conns})
		defer agent.Destroy()
		url := "http://" + addr + "/"
		get = func(ctx context.Context) error {
			res, err := client.Get(ctx, url, &client.Options{Agent: agent})
			if err != nil {
				return err
			}
			defer res.Body.Close()
			if _, err := io.Copy(io.Discard, res.Body); err != nil {
				return err
			}
			if res.StatusCode != 200 {
				return fmt.Errorf("status %d", res.StatusCode)
			}
			return nil
		}
	case "client-nethttp":
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
		url := "http://" + addr + "/"
		get = func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			res, err := c.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			if _, err := io.Copy(io.Discard, res.Body); err != nil {
				return err
			}
			if res.StatusCode != 200 {
				return fmt.Errorf("status %d", res.StatusCode)
			}
			return nil
		}
	default:
		return fmt.Errorf("unknown client %q", mode)
	}
	ctx := context.Background()
	deadline := time.Now().Add(d)
	var n, bad atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if get(ctx) != nil {
					bad.Add(1)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Println(n.Load(), bad.Load())
	return nil
}

// clientTable is the client section's Markdown: req/s and the client
// process's CPU per request, each against Go's net/http client and
// Node's in the same round.
func (r *results) clientTable() string {
	if len(r.clients) == 0 {
		return ""
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\n| client (keep-alive GETs of net/http's hello world) | req/s, median (min–max) | client CPU µs/req | req/s vs net/http | CPU vs net/http |%s\n",
		map[bool]string{true: " req/s vs Node | CPU vs Node |", false: ""}[len(r.clientNames) > 2])
	fmt.Fprintf(&w, "|---|---|---|---|---|%s\n", map[bool]string{true: "---|---|", false: ""}[len(r.clientNames) > 2])
	per := func(f func(map[string]clientSample) (float64, bool)) []float64 {
		var xs []float64
		for _, rd := range r.clients {
			if x, ok := f(rd); ok {
				xs = append(xs, x)
			}
		}
		return xs
	}
	ratio := func(a, b string, field func(clientSample) float64) []float64 {
		return per(func(rd map[string]clientSample) (float64, bool) {
			x, y := field(rd[a]), field(rd[b])
			return x / y, y > 0
		})
	}
	rpsOf := func(s clientSample) float64 { return s.rps }
	cpuOf := func(s clientSample) float64 { return s.cpuPerReq }
	for _, name := range r.clientNames {
		rs := per(func(rd map[string]clientSample) (float64, bool) { return rd[name].rps, true })
		cs := per(func(rd map[string]clientSample) (float64, bool) { return rd[name].cpuPerReq, true })
		fmt.Fprintf(&w, "| %s | %s (%s–%s) | %.1f | %s | %s |", name, fmtRPS(median(rs)), fmtRPS(minOf(rs)), fmtRPS(maxOf(rs)), median(cs),
			fmtX(median(ratio(name, cliNetHTTP, rpsOf))), fmtX(median(ratio(name, cliNetHTTP, cpuOf))))
		if len(r.clientNames) > 2 {
			fmt.Fprintf(&w, " %s | %s |", fmtX(median(ratio(name, cliNode, rpsOf))), fmtX(median(ratio(name, cliNode, cpuOf))))
		}
		w.WriteString("\n")
	}
	w.WriteString("\nEach client runs in a process of its own, with as many requests in flight as the pool has sockets; CPU is that process's user + system time. Ratios are taken within each round, then the median over rounds.\n")
	return w.String()
}
