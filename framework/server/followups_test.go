package server_test

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

func TestAConnectionCloseTrailerEndsTheConnection(t *testing.T) {
	_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
		body, _ := io.ReadAll(req)
		_ = res.EndString(string(body))
	}}})
	c := dial(t, addr)
	// As llhttp does, the trailer ends keep-alive: what is pipelined
	// after it is not served.
	c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nConnection: close\r\n\r\n" +
		"GET /second HTTP/1.1\r\nHost: a\r\n\r\n")
	require.Equal(t, "hi", c.read().body)
	c.expectClosed()
}

func TestAPanickingHandlerCostsOnlyItsConnection(t *testing.T) {
	_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
		if req.URL() == "/panic" {
			panic("handler bug")
		}
		_ = res.EndString("fine")
	}}})
	c := dial(t, addr)
	c.send("GET /panic HTTP/1.1\r\nHost: a\r\n\r\n")
	c.expectClosed()
	d := dial(t, addr)
	d.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	require.Equal(t, "fine", d.read().body, "the server lives on")
}

func TestMaxRequestsPerSocketCountsOnlyHTTP11Requests(t *testing.T) {
	_, addr := start(t, server.Options{MaxRequestsPerSocket: 1, Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
		// A Content-Length of its own lets an HTTP/1.0 response keep the
		// connection.
		_ = res.SetHeader("Content-Length", "11")
		_ = res.EndString("hello world")
	}}})
	c := dial(t, addr)
	// Node counts requests only in its HTTP/1.1 branch: a keep-alive
	// HTTP/1.0 request does not use up the socket's allowance.
	c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
	first := c.read()
	require.Equal(t, "hello world", first.body)
	second := c.read()
	require.Equal(t, 200, second.status)
	require.True(t, strings.EqualFold(second.get("connection"), "close"), "the first HTTP/1.1 request reaches the limit")
}
