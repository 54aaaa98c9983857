package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

func TestListen(t *testing.T) {
	t.Run("one server serves IPv4, IPv6 and Unix listeners at once", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger(), Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				_ = res.EndString(req.LocalAddr().Network())
			},
		}})
		t.Cleanup(func() { stop(t, srv) })

		v4, err := srv.Listen("127.0.0.1:0")
		require.NoError(t, err)
		addrs := []string{v4.Addr().String()}

		if v6, err := srv.Listen("[::1]:0"); err != nil {
			t.Logf("skipping IPv6: cannot bind [::1]: %v", err)
		} else {
			addrs = append(addrs, v6.Addr().String())
		}

		sock := filepath.Join(t.TempDir(), "s.sock")
		_, err = srv.Listen("unix:" + sock)
		require.NoError(t, err)
		addrs = append(addrs, "unix:"+sock)

		require.True(t, srv.Listening())
		for _, addr := range addrs {
			c := dial(t, addr)
			c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			r := c.read()
			require.Equal(t, 200, r.status, addr)
			if filepath.IsAbs(addr[len("unix:"):]) {
				require.Equal(t, "unix", r.body)
			} else {
				require.Equal(t, "tcp", r.body)
			}
		}
	})

	t.Run("an IPv6 listener reports the client's IPv6 address", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger(), Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				_ = res.EndString(req.RemoteAddr().(*net.TCPAddr).IP.String())
			},
		}})
		t.Cleanup(func() { stop(t, srv) })
		l, err := srv.Listen("[::1]:0")
		if err != nil {
			t.Skipf("IPv6 loopback unavailable on this machine: %v", err)
		}
		c := dial(t, l.Addr().String())
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "::1", c.read().body)
	})

	t.Run("the server is listening as soon as Listen returns", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger()})
		t.Cleanup(func() { stop(t, srv) })
		for range 50 {
			_, err := srv.Listen("127.0.0.1:0")
			require.NoError(t, err)
			require.True(t, srv.Listening())
		}
	})

	t.Run("Close right after Listen closes the new listener", func(t *testing.T) {
		for range 20 {
			srv := server.New(server.Options{Logger: hclog.NewNullLogger()})
			l, err := srv.Listen("127.0.0.1:0")
			require.NoError(t, err)
			require.NoError(t, srv.Close())
			_, err = net.DialTimeout("tcp", l.Addr().String(), time.Second)
			require.Error(t, err, "the listener must be closed")
			recv(t, srv.Done(), "Done")
		}
	})

	t.Run("a stale Unix socket file is replaced", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "s.sock")
		old, err := net.Listen("unix", sock)
		require.NoError(t, err)
		old.(*net.UnixListener).SetUnlinkOnClose(false)
		require.NoError(t, old.Close())
		_, err = os.Lstat(sock)
		require.NoError(t, err, "the stale socket file should still exist")

		srv := server.New(server.Options{Logger: hclog.NewNullLogger(), Handlers: server.Handlers{Request: hello}})
		t.Cleanup(func() { stop(t, srv) })
		_, err = srv.Listen("unix:" + sock)
		require.NoError(t, err)
		c := dial(t, "unix:"+sock)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "hello world", c.read().body)
	})

	t.Run("a bad address is an error", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger()})
		t.Cleanup(func() { stop(t, srv) })
		_, err := srv.Listen("127.0.0.1:notaport")
		require.Error(t, err)
		require.False(t, srv.Listening())
	})

	t.Run("Serve returns ErrServerClosed after Close", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger()})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		waitFor(t, "the server to listen", srv.Listening)
		require.NoError(t, srv.Close())
		require.ErrorIs(t, recv(t, served, "Serve to return"), server.ErrServerClosed)
		require.False(t, srv.Listening())

		l2, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.ErrorIs(t, srv.Serve(l2), server.ErrServerClosed, "Serve on a closed server")
		_, err = net.Dial("tcp", l2.Addr().String())
		require.Error(t, err, "Serve on a closed server must close the listener")
	})

	t.Run("running out of descriptors is retried with a warning, not fatal", func(t *testing.T) {
		logs := &syncWriter{w: new(strings.Builder)}
		srv := server.New(server.Options{
			Logger:   hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Warn}),
			Handlers: server.Handlers{Request: hello},
		})
		t.Cleanup(func() { stop(t, srv) })
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		failing := &failingListener{Listener: l, errs: []error{
			&os.SyscallError{Syscall: "accept4", Err: syscall.EMFILE},
			&os.SyscallError{Syscall: "accept4", Err: syscall.ENFILE},
		}}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(failing) }()

		c := dial(t, l.Addr().String())
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "hello world", c.read().body, "served once the errors passed")
		require.Equal(t, 2, strings.Count(logs.String(), "accept failed; retrying"), logs.String())
		require.NoError(t, srv.Close())
		require.ErrorIs(t, recv(t, served, "Serve to return"), server.ErrServerClosed)
	})

	t.Run("another accept error ends Serve with it", func(t *testing.T) {
		srv := server.New(server.Options{Logger: hclog.NewNullLogger()})
		t.Cleanup(func() { stop(t, srv) })
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		broken := errors.New("listener broke")
		require.ErrorIs(t, srv.Serve(&failingListener{Listener: l, errs: []error{broken}}), broken)
	})
}

// failingListener returns its errors from Accept, one per call, before it
// accepts for real.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

// plainListener hides the file descriptor of its connections, as a TLS
// listener does, so the server reads them with blocking reads.
type plainListener struct{ net.Listener }

type plainConn struct{ net.Conn }

func (l plainListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return plainConn{c}, nil
}

func TestServeConnectionsWithoutDescriptor(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	serve := func(t *testing.T, opts server.Options) string {
		opts.Logger = hclog.NewNullLogger()
		srv := server.New(opts)
		t.Cleanup(func() { stop(t, srv) })
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = srv.Serve(plainListener{l}) }()
		return l.Addr().String()
	}
	// serveManual is serve with a manual clock.
	serveManual := func(t *testing.T, opts server.Options) (*server.Server, string, *server.Clock) {
		opts.Logger = hclog.NewNullLogger()
		srv := server.New(opts)
		clock := server.ManualClock(srv)
		t.Cleanup(func() { stop(t, srv) })
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = srv.Serve(plainListener{l}) }()
		return srv, l.Addr().String(), clock
	}

	t.Run("keep-alive and pipelining work", func(t *testing.T) {
		addr := serve(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/1", c.read().body)
		require.Equal(t, "/2", c.read().body)
		for i := range 50 {
			c.send(fmt.Sprintf("POST /%d HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n%s", i, strings.Repeat("b", 100)))
			require.Equal(t, fmt.Sprintf("/%d", i), c.read().body)
		}
	})

	t.Run("a head that arrives slowly after an idle period is not cut by keepAliveTimeout", func(t *testing.T) {
		srv, addr, clock := serveManual(t, server.Options{KeepAliveTimeout: shortTimeout, Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/1", c.read().body)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, shortTimeout/2) // idle, within keepAliveTimeout
		c.send("GET /2 HTTP/1.1\r\n")
		waitFor(t, "the second head to begin", func() bool { return server.Receiving(srv) })
		pass(clock, 3*shortTimeout)
		c.send("Host: a\r\n\r\n")
		require.Equal(t, "/2", c.read().body)
	})

	t.Run("headersTimeout counts from the first byte of the next request", func(t *testing.T) {
		srv, addr, clock := serveManual(t, server.Options{HeadersTimeout: 2 * shortTimeout, KeepAliveTimeout: 10 * time.Second, Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/1", c.read().body)
		waitFor(t, "the connection to be idle", func() bool { return server.Idle(srv) })
		pass(clock, 3*shortTimeout) // idle, longer than headersTimeout
		c.send("GET /2 HTTP/1.1\r\n")
		waitFor(t, "the second head to begin", func() bool { return server.Receiving(srv) })
		pass(clock, shortTimeout) // within headersTimeout of its first byte
		c.send("Host: a\r\n\r\n")
		require.Equal(t, "/2", c.read().body)
	})
}

func TestClose(t *testing.T) {
	t.Run("Close stops accepting and closes idle connections", func(t *testing.T) {
		var closed atomic.Int32
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello, Close: func() { closed.Add(1) }}})
		idle := dial(t, addr)
		idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, idle.read().status)
		fresh := dial(t, addr) // connected, never sent a byte
		waitFor(t, "two connections", func() bool { return srv.ConnectionCount() == 2 })

		require.NoError(t, srv.Close())
		require.False(t, srv.Listening())
		idle.expectClosed()
		fresh.expectClosed()
		recv(t, srv.Done(), "Done after the last connection")
		require.Equal(t, int32(1), closed.Load(), "the close event runs once")
		require.Equal(t, 0, srv.ConnectionCount())

		_, err := net.DialTimeout("tcp", addr, time.Second)
		require.Error(t, err, "a closed server must not accept")
		require.NoError(t, srv.Close(), "a second Close is harmless")
	})

	t.Run("Close lets an in-flight request finish, with Connection: close", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
				close(entered)
				<-release
				_ = res.EndString("late")
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		require.NoError(t, srv.Close())
		select {
		case <-srv.Done():
			t.Fatal("Done before the in-flight request finished")
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		r := c.read()
		require.Equal(t, "late", r.body)
		require.Equal(t, "close", r.get("connection"), "the server closes the connection after this response, so it must say so")
		c.expectClosed()
		recv(t, srv.Done(), "Done")
	})

	t.Run("Done and Shutdown wait for the close event to finish", func(t *testing.T) {
		var ran atomic.Bool
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello, Close: func() {
			time.Sleep(20 * time.Millisecond)
			ran.Store(true)
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		c.read()
		require.NoError(t, srv.Shutdown(context.Background()))
		require.True(t, ran.Load(), "Shutdown returned before the close event finished")
		recv(t, srv.Done(), "Done")
	})

	t.Run("Close from the close event is harmless", func(t *testing.T) {
		var srv *server.Server
		got := make(chan error, 1)
		srv, _ = start(t, server.Options{Handlers: server.Handlers{Request: hello, Close: func() {
			got <- srv.Close()
		}}})
		require.NoError(t, srv.Close())
		require.NoError(t, recv(t, got, "Close inside the close event"))
		recv(t, srv.Done(), "Done")
	})

	t.Run("a server closed before any listener is done at once", func(t *testing.T) {
		closed := make(chan struct{})
		srv := server.New(server.Options{Logger: hclog.NewNullLogger(), Handlers: server.Handlers{Close: func() { close(closed) }}})
		require.NoError(t, srv.Close())
		recv(t, srv.Done(), "Done")
		recv(t, closed, "the close event")
	})
}

func TestCloseIdleConnections(t *testing.T) {
	t.Run("only connections between requests are closed", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				if req.URL() == "/slow" {
					close(entered)
					<-release
				}
				_ = res.EndString(req.URL())
			},
		}})
		idle := dial(t, addr)
		idle.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "/fast", idle.read().body)
		busy := dial(t, addr)
		busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the slow handler")
		partial := dial(t, addr)
		// Once the first response has arrived, the server has read the
		// start of the next head, which came in the same packet.
		partial.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\nGET /partial HTTP/1.1\r\nHo")
		require.Equal(t, "/fast", partial.read().body)
		waitFor(t, "three connections", func() bool { return srv.ConnectionCount() == 3 })

		srv.CloseIdleConnections()
		idle.expectClosed()
		require.True(t, srv.Listening(), "CloseIdleConnections does not close the server")

		close(release)
		r := busy.read()
		require.Equal(t, "/slow", r.body)
		require.Equal(t, "keep-alive", r.get("connection"))
		partial.send("st: a\r\n\r\n")
		require.Equal(t, "/partial", partial.read().body, "a connection receiving a head is not idle")
		waitFor(t, "two connections", func() bool { return srv.ConnectionCount() == 2 })
	})
}

func TestCloseAllConnections(t *testing.T) {
	t.Run("in-flight requests are cut off and see the abort", func(t *testing.T) {
		entered := make(chan struct{})
		aborted := make(chan struct{})
		closeEvent := make(chan struct{})
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				if req.URL() != "/first" {
					_ = res.EndString("second")
					return
				}
				req.OnAborted(func() { close(aborted) })
				res.OnClose(func() { close(closeEvent) })
				close(entered)
				// The handler returns without ending the response.
			},
		}})
		c := dial(t, addr)
		c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		srv.CloseAllConnections()
		c.expectClosed()
		recv(t, aborted, "OnAborted")
		recv(t, closeEvent, "the response's close event")
		waitFor(t, "no connections", func() bool { return srv.ConnectionCount() == 0 })
		require.True(t, srv.Listening(), "CloseAllConnections does not close the server")

		c2 := dial(t, addr)
		c2.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "second", c2.read().body, "the server still serves new connections")
	})
}

func TestShutdown(t *testing.T) {
	t.Run("Shutdown waits for in-flight requests", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
				close(entered)
				<-release
				_ = res.EndString("finished")
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")

		done := make(chan error, 1)
		go func() { done <- srv.Shutdown(context.Background()) }()
		waitFor(t, "the server to stop listening", func() bool { return !srv.Listening() })
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v before the request finished", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		r := c.read()
		require.Equal(t, "finished", r.body)
		require.Equal(t, "close", r.get("connection"))
		require.NoError(t, recv(t, done, "Shutdown"))
		c.expectClosed()
	})

	t.Run("Shutdown closes everything when its context ends", func(t *testing.T) {
		entered := make(chan struct{})
		aborted := make(chan struct{})
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, _ *server.ServerResponse) {
				req.OnAborted(func() { close(aborted) })
				close(entered)
			},
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, entered, "the handler")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := srv.Shutdown(ctx)
		require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
		c.expectClosed()
		recv(t, aborted, "OnAborted")
		recv(t, srv.Done(), "Done")
	})
}

func TestConnectionCount(t *testing.T) {
	t.Run("connections are counted until the client leaves", func(t *testing.T) {
		var seen atomic.Int32
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:    hello,
			Connection: func(net.Conn) { seen.Add(1) },
		}})
		a, b := dial(t, addr), dial(t, addr)
		waitFor(t, "two connections", func() bool { return srv.ConnectionCount() == 2 })
		a.nc.Close()
		b.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, 200, b.read().status)
		waitFor(t, "one connection", func() bool { return srv.ConnectionCount() == 1 })
		b.nc.Close()
		waitFor(t, "no connection", func() bool { return srv.ConnectionCount() == 0 })
		require.Equal(t, int32(2), seen.Load(), "the connection event runs once per connection")
	})
}

// syncWriter is a log sink that tests may read while the server writes.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
