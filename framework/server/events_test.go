package server_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// echoBody answers with the request body.
func echoBody(req *server.IncomingMessage, res *server.ServerResponse) {
	body, err := readBody(req)
	if err != nil {
		return
	}
	_ = res.EndString(body)
}

func TestRequestEvent(t *testing.T) {
	t.Run("the handler sees each request", func(t *testing.T) {
		var n atomic.Int32
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			n.Add(1)
			_ = res.EndString(req.Method() + " " + req.URL())
		}}})
		c := dial(t, addr)
		c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nDELETE /b HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "GET /a", c.read().body)
		require.Equal(t, "DELETE /b", c.read().body)
		require.Equal(t, int32(2), n.Load())
	})

	t.Run("without a request handler every request gets an empty 404", func(t *testing.T) {
		_, addr := start(t, server.Options{})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "HTTP/1.1 404 Not Found\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n", maskDate(c.read().raw))
	})
}

func TestCheckContinue(t *testing.T) {
	t.Run("by default 100 Continue is sent when the handler first reads the body", func(t *testing.T) {
		reading := make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			close(reading)
			echoBody(req, res)
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		recv(t, reading, "the handler")
		require.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", c.read().raw)
		c.send("hello")
		r := c.read()
		require.Equal(t, "hello", r.body)
		require.Equal(t, "keep-alive", r.get("connection"))
	})

	t.Run("100 Continue is sent on the first read even after WriteHead, before the final head", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.WriteHead(200, "Content-Type", "text/plain")
			echoBody(req, res)
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		require.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", c.read().raw)
		c.send("hello")
		r := c.read()
		require.Equal(t, "text/plain", r.get("content-type"))
		require.Equal(t, "hello", r.body)
	})

	t.Run("no 100 Continue once the final head has been sent", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.FlushHeaders()
			echoBody(req, res)
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		r := c.readHead()
		require.Equal(t, 200, r.status, "the final head comes first, with no 100 before it")
		c.send("hello")
		size, err := c.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "5\r\n", size)
	})

	t.Run("by default no 100 Continue is sent before the handler reads", func(t *testing.T) {
		release := make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			<-release
			echoBody(req, res)
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		c.expectSilence(100 * time.Millisecond)
		close(release)
		require.Equal(t, 100, c.read().status)
		c.send("hello")
		require.Equal(t, "hello", c.read().body)
	})

	t.Run("a handler that answers without reading sends no 100 and closes the connection", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.StatusCode = 401
			_ = res.EndString("no")
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		r := c.read()
		require.Equal(t, 401, r.status, "the first response is the final one")
		require.Equal(t, "close", r.get("connection"), "the client may still send the body, so the connection cannot be reused")
		c.expectClosed()
	})

	t.Run("a request without a body needs no 100 and keeps the connection", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoBody}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")
		r := c.read()
		require.Equal(t, 200, r.status)
		require.Equal(t, "keep-alive", r.get("connection"))
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
	})

	t.Run("a client that sends the body at once is served", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoBody}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
		require.Equal(t, "hello", c.readFinal().body)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
	})

	t.Run("the CheckContinue handler replaces Request and decides", func(t *testing.T) {
		var requests atomic.Int32
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) { requests.Add(1); _ = res.End() },
			CheckContinue: func(req *server.IncomingMessage, res *server.ServerResponse) {
				if req.Header("x-allow") != "yes" {
					res.StatusCode = 417
					_ = res.EndString("refused")
					return
				}
				if res.WriteContinue() == nil {
					echoBody(req, res)
				}
			},
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nX-Allow: yes\r\nContent-Length: 2\r\n\r\n")
		require.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", c.read().raw)
		c.send("ok")
		require.Equal(t, "ok", c.read().body)

		c2 := dial(t, addr)
		c2.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
		r := c2.read()
		require.Equal(t, 417, r.status)
		require.Equal(t, "refused", r.body)
		require.Equal(t, int32(0), requests.Load())
	})

	t.Run("Expect on HTTP/1.0 is ignored, as in Node", func(t *testing.T) {
		var checked atomic.Bool
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:       echoBody,
			CheckContinue: func(_ *server.IncomingMessage, res *server.ServerResponse) { checked.Store(true); _ = res.End() },
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
		r := c.read()
		require.Equal(t, "close", r.get("connection"))
		require.Equal(t, "hi", r.body)
		require.False(t, checked.Load())
	})
}

func TestCheckExpectation(t *testing.T) {
	t.Run("by default another expectation gets 417", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n")
		require.Equal(t, "HTTP/1.1 417 Expectation Failed\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", maskDate(c.read().raw))
	})

	t.Run("the CheckExpectation handler replaces Request", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: hello,
			CheckExpectation: func(req *server.IncomingMessage, res *server.ServerResponse) {
				_ = res.EndString("expected " + req.Header("expect"))
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nExpect: a-token\r\n\r\n")
		require.Equal(t, "expected a-token", c.read().body)
	})

	t.Run("100-continue inside a longer value still counts, as Node's regexp does", func(t *testing.T) {
		var kind atomic.Value
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:          func(_ *server.IncomingMessage, res *server.ServerResponse) { kind.Store("request"); _ = res.End() },
			CheckContinue:    func(_ *server.IncomingMessage, res *server.ServerResponse) { kind.Store("continue"); _ = res.End() },
			CheckExpectation: func(_ *server.IncomingMessage, res *server.ServerResponse) { kind.Store("expectation"); _ = res.End() },
		}})
		for value, want := range map[string]string{
			"100-continue":       "continue",
			"foo, 100-Continue":  "continue",
			"100-continued":      "expectation",
			"x100-continue":      "expectation",
			"100-continue;a=b":   "continue",
			"":                   "expectation",
			"something-100-else": "expectation",
		} {
			c := dial(t, addr)
			c.send("GET / HTTP/1.1\r\nHost: a\r\nExpect: " + value + "\r\n\r\n")
			c.readFinal()
			require.Equal(t, want, kind.Load(), "Expect: %q", value)
		}
	})
}

func TestUpgradeEvent(t *testing.T) {
	const upgradeReq = "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"

	t.Run("without a handler an upgrade request is a normal request", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send(upgradeReq)
		require.Equal(t, "/chat", c.read().body)
	})

	t.Run("the handler gets the socket and the bytes after the head", func(t *testing.T) {
		type upgrade struct {
			url, proto, head string
		}
		got := make(chan upgrade, 1)
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: hello,
			Upgrade: func(req *server.IncomingMessage, socket net.Conn, head []byte) {
				got <- upgrade{req.URL(), req.Header("upgrade"), string(head)}
				go func() {
					defer socket.Close()
					_, _ = io.WriteString(socket, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
					_, _ = socket.Write(head)
					_, _ = io.Copy(socket, socket)
				}()
			},
		}})
		c := dial(t, addr)
		c.send(upgradeReq + "early")
		u := recv(t, got, "the upgrade handler")
		require.Equal(t, upgrade{"/chat", "websocket", "early"}, u)
		r := c.read()
		require.Equal(t, 101, r.status)
		buf := make([]byte, 5)
		_, err := io.ReadFull(c.br, buf)
		require.NoError(t, err)
		require.Equal(t, "early", string(buf))
		c.send("echo me")
		buf = make([]byte, 7)
		_, err = io.ReadFull(c.br, buf)
		require.NoError(t, err)
		require.Equal(t, "echo me", string(buf))

		waitFor(t, "the server to forget the hijacked connection", func() bool { return srv.ConnectionCount() == 0 })
		srv.CloseAllConnections()
		c.send("still mine")
		buf = make([]byte, 10)
		_, err = io.ReadFull(c.br, buf)
		require.NoError(t, err, "CloseAllConnections must not close an upgraded socket")
	})

	t.Run("the request stays valid for the handler after it returns", func(t *testing.T) {
		upgraded, proceed := make(chan struct{}), make(chan struct{})
		got := make(chan string, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: echoURL,
			Upgrade: func(req *server.IncomingMessage, socket net.Conn, _ []byte) {
				go func() {
					defer socket.Close()
					<-proceed
					got <- req.URL() + " " + req.Header("x-id") + " " + strings.Join(req.RawHeaders(), ",")
				}()
				close(upgraded)
			},
		}})
		c := dial(t, addr)
		c.send("GET /upgraded HTTP/1.1\r\nHost: a\r\nX-Id: mine\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
		recv(t, upgraded, "the upgrade handler")
		// Other requests reuse the server's pooled buffers meanwhile.
		for i := range 20 {
			o := dial(t, addr)
			o.send(fmt.Sprintf("GET /other-%02d HTTP/1.1\r\nHost: b\r\nX-Id: someone-else\r\n\r\n", i))
			require.Equal(t, fmt.Sprintf("/other-%02d", i), o.read().body)
			o.nc.Close()
		}
		close(proceed)
		require.Equal(t, "/upgraded mine Host,a,X-Id,mine,Connection,Upgrade,Upgrade,x", recv(t, got, "the handler's goroutine"))
	})

	t.Run("an Upgrade header without Connection: upgrade is not an upgrade", func(t *testing.T) {
		var upgrades atomic.Int32
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: echoURL,
			Upgrade: func(_ *server.IncomingMessage, socket net.Conn, _ []byte) { upgrades.Add(1); socket.Close() },
		}})
		c := dial(t, addr)
		c.send("GET /plain HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n")
		require.Equal(t, "/plain", c.read().body)
		require.Equal(t, int32(0), upgrades.Load())
	})

	t.Run("a pipelined upgrade after a normal request", func(t *testing.T) {
		got := make(chan string, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: echoURL,
			Upgrade: func(_ *server.IncomingMessage, socket net.Conn, head []byte) {
				got <- string(head)
				_, _ = io.WriteString(socket, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
				socket.Close()
			},
		}})
		c := dial(t, addr)
		c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n" + upgradeReq + "tail")
		require.Equal(t, "/first", c.read().body)
		require.Equal(t, 101, c.read().status)
		require.Equal(t, "tail", recv(t, got, "the upgrade handler"))
	})
}

func TestConnectEvent(t *testing.T) {
	t.Run("without a handler the connection is closed", func(t *testing.T) {
		var requests atomic.Int32
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			requests.Add(1)
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
		c.expectClosed()
		require.Equal(t, int32(0), requests.Load())
	})

	t.Run("without a handler, the responses to earlier pipelined requests are sent before the close", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nCONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
		require.Equal(t, "/1", c.read().body)
		c.expectClosed()
	})

	t.Run("the request stays valid for the handler after it returns", func(t *testing.T) {
		connected, proceed := make(chan struct{}), make(chan struct{})
		got := make(chan string, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: echoURL,
			Connect: func(req *server.IncomingMessage, socket net.Conn, _ []byte) {
				go func() {
					defer socket.Close()
					<-proceed
					got <- req.URL() + " " + req.Header("proxy-authorization")
				}()
				close(connected)
			},
		}})
		c := dial(t, addr)
		c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic eA==\r\n\r\n")
		recv(t, connected, "the connect handler")
		for i := range 20 {
			o := dial(t, addr)
			o.send(fmt.Sprintf("GET /other-%02d HTTP/1.1\r\nHost: b\r\nProxy-Authorization: other\r\n\r\n", i))
			require.Equal(t, fmt.Sprintf("/other-%02d", i), o.read().body)
			o.nc.Close()
		}
		close(proceed)
		require.Equal(t, "example.com:443 Basic eA==", recv(t, got, "the handler's goroutine"))
	})

	t.Run("the handler gets the socket and the tunnel bytes", func(t *testing.T) {
		type connect struct{ method, url, head string }
		got := make(chan connect, 1)
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Connect: func(req *server.IncomingMessage, socket net.Conn, head []byte) {
				got <- connect{req.Method(), req.URL(), string(head)}
				go func() {
					defer socket.Close()
					_, _ = io.WriteString(socket, "HTTP/1.1 200 Connection Established\r\n\r\n")
					_, _ = io.Copy(socket, socket)
				}()
			},
		}})
		c := dial(t, addr)
		c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01")
		require.Equal(t, connect{"CONNECT", "example.com:443", "\x16\x03\x01"}, recv(t, got, "the connect handler"))
		r := c.readHead() // a 2xx to CONNECT has no body
		require.Equal(t, 200, r.status)
		c.send("tunnel")
		buf := make([]byte, 6)
		_, err := io.ReadFull(c.br, buf)
		require.NoError(t, err)
		require.Equal(t, "tunnel", string(buf))
		require.Equal(t, 0, srv.ConnectionCount())
	})
}

func TestConnectionEvent(t *testing.T) {
	t.Run("the listener gets the server side of each new socket before any request", func(t *testing.T) {
		sockets := make(chan net.Conn, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:    hello,
			Connection: func(socket net.Conn) { sockets <- socket },
		}})
		c := dial(t, addr)
		s := recv(t, sockets, "the connection event")
		require.Equal(t, c.nc.LocalAddr().String(), s.RemoteAddr().String())
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
	})

	t.Run("a listener may write to the socket first", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:    hello,
			Connection: func(socket net.Conn) { _, _ = io.WriteString(socket, "HTTP/1.1 100 Continue\r\n\r\n") },
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 100, c.read().status)
		require.Equal(t, "hello world", c.read().body)
	})
}
