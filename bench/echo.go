package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hostd/hostd/internal/nodeecho"
	"github.com/hostd/hostd/plugins/echo"
)

// echoPath is where the echo section's servers answer with the JSON
// description of the request.
const echoPath = "/echo"

// nodeEchoHandler is what the echo plugin does, written as a Node
// developer writes it (internal/nodeecho), with the plugin's default
// max_body. checkEcho verifies that both answer the load's request with
// the same bytes before any figure is taken.
var nodeEchoHandler = nodeecho.Handler(echo.DefaultMaxBody)

// nodeEchoServer serves nodeEchoHandler on the host and port of its
// arguments, with the hello-world server's keep-alive timeout.
var nodeEchoServer = `'use strict';
const http = require('http');
const server = http.createServer(` + nodeEchoHandler + `);
server.keepAliveTimeout = 600000;
const [host, port] = [process.argv[2], Number(process.argv[3])];
server.listen(port, host, 4096, () => console.log('listening on ' + host + ':' + port));
`

// echoConfig is hostd with the echo plugin, as its tests and examples
// configure it (max_body left at its default).
func (b *bench) echoConfig(addr string) string {
	return fmt.Sprintf(`[server]
listen = [%q]
keep_alive_timeout = 600000

[plugins.echo]
cmd = %q

[[routes]]
path = %q
plugin = "echo"
`, addr, filepath.Join(b.bin, "echo"), echoPath)
}

// runEcho compares GET /echo through hostd and its echo plugin with the
// same JSON from Node in-process: interleaved rounds at -connections,
// then at one connection. Without Node there is nothing to compare.
func (b *bench) runEcho(ctx context.Context, res *results) error {
	if b.node == "" {
		b.logf("echo: Node is left out: nothing to compare the echo plugin with")
		return nil
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	h, err := b.startHostd(ctx, "hostd-echo", addr, b.echoConfig(addr), echoPath)
	if err != nil {
		return fmt.Errorf("starting hostd with the echo plugin: %w", err)
	}
	h.path = echoPath
	n, err := b.startNodeEcho(ctx)
	if err != nil {
		return fmt.Errorf("starting Node's echo: %w", err)
	}
	// Both answer the load's request with the same bytes, or the
	// comparison is not of the same work.
	if err := checkEcho(ctx, h.addr, n.addr, h.addr); err != nil {
		return err
	}
	names := []string{srvHostd, srvNode}
	srv := map[string]*server{srvHostd: h, srvNode: n}
	if err := b.warmUp(ctx, names, srv); err != nil {
		return err
	}
	if res.echo, err = b.measureRounds(ctx, res, names, srv, b.opts.conns, b.opts.duration); err != nil {
		return err
	}
	res.echoC1, err = b.measureRounds(ctx, res, names, srv, 1, b.opts.c1Duration)
	return err
}

// startNodeEcho starts nodeEchoServer on a fresh port.
func (b *bench) startNodeEcho(ctx context.Context) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(b.dir, "echo.js")
	if err := os.WriteFile(script, []byte(nodeEchoServer), 0o644); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	p, err := b.procs.start("node-echo", nil, b.node, script, host, port)
	if err != nil {
		return nil, err
	}
	s := &server{name: srvNode, addr: addr, path: echoPath, proc: p}
	return s, b.waitHTTP(ctx, s, echoPath)
}

// loadRequest is the request wrk and internal/loadgen send for path,
// byte for byte.
func loadRequest(path, host string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
}

// checkEcho sends the load's request for echoPath, with the Host header
// host, to the servers at a and b, and fails unless both answer 200 with
// the same body.
func checkEcho(ctx context.Context, a, b, host string) error {
	req := loadRequest(echoPath, host)
	bodyA, err := askOnce(ctx, a, req)
	if err != nil {
		return err
	}
	bodyB, err := askOnce(ctx, b, req)
	if err != nil {
		return err
	}
	if !bytes.Equal(bodyA, bodyB) {
		return fmt.Errorf("the echo answers differ for %q:\nhostd: %s\nNode:  %s", req, bodyA, bodyB)
	}
	return nil
}

// askOnce sends the raw request req to addr on a connection of its own
// and returns the body of a 200 answer.
func askOnce(ctx context.Context, addr, req string) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, req); err != nil {
		return nil, fmt.Errorf("asking %s: %w", addr, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s's answer: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading %s's answer: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s to %q: %s", addr, resp.Status, req, body)
	}
	return body, nil
}

// echoDetails are the echo section's per-round figures.
func (r *results) echoDetails(b *bench) string {
	if len(r.echo) == 0 && len(r.echoC1) == 0 {
		return ""
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\nGET %s, the echo plugin's JSON through hostd vs the same JSON from Node: c=%d for %v, req/s (p99, server CPU µs/request); then c=1 for %v, p50 / p99 (CPU)\n\n",
		echoPath, b.opts.conns, b.opts.duration, b.opts.c1Duration)
	fmt.Fprintf(&w, "| round | hostd + echo plugin | Node | hostd/Node req/s | hostd, c=1 | Node, c=1 | hostd/Node p50 |\n|---|---|---|---|---|---|---|\n")
	for i := range max(len(r.echo), len(r.echoC1)) {
		h, n, h1, n1 := "–", "–", "–", "–"
		x, x1 := math.NaN(), math.NaN()
		if i < len(r.echo) {
			rd := r.echo[i]
			h, n = fmtSample(rd, srvHostd, true), fmtSample(rd, srvNode, false)
			x = one(ratioOf(srvHostd, srvNode, rps), rd)
		}
		if i < len(r.echoC1) {
			rd := r.echoC1[i]
			h1, n1 = fmtP50P99(rd, srvHostd, true), fmtP50P99(rd, srvNode, false)
			x1 = one(ratioOf(srvHostd, srvNode, p50), rd)
		}
		fmt.Fprintf(&w, "| %d | %s | %s | %s | %s | %s | %s |\n", i+1, h, n, fmtX(x), h1, n1, fmtX(x1))
	}
	return w.String()
}
