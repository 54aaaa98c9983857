package server_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/httpspec"
)

// Most tests run the server on a manual clock (startManual): the test
// moves the time and ticks the sweeper itself, so a timeout fires exactly
// when it is due, and not a tick before (server.Expired says whether one
// has). The few left on the real clock (the stuck-write tests, a head
// sent byte by byte) keep the timeouts short so that they are quick, and
// assert only that a timeout fires, never how fast.
const (
	shortTimeout = 150 * time.Millisecond
	// longTimeout is for real-clock timeouts that must not fire before
	// the test's request has reached its handler, even on a loaded
	// machine.
	longTimeout = 4 * shortTimeout
)

const requestTimeout408 = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"

func TestHeadersTimeout(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("an incomplete head gets 408 and the connection closes", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{HeadersTimeout: shortTimeout, Handlers: server.Handlers{Request: hello}})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n")
		pass(clock, shortTimeout-time.Millisecond)
		require.False(t, server.Expired(srv), "not before headersTimeout")
		pass(clock, time.Millisecond)
		require.Equal(t, requestTimeout408, c.readAll())
	})

	t.Run("a client that connects and sends nothing gets 408", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{HeadersTimeout: shortTimeout, Handlers: server.Handlers{Request: hello}})
		c := dialManual(t, srv, addr)
		pass(clock, shortTimeout)
		require.Equal(t, requestTimeout408, c.readAll())
	})

	t.Run("a head sent slowly byte by byte still times out", func(t *testing.T) {
		_, addr := start(t, server.Options{HeadersTimeout: shortTimeout, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		stopSending := make(chan struct{})
		defer close(stopSending)
		go func() {
			for _, b := range []byte("GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
				select {
				case <-stopSending:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := c.nc.Write([]byte{b}); err != nil {
					return
				}
			}
		}()
		require.Equal(t, requestTimeout408, c.readAll(), "activity does not extend headersTimeout")
	})

	t.Run("the headers timeout does not limit the body or the handler", func(t *testing.T) {
		entered, read, proceed := make(chan struct{}), make(chan struct{}), make(chan struct{})
		_, addr, clock := startManual(t, server.Options{HeadersTimeout: longTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				close(entered)
				body, err := readBody(req)
				if err != nil {
					return
				}
				close(read)
				<-proceed
				_ = res.EndString(body)
			},
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
		recv(t, entered, "the handler")
		pass(clock, 2*longTimeout) // while the body is coming
		c.send("cd")
		recv(t, read, "the body")
		pass(clock, 2*longTimeout) // while the handler works
		close(proceed)
		r := c.read()
		require.Equal(t, 200, r.status)
		require.Equal(t, "abcd", r.body)
	})

	t.Run("the clock restarts for each request on a keep-alive connection", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{HeadersTimeout: longTimeout, KeepAliveTimeout: 10 * time.Second, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, 2*longTimeout) // idle: only keepAliveTimeout applies
		c.send("GET / HTTP/1.1\r\n")
		waitFor(t, "the second head to begin", func() bool { return server.Receiving(srv) })
		pass(clock, longTimeout/2) // the second head is within its own limit
		c.send("Host: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
	})

	t.Run("a ClientError handler gets ERR_HTTP_REQUEST_TIMEOUT and may answer", func(t *testing.T) {
		errs := make(chan *server.ClientError, 1)
		srv, addr, clock := startManual(t, server.Options{HeadersTimeout: shortTimeout, Handlers: server.Handlers{
			Request: hello,
			ClientError: func(err *server.ClientError, socket net.Conn) {
				errs <- err
				_, _ = socket.Write([]byte("HTTP/1.1 408 Too Slow\r\nConnection: close\r\n\r\n"))
			},
		}})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\n")
		pass(clock, shortTimeout)
		require.Equal(t, "HTTP/1.1 408 Too Slow\r\nConnection: close\r\n\r\n", c.readAll())
		err := recv(t, errs, "the ClientError handler")
		require.Equal(t, httpspec.CodeHTTPRequestTimeout, err.Code)
		require.ErrorIs(t, err, server.ErrRequestTimeout)
		require.Equal(t, 408, err.StatusCode())
		require.False(t, err.HeadersSent)
	})

	t.Run("a negative value disables it", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{HeadersTimeout: -1, RequestTimeout: -1, Timeout: 2 * time.Hour, Handlers: server.Handlers{Request: hello}})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\n")
		waitFor(t, "the head to begin", func() bool { return server.Receiving(srv) })
		pass(clock, time.Hour) // past the defaults of both (60 s and 300 s)
		require.False(t, server.Expired(srv), "neither headersTimeout nor requestTimeout applies")
		// Only the (longer) socket timeout ends this connection, with no
		// response.
		pass(clock, time.Hour)
		c.expectClosed()
	})
}

func TestTimeoutClock(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("a server that starts listening long after New does not time out its first requests", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger(), HeadersTimeout: longTimeout, Handlers: server.Handlers{Request: hello}})
		t.Cleanup(func() { stop(t, srv) })
		clock := server.ManualClock(srv)
		clock.Advance(2 * longTimeout) // set-up work between New and Listen
		l, err := srv.Listen("127.0.0.1:0")
		require.NoError(t, err)
		c := dial(t, l.Addr().String())
		c.send("GET / HTTP/1.1\r\n")
		waitFor(t, "the head to begin", func() bool { return server.Receiving(srv) })
		pass(clock, longTimeout/2)
		c.send("Host: a\r\n\r\n")
		require.Equal(t, "hello world", c.read().body)
	})
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("a body that does not arrive in time gets 408, and Read reports the timeout", func(t *testing.T) {
		readErr, endErr := make(chan error, 1), make(chan error, 1)
		aborted, entered := make(chan struct{}), make(chan struct{})
		srv, addr, clock := startManual(t, server.Options{RequestTimeout: longTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				req.OnAborted(func() { close(aborted) })
				close(entered)
				_, err := readBody(req)
				readErr <- err
				endErr <- res.EndString("too late")
			},
		}})
		c := dialManual(t, srv, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		recv(t, entered, "the handler")
		pass(clock, longTimeout-time.Millisecond)
		require.False(t, server.Expired(srv), "not before requestTimeout")
		pass(clock, time.Millisecond)
		require.Equal(t, requestTimeout408, c.readAll())
		require.ErrorIs(t, recv(t, readErr, "the body read"), server.ErrRequestTimeout)
		require.ErrorIs(t, recv(t, endErr, "End"), errDestroyedCheck, "the socket is gone")
		recv(t, aborted, "OnAborted")
	})

	t.Run("a timed-out chunked body gets 408 too", func(t *testing.T) {
		entered := make(chan struct{})
		srv, addr, clock := startManual(t, server.Options{RequestTimeout: shortTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				close(entered)
				if _, err := readBody(req); err == nil {
					_ = res.End()
				}
			},
		}})
		c := dialManual(t, srv, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
		recv(t, entered, "the handler")
		pass(clock, shortTimeout)
		require.Equal(t, requestTimeout408, c.readAll())
	})

	t.Run("after the response has begun the connection is destroyed without a 408", func(t *testing.T) {
		errs := make(chan *server.ClientError, 1)
		srv, addr, clock := startManual(t, server.Options{RequestTimeout: longTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				_ = res.FlushHeaders()
				_, _ = readBody(req)
			},
			ClientError: func(err *server.ClientError, _ net.Conn) { errs <- err },
		}})
		c := dialManual(t, srv, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		r := c.readHead() // the flushed head; its chunked body never comes
		pass(clock, longTimeout)
		require.Equal(t, 200, r.status)
		c.expectClosed()
		err := recv(t, errs, "the ClientError event")
		require.True(t, err.HeadersSent, "the event says the response had begun")
	})

	t.Run("a ClientError handler cannot write into a response that has begun", func(t *testing.T) {
		// Issue 12 item 2: Node hands its clientError listener the socket
		// even then, and a listener that answers 408 writes it into the
		// middle of the chunked body; the socket it gets here refuses.
		writeErr := make(chan error, 1)
		_, addr := start(t, server.Options{RequestTimeout: longTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				_, _ = res.WriteString("start;")
				_, _ = readBody(req)
			},
			ClientError: func(err *server.ClientError, socket net.Conn) {
				_, werr := socket.Write([]byte(requestTimeout408))
				writeErr <- werr
			},
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		require.Equal(t, 200, c.readHead().status)
		require.Equal(t, "6\r\nstart;\r\n", c.readAll(), "the body so far, then the end: no second status line")
		require.ErrorIs(t, recv(t, writeErr, "the ClientError handler's write"), server.ErrResponseBegun)
	})

	t.Run("once a timeout is answered the response can no longer begin", func(t *testing.T) {
		answered, writeErr := make(chan struct{}), make(chan error, 1)
		_, addr := start(t, server.Options{RequestTimeout: longTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				<-answered // the body never completes; the timeout strikes first
				_, err := res.WriteString("too late")
				writeErr <- err
			},
			ClientError: func(err *server.ClientError, socket net.Conn) {
				_, _ = socket.Write([]byte(requestTimeout408))
				close(answered)
			},
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		require.Equal(t, requestTimeout408, c.readAll())
		require.ErrorIs(t, recv(t, writeErr, "the handler's write"), errDestroyedCheck)
	})

	t.Run("a slow handler is not limited once the request is complete", func(t *testing.T) {
		entered, proceed := make(chan struct{}), make(chan struct{})
		_, addr, clock := startManual(t, server.Options{RequestTimeout: longTimeout, Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
				close(entered)
				go func() {
					<-proceed
					_ = res.EndString("slow but fine")
				}()
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		pass(clock, 2*longTimeout)
		close(proceed)
		require.Equal(t, "slow but fine", c.read().body)
	})

	t.Run("it also bounds the head", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{RequestTimeout: shortTimeout, HeadersTimeout: -1, Handlers: server.Handlers{Request: hello}})
		c := dialManual(t, srv, addr)
		c.send("GET / HTTP/1.1\r\n")
		pass(clock, shortTimeout)
		require.Equal(t, requestTimeout408, c.readAll())
	})
}

// errDestroyedCheck matches the error of writing to a closed connection.
var errDestroyedCheck = &httpspec.Error{Code: httpspec.CodeStreamDestroyed}

func TestKeepAliveTimeout(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("an idle connection is closed silently after keepAliveTimeout", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{KeepAliveTimeout: shortTimeout, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.read()
		require.Equal(t, "timeout=0", r.get("keep-alive"), "Node floors the seconds")
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, shortTimeout-time.Millisecond)
		require.True(t, server.Idle(srv), "not closed before keepAliveTimeout")
		pass(clock, time.Millisecond)
		c.expectClosed()
		waitFor(t, "no connections", func() bool { return srv.ConnectionCount() == 0 })
	})

	t.Run("the header announces the timeout in seconds", func(t *testing.T) {
		_, addr := start(t, server.Options{KeepAliveTimeout: 7500 * time.Millisecond, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "timeout=7", c.read().get("keep-alive"))
	})

	t.Run("it does not apply while a request is in flight", func(t *testing.T) {
		entered, proceed := make(chan struct{}), make(chan struct{})
		_, addr, clock := startManual(t, server.Options{KeepAliveTimeout: shortTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				if req.URL() == "/slow" {
					close(entered)
					<-proceed
				}
				_ = res.EndString(req.URL())
			},
		}})
		c := dial(t, addr)
		c.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/fast", c.read().body)
		c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the slow handler")
		pass(clock, 3*shortTimeout)
		close(proceed)
		require.Equal(t, "/slow", c.read().body)
	})

	t.Run("a negative value keeps idle connections and drops the Keep-Alive header", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{KeepAliveTimeout: -1, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.read()
		require.Equal(t, "keep-alive", r.get("connection"))
		require.NotContains(t, r.header, "keep-alive")
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, time.Hour)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
	})
}

func TestSocketTimeout(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("without a listener an inactive socket is destroyed", func(t *testing.T) {
		aborted, closed, entered := make(chan struct{}), make(chan struct{}), make(chan struct{})
		srv, addr, clock := startManual(t, server.Options{Timeout: longTimeout, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				req.OnAborted(func() { close(aborted) })
				res.OnClose(func() { close(closed) })
				close(entered)
				// Never answers.
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		pass(clock, longTimeout-time.Millisecond)
		require.False(t, server.Expired(srv), "not before the socket timeout")
		pass(clock, time.Millisecond)
		c.expectClosed()
		recv(t, aborted, "OnAborted")
		recv(t, closed, "the response's close event")
	})

	t.Run("the timeout event gets the socket, which stays open", func(t *testing.T) {
		timedOut := make(chan *server.TimeoutSocket, 1)
		var pending atomic.Pointer[server.ServerResponse]
		_, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) { pending.Store(res) },
			Timeout: func(socket *server.TimeoutSocket) bool {
				select {
				case timedOut <- socket:
				default:
				}
				return true
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		waitFor(t, "the handler", func() bool { return pending.Load() != nil })
		pass(clock, shortTimeout)
		socket := recv(t, timedOut, "the timeout event")
		require.Equal(t, c.nc.LocalAddr().String(), socket.RemoteAddr().String())
		require.NoError(t, pending.Load().EndString("answered after the timeout"))
		require.Equal(t, "answered after the timeout", c.read().body)
	})

	t.Run("the timeout event fires once per period of inactivity", func(t *testing.T) {
		var events atomic.Int32
		var pending atomic.Pointer[server.ServerResponse]
		_, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) { pending.Store(res) },
			Timeout: func(*server.TimeoutSocket) bool { events.Add(1); return true },
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		waitFor(t, "the handler", func() bool { return pending.Load() != nil })
		pass(clock, shortTimeout)
		waitFor(t, "the timeout event", func() bool { return events.Load() == 1 })
		for range 3 {
			pass(clock, shortTimeout)
		}
		_, err := pending.Load().WriteString("activity")
		require.NoError(t, err)
		require.Equal(t, int32(1), events.Load(), "one event for the first period")
		pass(clock, shortTimeout)
		waitFor(t, "a second timeout event after new activity", func() bool { return events.Load() == 2 })
		require.NoError(t, pending.Load().End())
	})

	t.Run("a silent new connection times out too", func(t *testing.T) {
		timedOut := make(chan *server.TimeoutSocket, 1)
		srv, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, Handlers: server.Handlers{
			Request: hello,
			Timeout: func(socket *server.TimeoutSocket) bool { timedOut <- socket; socket.Close(); return true },
		}})
		c := dialManual(t, srv, addr)
		pass(clock, shortTimeout)
		recv(t, timedOut, "the timeout event")
		c.expectClosed()
	})

	t.Run("between requests keepAliveTimeout applies instead", func(t *testing.T) {
		var events atomic.Int32
		srv, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, KeepAliveTimeout: 10 * time.Second, Handlers: server.Handlers{
			Request: hello,
			Timeout: func(*server.TimeoutSocket) bool { events.Add(1); return true },
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		for range 3 {
			pass(clock, shortTimeout)
		}
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status, "the connection was kept")
		require.Zero(t, events.Load(), "no timeout event while idle")
	})
}

func TestSocketTimeoutWhileIdle(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("with keepAliveTimeout disabled an idle connection raises the timeout event", func(t *testing.T) {
		timedOut := make(chan *server.TimeoutSocket, 1)
		srv, addr, clock := startManual(t, server.Options{Timeout: shortTimeout, KeepAliveTimeout: -1, Handlers: server.Handlers{
			Request: hello,
			Timeout: func(socket *server.TimeoutSocket) bool {
				select {
				case timedOut <- socket:
				default:
				}
				return true
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, shortTimeout)
		recv(t, timedOut, "the timeout event on the idle connection")
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status, "the listener did not close it, so it still serves")
	})

	t.Run("with keepAliveTimeout disabled and no listener an idle connection is destroyed", func(t *testing.T) {
		srv, addr, clock := startManual(t, server.Options{Timeout: longTimeout, KeepAliveTimeout: -1, Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, c.read().status)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, longTimeout)
		c.expectClosed()
	})
}

func TestResponseSetTimeout(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("the callback runs after the response has been inactive", func(t *testing.T) {
		fired, set := make(chan struct{}), make(chan struct{})
		srv, addr, clock := startManual(t, server.Options{Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
				res.SetTimeout(shortTimeout, func() {
					close(fired)
					_ = res.EndString("timed out")
				})
				close(set)
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, set, "the handler")
		pass(clock, shortTimeout-time.Millisecond)
		require.False(t, server.Expired(srv), "not before its timeout")
		pass(clock, time.Millisecond)
		require.Equal(t, "timed out", c.read().body)
		recv(t, fired, "the callback")
	})

	t.Run("without a callback the socket is destroyed", func(t *testing.T) {
		set := make(chan struct{})
		_, addr, clock := startManual(t, server.Options{Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
				res.SetTimeout(shortTimeout, nil)
				close(set)
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, set, "the handler")
		pass(clock, shortTimeout)
		c.expectClosed()
	})

	t.Run("zero turns the server's socket timeout off for the response", func(t *testing.T) {
		entered, proceed := make(chan struct{}), make(chan struct{})
		_, addr, clock := startManual(t, server.Options{Timeout: longTimeout, Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
				res.SetTimeout(0, nil)
				close(entered)
				go func() {
					<-proceed
					_ = res.EndString("no timeout")
				}()
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		pass(clock, 2*longTimeout)
		close(proceed)
		require.Equal(t, "no timeout", c.read().body)
	})

	t.Run("it lasts only for its response", func(t *testing.T) {
		entered, proceed := make(chan struct{}), make(chan struct{})
		_, addr, clock := startManual(t, server.Options{KeepAliveTimeout: 10 * time.Second, Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				if req.URL() == "/first" {
					res.SetTimeout(shortTimeout, nil)
					_ = res.EndString("first")
					return
				}
				close(entered)
				go func() {
					<-proceed
					_ = res.EndString("second")
				}()
			},
		}})
		c := dial(t, addr)
		c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "first", c.read().body)
		c.send("GET /second HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the second handler")
		pass(clock, 3*shortTimeout)
		close(proceed)
		require.Equal(t, "second", c.read().body)
	})
}
