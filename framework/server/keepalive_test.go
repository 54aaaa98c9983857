package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// echoURL answers with the request's URL.
func echoURL(req *server.IncomingMessage, res *server.ServerResponse) {
	_ = res.EndString(req.URL())
}

func TestKeepAlive(t *testing.T) {
	t.Run("an HTTP/1.1 connection carries several requests", func(t *testing.T) {
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		for i := range 5 {
			c.send(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i))
			r := c.read()
			require.Equal(t, fmt.Sprintf("/%d", i), r.body)
			require.Equal(t, "keep-alive", r.get("connection"))
			require.Equal(t, "timeout=5", r.get("keep-alive"))
		}
		require.Equal(t, 1, srv.ConnectionCount())
	})

	t.Run("the exact bytes of a keep-alive response", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 11\r\n\r\nhello world", maskDate(c.read().raw))
	})

	t.Run("Connection: close from the client closes after the response", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		r := c.read()
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world", maskDate(r.raw))
		c.expectClosed()
	})

	t.Run("Connection: close set by the handler closes after the response", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Connection", "close")
			_ = res.EndString("bye")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /ignored HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.read()
		require.Equal(t, "bye", r.body)
		require.Equal(t, []string{"close"}, r.header["connection"])
		c.expectClosed()
	})

	t.Run("removing the Connection header closes after the response", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.RemoveHeader("Connection")
			_ = res.EndString("bye")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.read()
		require.NotContains(t, r.header, "connection")
		require.Equal(t, "bye", r.body)
		c.expectClosed()
	})

	t.Run("a request that ends exactly at the end of the read buffer keeps the connection", func(t *testing.T) {
		// Issue 12 item 3: once a request's bytes had filled the read
		// buffer to its end and were all consumed, the wait for the next
		// request read into no room, took that for the client's end and
		// closed a connection it had just announced as keep-alive. The
		// sizes cover the 4 KiB buffer's end whatever the head's length.
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			body, err := readBody(req)
			if err == nil {
				_ = res.EndString(strconv.Itoa(len(body)))
			}
		}}})
		for total := 4080; total <= 4110; total++ {
			c := dial(t, addr)
			head := "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0000\r\n\r\n"
			n := total - len(head)
			req := fmt.Sprintf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %04d\r\n\r\n%s", n, strings.Repeat("b", n))
			for i := range 2 {
				c.send(req)
				r := c.read()
				require.Equal(t, strconv.Itoa(n), r.body, "request %d of %d bytes", i+1, total)
				require.Equal(t, "keep-alive", r.get("connection"))
			}
		}
	})

	t.Run("an unread small body is discarded and the connection kept", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
		require.Equal(t, "/1", c.read().body)
		c.send("POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
		require.Equal(t, "/2", c.read().body)
		c.send("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/3", c.read().body)
	})

	t.Run("an early response is sent while the client still holds the body back", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.StatusCode = 413
			_ = res.EndString("too big")
		}}})
		c := dial(t, addr)
		// The client sends the head and a little of the body, then waits
		// for the response before sending more, as browsers and curl do
		// when a server answers early.
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n0123456789")
		r := c.read()
		require.Equal(t, 413, r.status)
		require.Equal(t, "too big", r.body)
	})

	t.Run("an unread body past the discard limit closes the connection", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		const size = 1 << 20
		c.send(fmt.Sprintf("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size))
		go func() { _, _ = c.nc.Write(make([]byte, size)) }() // may fail once the server closes
		require.Equal(t, "/big", c.read().body)
		c.expectClosed()
	})

	t.Run("an empty line after a request is ignored, and the response is not held back", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		// Old clients send CRLF after a POST body; RFC 9112 §2.2 asks
		// servers to ignore it.
		c.send("POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi\r\n")
		require.Equal(t, "/1", c.read().body)
		c.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/2", c.read().body)
	})

	t.Run("a response is not held back while the next request's head is incomplete", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHo")
		require.Equal(t, "/1", c.read().body)
		c.send("st: a\r\n\r\n")
		require.Equal(t, "/2", c.read().body)
	})
}

func TestPipelining(t *testing.T) {
	// The engine runs one handler at a time per connection (the next
	// request waits for the response before it), so handlers cannot
	// finish out of order here; the slow one finishes after its handler
	// has returned.
	t.Run("pipelined responses leave in request order, also one finished after its handler returned", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			if req.URL() == "/slow" {
				go func() { _ = res.EndString("slow") }()
				return
			}
			_ = res.EndString(strings.TrimPrefix(req.URL(), "/"))
		}}})
		c := dial(t, addr)
		c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n\r\nPOST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /last HTTP/1.1\r\nHost: a\r\n\r\n")
		for _, want := range []string{"slow", "fast", "body", "last"} {
			require.Equal(t, want, c.read().body)
		}
	})

	t.Run("a hundred pipelined requests in one write are all answered in order", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		var b strings.Builder
		for i := range 100 {
			fmt.Fprintf(&b, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i)
		}
		c.send(b.String())
		for i := range 100 {
			require.Equal(t, fmt.Sprintf("/%d", i), c.read().body)
		}
	})

	t.Run("pipelined requests with large responses are all answered", func(t *testing.T) {
		big := strings.Repeat("x", 10000)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = res.WriteString(req.URL())
			_ = res.EndString(big)
		}}})
		c := dial(t, addr)
		c.send(strings.Repeat("GET /p HTTP/1.1\r\nHost: a\r\n\r\n", 10))
		for range 10 {
			r := c.read()
			require.True(t, r.chunked)
			require.Equal(t, "/p"+big, r.body)
		}
	})
}

func TestConcurrentConnections(t *testing.T) {
	t.Run("many keep-alive connections at once are each answered in order", func(t *testing.T) {
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			body, err := readBody(req)
			if err != nil {
				return
			}
			if req.Header("x-async") != "" {
				go func() { _ = res.EndString(req.URL() + body) }()
				return
			}
			_ = res.EndString(req.URL() + body)
		}}})
		const conns, requests = 40, 25
		errs := make(chan error, conns)
		for i := range conns {
			c := dial(t, addr)
			go func() {
				errs <- func() error {
					for j := 0; j < requests; j += 5 {
						var batch strings.Builder
						for k := j; k < j+5; k++ {
							switch k % 3 {
							case 0:
								fmt.Fprintf(&batch, "GET /%d/%d HTTP/1.1\r\nHost: a\r\n\r\n", i, k)
							case 1:
								fmt.Fprintf(&batch, "POST /%d/%d HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody", i, k)
							default:
								fmt.Fprintf(&batch, "POST /%d/%d HTTP/1.1\r\nHost: a\r\nX-Async: 1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nch\r\n0\r\n\r\n", i, k)
							}
						}
						if _, err := c.nc.Write([]byte(batch.String())); err != nil {
							return err
						}
						for k := j; k < j+5; k++ {
							r, err := c.tryRead(false)
							if err != nil {
								return err
							}
							want := fmt.Sprintf("/%d/%d", i, k) + []string{"", "body", "ch"}[k%3]
							if r.body != want {
								return fmt.Errorf("got %q, want %q", r.body, want)
							}
						}
					}
					return nil
				}()
			}()
		}
		for range conns {
			require.NoError(t, recv(t, errs, "a client"))
		}
		require.Equal(t, conns, srv.ConnectionCount())
	})
}

func TestHTTP10(t *testing.T) {
	t.Run("an HTTP/1.0 request gets a close-delimited body and the connection closes", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = res.WriteString("hello ")
			_ = res.EndString("world")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.0\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\n\r\nhello world", maskDate(c.readAll()))
	})

	t.Run("End with data on HTTP/1.0 declares its length, unlike Node", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.0\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world", maskDate(c.readAll()))
	})

	t.Run("End with data keeps an HTTP/1.0 keep-alive connection, unlike Node", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		for range 3 {
			c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
			r := c.read()
			require.False(t, r.untilEOF)
			require.Equal(t, "keep-alive", r.get("connection"))
			require.Equal(t, "11", r.get("content-length"))
			require.Equal(t, "hello world", r.body)
		}
	})

	t.Run("a HEAD answer carries the length its GET would have had", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.readHead()
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 11\r\n\r\n", maskDate(r.raw))
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "hello world", c.read().body, "the connection carries the next request")
	})

	t.Run("HTTP/1.0 keep-alive is honoured when the response is framed", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Length", fmt.Sprint(len(req.URL())))
			_ = res.EndString(req.URL())
		}}})
		c := dial(t, addr)
		c.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		r := c.read()
		require.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n/one", maskDate(r.raw))
		c.send("GET /two HTTP/1.0\r\n\r\n")
		r = c.read()
		require.Equal(t, "/two", r.body)
		require.Equal(t, "close", r.get("connection"), "without keep-alive the 1.0 connection closes")
		c.expectClosed()
	})

	t.Run("HTTP/1.0 keep-alive without framing closes the connection", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = res.WriteString("streamed")
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\n\r\nstreamed", maskDate(c.readAll()))
	})

	t.Run("an HTTP/1.0 client that accepts chunked gets a chunked keep-alive response", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = res.WriteString("chunk")
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\nTE: chunked\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nchunk\r\n0\r\n\r\n", maskDate(c.read().raw))
	})

	t.Run("an HTTP/1.0 request needs no Host", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString(req.HTTPVersion())
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.0\r\n\r\n")
		r := c.read()
		require.Equal(t, 200, r.status)
		require.Equal(t, "1.0", r.body)
	})
}
