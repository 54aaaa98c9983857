package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	hserver "github.com/hostd/hostd/framework/server"
)

// The bench re-executes itself to run the servers that are not hostd or
// Node, each in its own process so that its CPU time and memory can be
// read apart from the load generator's. envHelper selects the mode.
const (
	envHelper = "HOSTD_BENCH_HELPER" // engine, relay, nethttp, echo, forward or revproxy
	envAddr   = "HOSTD_BENCH_ADDR"   // where the helper listens
	envTarget = "HOSTD_BENCH_TARGET" // where forward connects to
)

// helloBody is the answer of every hello-world server in the bench.
var helloBody = []byte("Hello, World!")

// serveHelper runs the helper mode; it returns only on error.
func serveHelper(mode string) error {
	addr := os.Getenv(envAddr)
	switch mode {
	case "engine":
		// hostd's engine with the handler in-process.
		s := hserver.New(hserver.Options{
			KeepAliveTimeout: 10 * time.Minute,
			Handlers: hserver.Handlers{Request: func(req *hserver.IncomingMessage, res *hserver.ServerResponse) {
				_ = res.SetHeader("Content-Type", "text/plain")
				_ = res.End(helloBody)
			}},
		})
		if _, err := s.Listen(addr); err != nil {
			return err
		}
		select {}
	case "relay":
		return serveRelay(addr)
	case "relaychild":
		return relayChild()
	case "nethttp":
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		s := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write(helloBody)
			}),
			IdleTimeout: 10 * time.Minute,
		}
		return s.Serve(l)
	case "echo":
		// A plain TCP echo: the baseline for the upgraded echo plugin,
		// which does the same io.Copy on the socket hostd passed it.
		return serveTCP(addr, func(c *net.TCPConn) {
			_, _ = io.Copy(c, c)
			_ = c.CloseWrite()
		})
	case "revproxy":
		return serveReverseProxy(addr, os.Getenv(envTarget))
	case "forward":
		// A plain TCP forwarder: the baseline for the CONNECT tunnel,
		// copying both ways as the tunnel plugin does.
		target := os.Getenv(envTarget)
		return serveTCP(addr, func(c *net.TCPConn) {
			up, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer up.Close()
			var wg sync.WaitGroup
			wg.Go(func() { copyHalf(c, up.(*net.TCPConn)) })
			copyHalf(up.(*net.TCPConn), c)
			wg.Wait()
		})
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// serveTCP accepts connections on addr and runs handle for each, closing
// the connection after it.
func serveTCP(addr string, handle func(*net.TCPConn)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			handle(c.(*net.TCPConn))
		}()
	}
}

// copyHalf copies src to dst (a splice between TCP sockets), then passes
// the end of file on.
func copyHalf(dst, src *net.TCPConn) {
	_, _ = io.Copy(dst, src)
	_ = dst.CloseWrite()
}

// nodeServer is the Node.js hello world: http.createServer with the same
// handler, and a keep-alive timeout long enough that idle benchmark
// connections are not closed.
const nodeServer = `'use strict';
const http = require('http');
const body = Buffer.from('Hello, World!');
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(body);
});
server.keepAliveTimeout = 600000;
const [host, port] = [process.argv[2], Number(process.argv[3])];
server.listen(port, host, 4096, () => console.log('listening on ' + host + ':' + port));
`
