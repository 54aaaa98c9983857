package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The reverse proxies of the proxy section, in their first-round order,
// all in front of the same upstream: Go's net/http hello world.
const (
	pxHostd = "hostd+proxy"
	pxNode  = "node"
	pxGo    = "ReverseProxy"
	pxNginx = "nginx"
)

var describeProxy = map[string]string{
	pxHostd: "hostd + proxy plugin",
	pxNode:  "Node.js http.request proxy",
	pxGo:    "Go httputil.ReverseProxy",
	pxNginx: "nginx proxy_pass, 1 worker",
}

// nodeProxy is the Node.js reverse proxy: http.request with a keep-alive
// Agent, the answer piped back, as a Node developer writes it.
const nodeProxy = `'use strict';
const http = require('http');
const [host, port, upHost, upPort] = [process.argv[2], Number(process.argv[3]), process.argv[4], Number(process.argv[5])];
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const hop = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade'];
const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  for (const h of hop) delete headers[h];
  const up = http.request({ host: upHost, port: upPort, method: req.method, path: req.url, headers, agent }, (ures) => {
    const out = { ...ures.headers };
    for (const h of hop) delete out[h];
    res.writeHead(ures.statusCode, out);
    ures.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 600000;
server.listen(port, host, 4096, () => console.log('listening on ' + host + ':' + port));
`

// serveReverseProxy is the "revproxy" helper: httputil.ReverseProxy to
// target with a pool of 64 connections, as the proxy plugin is set.
func serveReverseProxy(addr, target string) error {
	u, err := url.Parse("http://" + target)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, IdleConnTimeout: 10 * time.Minute}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := &http.Server{Handler: rp, IdleTimeout: 10 * time.Minute}
	return s.Serve(l)
}

// nginxConfig is nginx as a reverse proxy to upstream: one worker, a pool
// of 64 keep-alive connections as the others have, everything it writes in
// dir. master_process off keeps it one process running as the bench's
// user, so that it can use dir whoever runs the bench.
func nginxConfig(dir, addr, upstream string) string {
	return fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
error_log %[1]s/nginx-error.log warn;
pid %[1]s/nginx.pid;

events {
    worker_connections 4096;
}

http {
    access_log off;
    client_body_temp_path %[1]s/nginx-body;
    proxy_temp_path %[1]s/nginx-proxy;
    fastcgi_temp_path %[1]s/nginx-fastcgi;
    uwsgi_temp_path %[1]s/nginx-uwsgi;
    scgi_temp_path %[1]s/nginx-scgi;
    keepalive_timeout 600s;
    keepalive_requests 100000000;

    upstream hello {
        server %[3]s;
        keepalive 64;
        keepalive_requests 100000000;
        keepalive_timeout 600s;
    }

    server {
        listen %[2]s;
        location / {
            proxy_pass http://hello;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`, dir, addr, upstream)
}

// proxyConfig is hostd with the proxy plugin in front of upstream.
func (b *bench) proxyConfig(addr, upstream string) string {
	return fmt.Sprintf(`[server]
listen = [%q]
keep_alive_timeout = 600000

[plugins.proxy]
cmd = %q
[plugins.proxy.config]
upstream = "http://%s"
max_sockets = 64

[[routes]]
path = "/"
plugin = "proxy"
`, addr, filepath.Join(b.bin, "proxy"), upstream)
}

// runProxy puts each proxy in front of one upstream and measures them in
// interleaved rounds, counting only the proxy's own CPU.
func (b *bench) runProxy(ctx context.Context, res *results) error {
	up, err := b.startServer(ctx, srvNetHTTP)
	if err != nil {
		return fmt.Errorf("starting the upstream: %w", err)
	}
	names := []string{pxHostd, pxGo}
	if b.node != "" {
		names = append(names, pxNode)
	}
	if b.nginx != "" {
		names = append(names, pxNginx)
	}
	srv := make(map[string]*server)
	for _, name := range names {
		s, err := b.startProxy(ctx, name, up.addr)
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		srv[name] = s
	}
	for _, name := range names {
		b.logf("warm-up: %s, %v", name, b.opts.warmup)
		if _, err := b.load(ctx, srv[name], b.opts.conns, b.opts.warmup); err != nil {
			return fmt.Errorf("warming up %s: %w", name, err)
		}
	}
	res.proxies = names
	for r := range b.opts.rounds {
		rd := round{}
		for _, name := range rotate(names, r) {
			sm, err := b.measure(ctx, srv[name], b.opts.conns, b.opts.duration)
			if err != nil {
				return err
			}
			rd[name] = sm
			b.logf("round %d/%d c=%d %-12s %8.0f req/s  p50 %-8v p99 %-8v %5.1f µs CPU/req%s", r+1, b.opts.rounds, b.opts.conns,
				name, sm.rps, sm.p50.Round(time.Microsecond), sm.p99.Round(time.Microsecond), sm.cpuPerReq, badNote(sm.bad))
			res.warnBad(name, sm.bad)
		}
		res.proxy = append(res.proxy, rd)
	}
	return nil
}

// startProxy starts one of the proxies on a fresh port.
func (b *bench) startProxy(ctx context.Context, name, upstream string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var p *proc
	switch name {
	case pxHostd:
		s, err := b.startHostd(ctx, "hostd-proxy", addr, b.proxyConfig(addr, upstream), "/")
		if s != nil {
			s.name = name
		}
		return s, err
	case pxGo:
		p, err = b.procs.start("revproxy", []string{envHelper + "=revproxy", envAddr + "=" + addr, envTarget + "=" + upstream}, b.self)
	case pxNode:
		script := filepath.Join(b.dir, "proxy.js")
		if err := os.WriteFile(script, []byte(nodeProxy), 0o644); err != nil {
			return nil, err
		}
		host, port, _ := net.SplitHostPort(addr)
		upHost, upPort, _ := net.SplitHostPort(upstream)
		p, err = b.procs.start("node-proxy", nil, b.node, script, host, port, upHost, upPort)
	case pxNginx:
		conf := filepath.Join(b.dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(nginxConfig(b.dir, addr, upstream)), 0o644); err != nil {
			return nil, err
		}
		// -e: the error log before the configuration is read, which would
		// otherwise be the packaged path (/var/log/nginx), maybe not writable.
		p, err = b.procs.start("nginx", nil, b.nginx, "-p", b.dir, "-c", conf, "-e", filepath.Join(b.dir, "nginx-error.log"))
	default:
		return nil, fmt.Errorf("unknown proxy %q", name)
	}
	if err != nil {
		return nil, err
	}
	s := &server{name: name, addr: addr, proc: p}
	return s, b.waitHTTP(ctx, s, "/")
}

// proxyDetails are the proxy section's per-round figures.
func (r *results) proxyDetails(b *bench) string {
	if len(r.proxy) == 0 {
		return ""
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\nReverse proxies in front of Go's net/http hello world, c=%d, %v per run: req/s (p99, proxy CPU µs/request)\n\n| round | order |", b.opts.conns, b.opts.duration)
	for _, s := range r.proxies {
		fmt.Fprintf(&w, " %s |", s)
	}
	fmt.Fprintf(&w, "\n|---|---|%s\n", strings.Repeat("---|", len(r.proxies)))
	for i, rd := range r.proxy {
		fmt.Fprintf(&w, "| %d | %s |", i+1, strings.Join(rotate(r.proxies, i), " "))
		for _, s := range r.proxies {
			sm := rd[s]
			fmt.Fprintf(&w, " %s (%s, %.1f) |", fmtRPS(sm.rps), fmtLat(float64(sm.p99)), sm.cpuPerReq)
		}
		fmt.Fprintln(&w)
	}
	return w.String()
}

// proxyMarkdown is the proxy section's summary, with issue 11's target:
// ahead of Node and of httputil.ReverseProxy.
func (r *results) proxyMarkdown() string {
	if len(r.proxy) == 0 {
		return ""
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\n| reverse proxy (upstream: Go net/http hello world) | req/s, median (min–max) | p50 | p99 | proxy CPU µs/req | hostd+proxy vs it, req/s | CPU/req |\n|---|---|---|---|---|---|---|\n")
	for _, s := range r.proxies {
		rs := perRound(r.proxy, valueOf(s, rps))
		vsRPS, vsCPU := "–", "–"
		if s != pxHostd {
			vsRPS, vsCPU = spread(perRound(r.proxy, ratioOf(pxHostd, s, rps))), spread(perRound(r.proxy, ratioOf(pxHostd, s, cpu)))
		}
		fmt.Fprintf(&w, "| %s | %s (%s–%s) | %s | %s | %s | %s | %s |\n", describeProxy[s],
			fmtRPS(median(rs)), fmtRPS(minOf(rs)), fmtRPS(maxOf(rs)),
			fmtLat(median(perRound(r.proxy, valueOf(s, p50)))), fmtLat(median(perRound(r.proxy, valueOf(s, p99)))),
			fmtF(median(perRound(r.proxy, valueOf(s, cpu))), "%.1f"), vsRPS, vsCPU)
	}
	fmt.Fprintf(&w, "\nProxy CPU counts hostd and its proxy plugin, not the upstream.")
	if !slices.Contains(r.proxies, pxNginx) {
		fmt.Fprintf(&w, " nginx is left out (not found, or -nginx \"\").")
	}
	fmt.Fprintf(&w, " Issue 11's target, ahead of Node and of httputil.ReverseProxy in req/s: ")
	var verdicts []string
	for _, s := range r.proxies {
		if s == pxHostd || s == pxNginx {
			continue // nginx is for reference, not a target
		}
		x := median(perRound(r.proxy, ratioOf(pxHostd, s, rps)))
		verdicts = append(verdicts, fmt.Sprintf("vs %s %s (%s)", describeProxy[s], fmtX(x), verdict(x, x > 1)))
	}
	fmt.Fprintf(&w, "%s.\n", strings.Join(verdicts, ", "))
	return w.String()
}
