package server_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// bigBody is more than the socket buffers of both ends hold, so that
// writing it blocks while the client does not read.
var bigBody = strings.Repeat("z", 64<<20)

func TestStuckWrites(t *testing.T) {
	// writer starts writing bigBody and signals once it is under way.
	writer := func(writing chan<- *server.ServerResponse, done chan<- error) func(*server.IncomingMessage, *server.ServerResponse) {
		return func(_ *server.IncomingMessage, res *server.ServerResponse) {
			writing <- res
			_, err := res.WriteString(bigBody)
			done <- err
		}
	}

	t.Run("CloseAllConnections unblocks a write to a client that does not read", func(t *testing.T) {
		writing, done := make(chan *server.ServerResponse, 1), make(chan error, 1)
		srv, addr, stuck := startSpied(t, server.Options{Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		recv(t, writing, "the handler")
		recv(t, stuck, "the body's write to reach the socket")
		closed := make(chan struct{})
		go func() { srv.CloseAllConnections(); close(closed) }()
		recv(t, closed, "CloseAllConnections to return")
		require.Error(t, recv(t, done, "the write to fail"))
	})

	t.Run("Shutdown's deadline ends a write to a client that does not read", func(t *testing.T) {
		writing, done := make(chan *server.ServerResponse, 1), make(chan error, 1)
		srv, addr, stuck := startSpied(t, server.Options{Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		recv(t, writing, "the handler")
		recv(t, stuck, "the body's write to reach the socket")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		result := make(chan error, 1)
		go func() { result <- srv.Shutdown(ctx) }()
		require.ErrorIs(t, recv(t, result, "Shutdown to return"), context.DeadlineExceeded)
		require.Error(t, recv(t, done, "the write to fail"))
	})

	t.Run("the socket timeout destroys a connection whose write is stuck", func(t *testing.T) {
		writing, done := make(chan *server.ServerResponse, 1), make(chan error, 1)
		_, addr := start(t, server.Options{Timeout: longTimeout, Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		recv(t, writing, "the handler")
		require.Error(t, recv(t, done, "the write to fail"))
	})

	t.Run("requestTimeout destroys a connection whose write is stuck while the body is incomplete", func(t *testing.T) {
		writing, done := make(chan *server.ServerResponse, 1), make(chan error, 1)
		errs := make(chan *server.ClientError, 1)
		before := runtime.NumGoroutine()
		_, addr := start(t, server.Options{RequestTimeout: 200 * time.Millisecond, Handlers: server.Handlers{
			Request:     writer(writing, done),
			ClientError: func(err *server.ClientError, _ net.Conn) { errs <- err },
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
		recv(t, writing, "the handler")
		require.Error(t, recv(t, done, "the write to fail"))
		err := recv(t, errs, "the ClientError event")
		require.ErrorIs(t, err, server.ErrRequestTimeout)
		require.True(t, err.HeadersSent)
		require.Less(t, runtime.NumGoroutine()-before, 10, "the sweeper must not pile up goroutines on a stuck connection")
	})

	t.Run("Destroy from another goroutine unblocks a stuck write", func(t *testing.T) {
		writing, done := make(chan *server.ServerResponse, 1), make(chan error, 1)
		_, addr, stuck := startSpied(t, server.Options{Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		res := recv(t, writing, "the handler")
		recv(t, stuck, "the body's write to reach the socket")
		destroyed := make(chan struct{})
		go func() { res.Destroy(); close(destroyed) }()
		recv(t, destroyed, "Destroy to return")
		require.Error(t, recv(t, done, "the write to fail"))
	})
}

// startSpied is start with connections that report, on stuck, when a
// write of bigBody begins: from then on the response holds its
// connection's lock in a write that cannot finish, since the client does
// not read.
func startSpied(t *testing.T, opts server.Options) (*server.Server, string, <-chan struct{}) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	stuck := make(chan struct{}, 1)
	srv := server.New(opts)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(&spyListener{Listener: l, stuck: stuck})
	}()
	t.Cleanup(func() {
		stop(t, srv)
		<-served
	})
	return srv, l.Addr().String(), stuck
}

type spyListener struct {
	net.Listener
	stuck chan struct{}
}

func (l *spyListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &writeSpy{Conn: nc, raw: nc.(syscall.Conn), stuck: l.stuck}, nil
}

// writeSpy embeds the net.Conn interface, not *net.TCPConn, so that
// net.Buffers falls back to Write (which it reports) instead of a writev
// it would not see; SyscallConn keeps the close watch working.
type writeSpy struct {
	net.Conn
	raw   syscall.Conn
	stuck chan struct{}
}

func (w *writeSpy) Write(p []byte) (int, error) {
	if len(p) >= len(bigBody)/2 {
		select {
		case w.stuck <- struct{}{}:
		default:
		}
	}
	return w.Conn.Write(p)
}

func (w *writeSpy) SyscallConn() (syscall.RawConn, error) { return w.raw.SyscallConn() }
