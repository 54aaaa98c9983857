package server_test

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

func TestTimeoutSocket(t *testing.T) {
	t.Parallel()

	// timeoutServer starts a server whose Timeout handler hands its socket
	// to the test and listens (or not).
	timeoutServer := func(t *testing.T, listened bool, request func(*server.IncomingMessage, *server.ServerResponse)) (*server.Server, string, *server.Clock, chan *server.TimeoutSocket) {
		sockets := make(chan *server.TimeoutSocket, 1)
		srv, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, KeepAliveTimeout: -1, Handlers: server.Handlers{
			Request: request,
			Timeout: func(socket *server.TimeoutSocket) bool {
				select {
				case sockets <- socket:
				default:
				}
				return listened
			},
		}})
		return srv, addr, clock, sockets
	}

	t.Run("a handler that does not listen leaves the socket to be destroyed", func(t *testing.T) {
		srv, addr, clock, sockets := timeoutServer(t, false, hello)
		c := dialManual(t, srv, addr)
		pass(clock, shortTimeout)
		recv(t, sockets, "the timeout event")
		c.expectClosed()
	})

	t.Run("on an idle connection the handler writes and closes", func(t *testing.T) {
		srv, addr, clock, sockets := timeoutServer(t, true, hello)
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, shortTimeout)
		socket := recv(t, sockets, "the timeout event")
		require.Equal(t, c.nc.LocalAddr().String(), socket.RemoteAddr().String())
		require.Equal(t, c.nc.RemoteAddr().String(), socket.LocalAddr().String())
		require.False(t, socket.HeadersSent())
		require.Equal(t, shortTimeout, socket.After())
		n, err := socket.Write([]byte("bye\n"))
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.NoError(t, socket.Close())
		require.Equal(t, "bye\n", c.readAll())
		_, err = socket.Write([]byte("more"))
		require.ErrorIs(t, err, net.ErrClosed)
	})

	t.Run("a write claims a response that has not begun", func(t *testing.T) {
		var pending atomic.Pointer[server.ServerResponse]
		srv, addr, clock, sockets := timeoutServer(t, true, func(_ *server.IncomingMessage, res *server.ServerResponse) { pending.Store(res) })
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		waitFor(t, "the handler", func() bool { return pending.Load() != nil })
		pass(clock, shortTimeout)
		socket := recv(t, sockets, "the timeout event")
		require.False(t, socket.HeadersSent())
		_, err := socket.Write([]byte("bye\n"))
		require.NoError(t, err)
		require.Error(t, pending.Load().EndString("too late"), "the response can no longer begin")
		require.NoError(t, socket.Close())
		require.Equal(t, "bye\n", c.readAll(), "only the handler's bytes")
	})

	t.Run("a write after a pipelined request's answer keeps that answer", func(t *testing.T) {
		var pending atomic.Pointer[server.ServerResponse]
		srv, addr, clock, sockets := timeoutServer(t, true, func(req *server.IncomingMessage, res *server.ServerResponse) {
			if req.URL() == "/slow" {
				pending.Store(res)
				return
			}
			_ = res.EndString("fast")
		})
		c := dialManual(t, srv, addr)
		c.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\nGET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
		waitFor(t, "the second handler", func() bool { return pending.Load() != nil })
		pass(clock, shortTimeout)
		socket := recv(t, sockets, "the timeout event")
		_, err := socket.Write([]byte("bye\n"))
		require.NoError(t, err)
		require.NoError(t, socket.Close())
		out := c.readAll()
		require.Contains(t, out, "\r\n\r\nfast", "the first request's answer")
		require.True(t, strings.HasSuffix(out, "fast"+"bye\n"), "then only the handler's bytes: %q", out)
	})

	t.Run("a write into a begun response is refused and the response goes on", func(t *testing.T) {
		var pending atomic.Pointer[server.ServerResponse]
		var requests atomic.Int32
		srv, addr, clock, sockets := timeoutServer(t, true, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			if requests.Add(1) > 1 {
				_ = res.EndString("second")
				return
			}
			_ = res.FlushHeaders()
			pending.Store(res)
		})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		waitFor(t, "the handler", func() bool { return pending.Load() != nil })
		head := c.readHead()
		require.Equal(t, 200, head.status)
		pass(clock, shortTimeout)
		socket := recv(t, sockets, "the timeout event")
		require.True(t, socket.HeadersSent())
		_, err := socket.Write([]byte("HTTP/1.1 408 Request Timeout\r\n\r\n"))
		require.ErrorIs(t, err, server.ErrResponseBegun)
		require.NoError(t, pending.Load().EndString("the end"))
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		waitFor(t, "the next request", func() bool { return requests.Load() == 2 })
		require.NoError(t, socket.Close())
	})

	t.Run("after a write no later request is answered", func(t *testing.T) {
		srv, addr, clock, sockets := timeoutServer(t, true, hello)
		c := dialManual(t, srv, addr)
		pass(clock, shortTimeout)
		socket := recv(t, sockets, "the timeout event")
		_, err := socket.Write([]byte("bye\n"))
		require.NoError(t, err)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "bye\n", c.readAll(), "the request got no answer; the connection closed")
	})

	t.Run("after a write a request timeout writes no 408", func(t *testing.T) {
		sockets := make(chan *server.TimeoutSocket, 1)
		srv, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, HeadersTimeout: longTimeout, RequestTimeout: longTimeout,
			Handlers: server.Handlers{Request: hello, Timeout: func(socket *server.TimeoutSocket) bool { sockets <- socket; return true }}})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\n") // a head that never ends
		pass(clock, shortTimeout)
		_, err := recv(t, sockets, "the timeout event").Write([]byte("bye\n"))
		require.NoError(t, err)
		pass(clock, longTimeout)
		require.Equal(t, "bye\n", c.readAll(), "closed by the headers timeout, without its 408")
	})

	t.Run("Close aborts the request in flight", func(t *testing.T) {
		aborted, entered := make(chan struct{}), make(chan struct{})
		srv, addr, clock, sockets := timeoutServer(t, true, func(req *server.IncomingMessage, _ *server.ServerResponse) {
			req.OnAborted(func() { close(aborted) })
			close(entered)
		})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		pass(clock, shortTimeout)
		socket := recv(t, sockets, "the timeout event")
		require.NoError(t, socket.Close())
		recv(t, aborted, "OnAborted")
		c.expectClosed()
	})
}
