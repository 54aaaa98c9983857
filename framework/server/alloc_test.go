//go:build !race

package server_test

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

func TestAllocations(t *testing.T) {
	t.Run("a warm keep-alive hello-world request allocates nothing", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		nc := c.nc.(*net.TCPConn)
		request := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")

		// The response always has the same length: its Date value has a
		// fixed width.
		c.send(string(request))
		first := c.read()
		require.Equal(t, "hello world", first.body)
		respLen := len(first.raw)
		buf := make([]byte, respLen)

		var failed error
		roundTrip := func() {
			if _, err := nc.Write(request); err != nil {
				failed = err
				return
			}
			if _, err := io.ReadFull(nc, buf); err != nil {
				failed = err
			}
		}
		for range 100 { // warm the pools and the connection's buffers
			roundTrip()
		}
		require.NoError(t, failed)
		allocs := testing.AllocsPerRun(200, roundTrip)
		require.NoError(t, failed)
		require.Equal(t, "hello world", string(buf[respLen-len("hello world"):]))
		require.Zero(t, allocs, "allocations per request, server and client together")
	})
}
