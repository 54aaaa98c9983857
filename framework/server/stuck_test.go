package server_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

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
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		recv(t, writing, "the handler")
		time.Sleep(50 * time.Millisecond) // let the write fill the buffers
		closed := make(chan struct{})
		go func() { srv.CloseAllConnections(); close(closed) }()
		recv(t, closed, "CloseAllConnections to return")
		require.Error(t, recv(t, done, "the write to fail"))
	})

	t.Run("Shutdown's deadline ends a write to a client that does not read", func(t *testing.T) {
		writing, done := make(chan *server.ServerResponse, 1), make(chan error, 1)
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		recv(t, writing, "the handler")
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
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: writer(writing, done)}})
		c := dial(t, addr)
		c.send(get11)
		res := recv(t, writing, "the handler")
		time.Sleep(50 * time.Millisecond)
		destroyed := make(chan struct{})
		go func() { res.Destroy(); close(destroyed) }()
		recv(t, destroyed, "Destroy to return")
		require.Error(t, recv(t, done, "the write to fail"))
	})
}
