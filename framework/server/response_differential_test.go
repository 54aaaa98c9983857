package server_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hostd/hostd/framework/server"
)

// nodeRoutes is a Node v20 server whose responses exercise the
// ServerResponse API, one route per behaviour. ourRoutes does the same
// with our API, and TestResponseDifferentialAgainstNode compares the
// bytes.
const nodeRoutes = `
const http = require('node:http');
const routes = {
  '/status-404': (req, res) => { res.statusCode = 404; res.end(); },
  '/status-unknown': (req, res) => { res.writeHead(599); res.end(); },
  '/status-message': (req, res) => { res.statusMessage = 'Fine Thanks'; res.end('x'); },
  '/writehead-message': (req, res) => { res.writeHead(201, 'Made It', {'X-A': 'b'}); res.end(); },
  '/merge': (req, res) => { res.setHeader('Content-Type', 'text/html'); res.setHeader('X-Foo', 'bar'); res.writeHead(200, ['Content-Type', 'text/plain', 'X-Dup', '1', 'X-Dup', '2']); res.end('ok'); },
  '/merge-map': (req, res) => { res.setHeader('Content-Type', 'text/html'); res.setHeader('X-Foo', 'bar'); res.writeHead(200, {'Content-Type': 'text/plain'}); res.end('ok'); },
  '/writehead-list': (req, res) => { res.writeHead(200, ['X-Dup', '1', 'X-Dup', '2']); res.end('ok'); },
  '/case': (req, res) => { res.setHeader('X-CamelCase', 'v'); res.setHeader('x-lower', 'v'); res.appendHeader('X-CamelCase', 'w'); res.end(); },
  '/chunked': (req, res) => { res.write('a'); res.write('bc'); res.end('def'); },
  '/no-date': (req, res) => { res.sendDate = false; res.end('x'); },
  '/own-date': (req, res) => { res.setHeader('Date', 'Thu, 01 Jan 1970 00:00:00 GMT'); res.end('x'); },
  '/remove-date': (req, res) => { res.removeHeader('Date'); res.end('x'); },
  '/trailers': (req, res) => { res.writeHead(200, {'Trailer': 'X-Sum'}); res.write('data'); res.addTrailers({'X-Sum': '42', 'X-Other': 'a'}); res.end(); },
  '/trailers-dropped': (req, res) => { res.setHeader('Content-Length', '4'); res.addTrailers({'X-Sum': '42'}); res.end('data'); },
  '/early-hints': (req, res) => { res.writeEarlyHints({'link': ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'], 'x-trace': 'id'}); res.end('x'); },
  '/processing': (req, res) => { res.writeProcessing(); res.end('x'); },
  '/continue': (req, res) => { res.writeContinue(); res.end('x'); },
  '/no-content': (req, res) => { res.statusCode = 204; res.end('dropped'); },
  '/not-modified': (req, res) => { res.statusCode = 304; res.write('dropped'); res.end(); },
  '/204-writehead': (req, res) => { res.writeHead(204); res.end(); },
  '/body': (req, res) => { res.end('a body'); },
  '/body-write': (req, res) => { res.write('a body'); res.end(); },
  '/flush-headers': (req, res) => { res.flushHeaders(); setTimeout(() => res.end('late'), 20); },
  '/empty-end': (req, res) => { res.end(); },
  '/empty-write': (req, res) => { res.write(''); res.end(); },
  '/big': (req, res) => { res.end('x'.repeat(20000)); },
  '/big-chunked': (req, res) => { res.write('y'.repeat(20000)); res.end('z'); },
  '/own-te': (req, res) => { res.setHeader('Transfer-Encoding', 'chunked'); res.write('ab'); res.end(); },
  '/own-cl': (req, res) => { res.setHeader('Content-Length', '2'); res.write('ab'); res.end(); },
  '/remove-cl': (req, res) => { res.removeHeader('Content-Length'); res.end('abc'); },
  '/remove-te': (req, res) => { res.removeHeader('Transfer-Encoding'); res.write('abc'); res.end(); },
  '/connection-close': (req, res) => { res.setHeader('Connection', 'close'); res.end('x'); },
  '/connection-keep': (req, res) => { res.setHeader('Connection', 'keep-alive'); res.write('x'); res.end(); },
  '/cork': (req, res) => { res.cork(); res.write('a'); res.write('b'); res.uncork(); res.end(); },
  '/set-cookie': (req, res) => { res.setHeader('Set-Cookie', ['a=1', 'b=2']); res.end(); },
  '/multi-values': (req, res) => { res.setHeader('X-Multi', ['1', '2']); res.end(); },
  '/writehead-then-write': (req, res) => { res.writeHead(202, {'Content-Type': 'text/plain'}); res.write('a'); res.end('b'); },
  '/writehead-cl': (req, res) => { res.writeHead(200, {'Content-Length': '5'}); res.end('hello'); },
  '/async': (req, res) => { setTimeout(() => res.end('later'), 20); },
};
const server = http.createServer((req, res) => {
  req.resume();
  const route = routes[req.url];
  if (route) route(req, res); else { res.statusCode = 500; res.end('no route ' + req.url); }
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`

// ourRoutes are nodeRoutes written with our API.
var ourRoutes = map[string]func(req *server.IncomingMessage, res *server.ServerResponse){
	"/status-404":     func(_ *server.IncomingMessage, res *server.ServerResponse) { res.StatusCode = 404; _ = res.End() },
	"/status-unknown": func(_ *server.IncomingMessage, res *server.ServerResponse) { _ = res.WriteHead(599); _ = res.End() },
	"/status-message": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		res.StatusMessage = "Fine Thanks"
		_ = res.EndString("x")
	},
	"/writehead-message": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		res.StatusMessage = "Made It"
		_ = res.WriteHead(201, "X-A", "b")
		_ = res.End()
	},
	"/merge": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Content-Type", "text/html")
		_ = res.SetHeader("X-Foo", "bar")
		_ = res.WriteHead(200, "Content-Type", "text/plain", "X-Dup", "1", "X-Dup", "2")
		_ = res.EndString("ok")
	},
	"/merge-map": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Content-Type", "text/html")
		_ = res.SetHeader("X-Foo", "bar")
		_ = res.WriteHeadMap(200, map[string][]string{"Content-Type": {"text/plain"}})
		_ = res.EndString("ok")
	},
	"/writehead-list": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteHead(200, "X-Dup", "1", "X-Dup", "2")
		_ = res.EndString("ok")
	},
	"/case": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("X-CamelCase", "v")
		_ = res.SetHeader("x-lower", "v")
		_ = res.AppendHeader("X-CamelCase", "w")
		_ = res.End()
	},
	"/chunked": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_, _ = res.WriteString("a")
		_, _ = res.WriteString("bc")
		_ = res.EndString("def")
	},
	"/no-date": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		res.SendDate = false
		_ = res.EndString("x")
	},
	"/own-date": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Date", "Thu, 01 Jan 1970 00:00:00 GMT")
		_ = res.EndString("x")
	},
	"/remove-date": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.RemoveHeader("Date")
		_ = res.EndString("x")
	},
	"/trailers": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteHeadMap(200, map[string][]string{"Trailer": {"X-Sum"}})
		_, _ = res.WriteString("data")
		_ = res.AddTrailers("X-Sum", "42", "X-Other", "a")
		_ = res.End()
	},
	"/trailers-dropped": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Content-Length", "4")
		_ = res.AddTrailers("X-Sum", "42")
		_ = res.EndString("data")
	},
	"/early-hints": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteEarlyHints("link", "</a.css>; rel=preload; as=style", "link", "</b.js>; rel=preload; as=script", "x-trace", "id")
		_ = res.EndString("x")
	},
	"/processing": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteProcessing()
		_ = res.EndString("x")
	},
	"/continue": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteContinue()
		_ = res.EndString("x")
	},
	"/no-content": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		res.StatusCode = 204
		_ = res.EndString("dropped")
	},
	"/not-modified": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		res.StatusCode = 304
		_, _ = res.WriteString("dropped")
		_ = res.End()
	},
	"/204-writehead": func(_ *server.IncomingMessage, res *server.ServerResponse) { _ = res.WriteHead(204); _ = res.End() },
	"/body":          func(_ *server.IncomingMessage, res *server.ServerResponse) { _ = res.EndString("a body") },
	"/body-write": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_, _ = res.WriteString("a body")
		_ = res.End()
	},
	"/flush-headers": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.FlushHeaders()
		returned := make(chan struct{})
		defer close(returned)
		go func() { <-returned; _ = res.EndString("late") }() // as Node's setTimeout: after the handler
	},
	"/empty-end":   func(_ *server.IncomingMessage, res *server.ServerResponse) { _ = res.End() },
	"/empty-write": func(_ *server.IncomingMessage, res *server.ServerResponse) { _, _ = res.WriteString(""); _ = res.End() },
	"/big": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.EndString(strings.Repeat("x", 20000))
	},
	"/big-chunked": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_, _ = res.WriteString(strings.Repeat("y", 20000))
		_ = res.EndString("z")
	},
	"/own-te": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Transfer-Encoding", "chunked")
		_, _ = res.WriteString("ab")
		_ = res.End()
	},
	"/own-cl": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Content-Length", "2")
		_, _ = res.WriteString("ab")
		_ = res.End()
	},
	"/remove-cl": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.RemoveHeader("Content-Length")
		_ = res.EndString("abc")
	},
	"/remove-te": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.RemoveHeader("Transfer-Encoding")
		_, _ = res.WriteString("abc")
		_ = res.End()
	},
	"/connection-close": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Connection", "close")
		_ = res.EndString("x")
	},
	"/connection-keep": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Connection", "keep-alive")
		_, _ = res.WriteString("x")
		_ = res.End()
	},
	"/cork": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		res.Cork()
		_, _ = res.WriteString("a")
		_, _ = res.WriteString("b")
		_ = res.Uncork()
		_ = res.End()
	},
	"/set-cookie": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Set-Cookie", "a=1", "b=2")
		_ = res.End()
	},
	"/multi-values": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("X-Multi", "1", "2")
		_ = res.End()
	},
	"/writehead-then-write": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteHeadMap(202, map[string][]string{"Content-Type": {"text/plain"}})
		_, _ = res.WriteString("a")
		_ = res.EndString("b")
	},
	"/writehead-cl": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.WriteHead(200, "Content-Length", "5")
		_ = res.EndString("hello")
	},
	"/async": func(_ *server.IncomingMessage, res *server.ServerResponse) {
		returned := make(chan struct{})
		defer close(returned)
		go func() { <-returned; _ = res.EndString("later") }()
	},
}

func routeHandler(req *server.IncomingMessage, res *server.ServerResponse) {
	if h, ok := ourRoutes[req.URL()]; ok {
		h(req, res)
		return
	}
	res.StatusCode = 500
	_ = res.EndString("no route " + req.URL())
}

func TestResponseDifferentialAgainstNode(t *testing.T) {
	nodeAddr := startNode(t, nodeRoutes)
	_, ourAddr := start(t, server.Options{Handlers: server.Handlers{Request: routeHandler}})

	type tc = diffCase
	var cases []tc
	for _, route := range slices.Sorted(maps.Keys(ourRoutes)) {
		cases = append(cases, tc{name: "GET " + route, raw: "GET " + route + " HTTP/1.1\r\nHost: a\r\n\r\n"})
	}
	for _, route := range []string{"/body", "/body-write", "/chunked", "/big", "/big-chunked", "/own-cl", "/own-te", "/no-content", "/empty-end", "/writehead-cl"} {
		cases = append(cases, tc{name: "HEAD " + route, raw: "HEAD " + route + " HTTP/1.1\r\nHost: a\r\n\r\n"})
	}
	for _, route := range []string{"/body", "/chunked", "/big", "/own-cl", "/status-404", "/empty-end", "/remove-cl", "/connection-keep"} {
		cases = append(cases, tc{name: "HTTP/1.0 GET " + route, raw: "GET " + route + " HTTP/1.0\r\n\r\n"})
		cases = append(cases, tc{name: "HTTP/1.0 keep-alive GET " + route, raw: "GET " + route + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"})
	}
	cases = append(cases,
		tc{name: "pipelined async and sync responses", raw: "GET /async HTTP/1.1\r\nHost: a\r\n\r\nGET /chunked HTTP/1.1\r\nHost: a\r\n\r\nHEAD /body HTTP/1.1\r\nHost: a\r\n\r\nGET /flush-headers HTTP/1.1\r\nHost: a\r\n\r\n"},
		tc{name: "pipelined after a response with no framing", raw: "GET /remove-te HTTP/1.1\r\nHost: a\r\n\r\nGET /body HTTP/1.1\r\nHost: a\r\n\r\n"},
	)
	// Deliberate differences: a length known as the head goes out is
	// declared.
	for i := range cases {
		c := &cases[i]
		switch c.name {
		case "HEAD /body":
			c.note, c.adjust = noteLength, declaredLength(6, false)
		case "HEAD /big":
			c.note, c.adjust = noteLength, declaredLength(20000, false)
		case "HTTP/1.0 GET /body", "HTTP/1.0 GET /big", "HTTP/1.0 GET /status-404", "HTTP/1.0 GET /empty-end":
			c.note, c.adjust = noteLength, declaredLength(-1, false)
		case "HTTP/1.0 keep-alive GET /body", "HTTP/1.0 keep-alive GET /big", "HTTP/1.0 keep-alive GET /status-404", "HTTP/1.0 keep-alive GET /empty-end":
			c.note, c.adjust = noteLength, declaredLength(-1, true)
		case "pipelined async and sync responses":
			c.note = noteLength
			c.adjust = func(node string) string {
				return strings.Replace(node, "timeout=5\r\n\r\nHTTP", "timeout=5\r\nContent-Length: 6\r\n\r\nHTTP", 1)
			}
		}
	}

	compareWithNode(t, nodeAddr, ourAddr, cases)
}
