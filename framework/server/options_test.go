package server_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/http1"
)

func TestMaxRequestsPerSocket(t *testing.T) {
	t.Run("the last allowed response says close and later requests get 503", func(t *testing.T) {
		var dropped atomic.Int32
		dropURL := make(chan string, 2)
		_, addr := start(t, server.Options{MaxRequestsPerSocket: 2, Handlers: server.Handlers{
			Request: hello,
			DropRequest: func(req *server.IncomingMessage, socket net.Conn) {
				if socket != nil {
					dropped.Add(1)
				}
				dropURL <- req.URL()
			},
		}})
		c := dial(t, addr)
		// The bytes Node v20 sends for the same four requests.
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=2\r\nContent-Length: 11\r\n\r\nhello world", maskDate(c.read().raw))
		c.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world", maskDate(c.read().raw))
		c.send("GET /3 HTTP/1.1\r\nHost: a\r\n\r\nPOST /4 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
		for range 2 {
			require.Equal(t, "HTTP/1.1 503 Service Unavailable\r\nDate: X\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", maskDate(c.read().raw))
		}
		require.Equal(t, int32(2), dropped.Load())
		require.Equal(t, "/3", <-dropURL)
		require.Equal(t, "/4", <-dropURL)
	})

	t.Run("without a DropRequest listener the 503 is still sent", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxRequestsPerSocket: 1, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		require.Equal(t, 503, c.read().status)
	})

	t.Run("the limit is per connection", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxRequestsPerSocket: 1, Handlers: server.Handlers{Request: hello}})
		for range 3 {
			c := dial(t, addr)
			c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			require.Equal(t, 200, c.read().status)
		}
	})
}

func TestRequireHostHeader(t *testing.T) {
	t.Run("an HTTP/1.1 request without Host gets Node's 400", func(t *testing.T) {
		var called atomic.Bool
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			called.Store(true)
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\n\r\n")
		require.Equal(t, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: X\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", maskDate(c.readAll()))
		require.False(t, called.Load(), "the handler must not see the request")
	})

	t.Run("DisableHostHeaderCheck lets it through", func(t *testing.T) {
		_, addr := start(t, server.Options{DisableHostHeaderCheck: true, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\n\r\n")
		require.Equal(t, "hello world", c.read().body)
	})
}

func TestMaxHeaderSize(t *testing.T) {
	t.Run("a head over the limit gets 431", func(t *testing.T) {
		errs := make(chan *server.ClientError, 1)
		_, addr := start(t, server.Options{MaxHeaderSize: 200, Handlers: server.Handlers{
			Request:     hello,
			ClientError: func(err *server.ClientError, socket net.Conn) { errs <- err },
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 300) + "\r\n\r\n")
		c.expectClosed() // the listener wrote nothing
		err := recv(t, errs, "the ClientError event")
		require.Equal(t, "HPE_HEADER_OVERFLOW", err.Code)
		require.ErrorIs(t, err, http1.ErrHeaderOverflow)
		require.Equal(t, 431, err.StatusCode())
	})

	t.Run("Node's default answer is a bare 431", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeaderSize: 200, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 300) + "\r\n\r\n")
		require.Equal(t, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n", c.readAll())
	})

	t.Run("a head under the limit is accepted", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeaderSize: 200, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 100) + "\r\n\r\n")
		require.Equal(t, 200, c.read().status)
	})

	t.Run("the default limit is 16 KiB", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 15<<10) + "\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 17<<10) + "\r\n\r\n")
		require.Equal(t, 431, c.read().status)
	})

	t.Run("a head sent in many small pieces is accepted", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString(req.Header("x-big"))
		}}})
		c := dial(t, addr)
		value := strings.Repeat("v", 12<<10) // larger than the 4 KiB read buffer
		raw := "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + value + "\r\n\r\n"
		for len(raw) > 0 {
			n := min(len(raw), 1000)
			c.send(raw[:n])
			raw = raw[n:]
			time.Sleep(time.Millisecond)
		}
		require.Equal(t, value, c.read().body)
	})

	t.Run("trailers over the limit get 431", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeaderSize: 200, Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			if _, err := readBody(req); err == nil {
				_ = res.End()
			}
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Big: " + strings.Repeat("a", 300) + "\r\n\r\n")
		require.Equal(t, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n", c.readAll())
	})
}

func TestMaxHeadersCount(t *testing.T) {
	describeHeaders := func(req *server.IncomingMessage, res *server.ServerResponse) {
		b, _ := json.Marshal(map[string]any{"raw": req.RawHeaders(), "headers": req.Headers(), "distinct": req.HeadersDistinct()})
		_ = res.End(b)
	}

	t.Run("fields past the limit are ignored", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeadersCount: 2, Handlers: server.Handlers{Request: describeHeaders}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
		require.JSONEq(t, `{"raw":["Host","a","A","1"],"headers":{"host":"a","a":"1"},"distinct":{"host":["a"],"a":["1"]}}`, c.read().body)
	})

	t.Run("ignored fields are invisible to Header, the Host check and Expect, as in Node", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeadersCount: 1, Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString("[" + req.Header("x-late") + "]")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Late: seen\r\n\r\n")
		require.Equal(t, "[]", c.read().body)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n")
		require.Equal(t, 200, c.read().status, "the Expect field was ignored")
		c.send("GET / HTTP/1.1\r\nX-First: 1\r\nHost: a\r\n\r\n")
		require.Equal(t, 400, c.read().status, "the Host field was ignored")
	})

	t.Run("trailers are not limited, as in Node", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeadersCount: 1, Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = readBody(req)
			b, _ := json.Marshal(map[string]any{"raw": req.RawTrailers(), "trailers": req.Trailers()})
			_ = res.End(b)
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT1: 1\r\nT2: 2\r\nT3: 3\r\n\r\n")
		require.JSONEq(t, `{"raw":["T1","1","T2","2","T3","3"],"trailers":{"t1":"1","t2":"2","t3":"3"}}`, c.read().body)
	})

	t.Run("ignored fields still frame the request", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeadersCount: 1, Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			body, _ := readBody(req)
			_ = res.EndString(body)
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
		require.Equal(t, "abc", c.read().body)
	})

	t.Run("a negative value means no limit", func(t *testing.T) {
		_, addr := start(t, server.Options{MaxHeadersCount: -1, Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString(string(rune('0' + len(req.RawHeaders())/2/1000)))
		}}})
		c := dial(t, addr)
		var b strings.Builder
		b.WriteString("GET / HTTP/1.1\r\nHost: a\r\n")
		for range 2100 {
			b.WriteString("X: y\r\n")
		}
		b.WriteString("\r\n")
		c.send(b.String())
		require.Equal(t, "2", c.read().body, "2101 fields reach RawHeaders")
	})

	t.Run("the default limit is 2000", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			b, _ := json.Marshal(len(req.RawHeaders()) / 2)
			_ = res.End(b)
		}}})
		c := dial(t, addr)
		var b strings.Builder
		b.WriteString("GET / HTTP/1.1\r\nHost: a\r\n")
		for range 2100 {
			b.WriteString("X: y\r\n")
		}
		b.WriteString("\r\n")
		c.send(b.String())
		require.Equal(t, "2000", c.read().body)
	})
}

func TestJoinDuplicateHeaders(t *testing.T) {
	headersJSON := func(req *server.IncomingMessage, res *server.ServerResponse) {
		b, _ := json.Marshal(req.Headers())
		_ = res.End(b)
	}
	const raw = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Type: x\r\nContent-Type: y\r\nX: 1\r\nX: 2\r\nCookie: c=1\r\nCookie: d=2\r\nSet-Cookie: e\r\nSet-Cookie: f\r\n\r\n"

	t.Run("by default only the first of a keep-first field is kept", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: headersJSON}})
		c := dial(t, addr)
		c.send(raw)
		require.JSONEq(t, `{"host":"a","content-type":"x","x":"1, 2","cookie":"c=1; d=2","set-cookie":["e","f"]}`, c.read().body)
	})

	t.Run("with the option they are joined with a comma", func(t *testing.T) {
		_, addr := start(t, server.Options{JoinDuplicateHeaders: true, Handlers: server.Handlers{Request: headersJSON}})
		c := dial(t, addr)
		c.send(raw)
		require.JSONEq(t, `{"host":"a, b","content-type":"x, y","x":"1, 2","cookie":"c=1; d=2","set-cookie":["e","f"]}`, c.read().body)
	})
}

func TestUniqueHeaders(t *testing.T) {
	t.Run("listed response headers are sent once, joined with a semicolon", func(t *testing.T) {
		// The bytes Node v20 sends for the same handler and option.
		_, addr := start(t, server.Options{UniqueHeaders: []string{"x-unique"}, Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("X-Unique", "a", "b")
			_ = res.SetHeader("X-Multi", "a", "b")
			_ = res.SetHeader("Cookie", "c=1", "d=2")
			_ = res.SetHeader("Set-Cookie", "c=1", "d=2")
			_ = res.EndString("x")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nX-Unique: a; b\r\nX-Multi: a\r\nX-Multi: b\r\nCookie: c=1; d=2\r\nSet-Cookie: c=1\r\nSet-Cookie: d=2\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\nx", maskDate(c.read().raw))
	})

	t.Run("the list is matched in any case", func(t *testing.T) {
		_, addr := start(t, server.Options{UniqueHeaders: []string{"X-UNIQUE"}, Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.AppendHeader("x-unique", "a")
			_ = res.AppendHeader("X-Unique", "b")
			_ = res.EndString("x")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, []string{"a; b"}, c.read().header["x-unique"])
	})
}

// sockopt reads an integer socket option of a server-side connection.
func sockopt(t *testing.T, socket net.Conn, level, opt int) int {
	t.Helper()
	rc, err := socket.(syscall.Conn).SyscallConn()
	require.NoError(t, err)
	var v int
	var serr error
	require.NoError(t, rc.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), level, opt) }))
	require.NoError(t, serr)
	return v
}

func TestSocketOptions(t *testing.T) {
	// inspect starts a server with opts and returns what fn reads from
	// the server side of one connection.
	inspect := func(t *testing.T, opts server.Options, fn func(net.Conn) []int) []int {
		got := make(chan net.Conn, 1)
		opts.Handlers = server.Handlers{Request: hello, Connection: func(socket net.Conn) { got <- socket }}
		_, addr := start(t, opts)
		dial(t, addr) // stays open until the test ends
		return fn(recv(t, got, "the connection event"))
	}

	t.Run("noDelay is on by default", func(t *testing.T) {
		v := inspect(t, server.Options{}, func(s net.Conn) []int { return []int{sockopt(t, s, syscall.IPPROTO_TCP, syscall.TCP_NODELAY)} })
		require.NotZero(t, v[0])
	})

	t.Run("DisableNoDelay turns it off", func(t *testing.T) {
		v := inspect(t, server.Options{DisableNoDelay: true}, func(s net.Conn) []int { return []int{sockopt(t, s, syscall.IPPROTO_TCP, syscall.TCP_NODELAY)} })
		require.Zero(t, v[0])
	})

	t.Run("TCP keep-alive is off by default", func(t *testing.T) {
		v := inspect(t, server.Options{}, func(s net.Conn) []int { return []int{sockopt(t, s, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)} })
		require.Zero(t, v[0])
	})

	t.Run("KeepAlive turns it on with the initial delay", func(t *testing.T) {
		v := inspect(t, server.Options{KeepAlive: true, KeepAliveInitialDelay: 42 * time.Second}, func(s net.Conn) []int {
			return []int{sockopt(t, s, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE), sockopt(t, s, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)}
		})
		require.NotZero(t, v[0])
		require.Equal(t, 42, v[1])
	})

	t.Run("KeepAlive without a delay keeps the system's", func(t *testing.T) {
		var sysIdle int
		{
			lc := net.ListenConfig{KeepAlive: -1} // Go's default would set 15 s
			l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer l.Close()
			c, err := net.Dial("tcp", l.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			sc, err := l.Accept()
			require.NoError(t, err)
			// A fresh socket's TCP_KEEPIDLE is the system default.
			sysIdle = sockopt(t, sc, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
			sc.Close()
		}
		v := inspect(t, server.Options{KeepAlive: true}, func(s net.Conn) []int {
			return []int{sockopt(t, s, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE), sockopt(t, s, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)}
		})
		require.NotZero(t, v[0])
		require.Equal(t, sysIdle, v[1])
	})
}
