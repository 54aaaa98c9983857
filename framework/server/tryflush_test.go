package server_test

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// TryFlush writes what the socket takes at once and never waits: on a
// socket whose client does not read, it returns with the bytes kept, and
// the flush after the handler sends them once the client reads. The
// handler plays pluginhost's reader, which finishes a response from
// another goroutine while the connection's goroutine waits.
func TestTryFlushNeverWaitsForTheClient(t *testing.T) {
	conns := make(chan net.Conn, 1)
	filled := make(chan int, 1)
	flushed := make(chan struct{})
	_, addr := start(t, server.Options{Handlers: server.Handlers{
		Connection: func(nc net.Conn) { conns <- nc },
		Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			filled <- fill(t, <-conns)
			go func() {
				_ = res.EndString("the answer")
				res.TryFlush()
				close(flushed)
			}()
			select {
			case <-flushed:
			case <-time.After(ioTimeout):
				t.Error("TryFlush waited for a client that does not read")
			}
		},
	}})
	c := dial(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	n := <-filled
	select {
	case <-flushed:
	case <-time.After(ioTimeout):
		t.Fatal("TryFlush waited for a client that does not read")
	}
	got := make([]byte, n)
	_, err := io.ReadFull(c.br, got)
	require.NoError(t, err)
	require.True(t, bytes.Count(got, []byte("z")) == n, "the bytes before the answer")
	r := c.read()
	require.Equal(t, 200, r.status)
	require.Equal(t, "the answer", r.body)
}

// fill writes to nc's socket until it takes no more, without waiting, and
// returns how many bytes it wrote.
func fill(t *testing.T, nc net.Conn) int {
	rc, err := nc.(syscall.Conn).SyscallConn()
	require.NoError(t, err)
	chunk := bytes.Repeat([]byte("z"), 64<<10)
	total := 0
	require.NoError(t, rc.Write(func(fd uintptr) bool {
		for {
			n, err := syscall.Write(int(fd), chunk)
			if n > 0 {
				total += n
			}
			if err != nil {
				return true // EAGAIN: full
			}
		}
	}))
	return total
}
