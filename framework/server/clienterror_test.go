package server_test

import (
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/http1"
)

func TestClientErrorEvent(t *testing.T) {
	t.Run("by default a malformed request gets Node's bare 400", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
		require.Equal(t, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", c.readAll())
	})

	t.Run("by default oversized chunk extensions get 413", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoBody}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" + strings.Repeat("b", 17<<10) + "\r\nx\r\n0\r\n\r\n")
		require.Equal(t, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n", c.readAll())
	})

	t.Run("a malformed body makes Read fail and gets 400 while the response has not begun", func(t *testing.T) {
		readErr := make(chan error, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			_, err := readBody(req)
			readErr <- err
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")
		require.Equal(t, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", c.readAll())
		require.ErrorIs(t, recv(t, readErr, "Read"), http1.ErrInvalidChunkSize)
	})

	t.Run("once the response has begun a client error destroys the socket without a 400", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
				_, _ = res.WriteString("partial")
				_, _ = readBody(req)
			},
		}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
		require.Equal(t, 200, c.readHead().status)
		c.send("zz\r\n")
		rest := c.readAll()
		require.Equal(t, "7\r\npartial\r\n", rest, "nothing after the body bytes already sent")
	})

	t.Run("the handler gets the error, BytesParsed and RawPacket, and the socket is closed after it", func(t *testing.T) {
		errs := make(chan *server.ClientError, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request: echoBody,
			ClientError: func(err *server.ClientError, socket net.Conn) {
				errs <- err
				_, _ = io.WriteString(socket, "HTTP/1.1 400 Custom\r\n\r\n")
			},
		}})
		// Codes and offsets as Node v20 reports them for the same bytes.
		for _, tc := range []struct {
			raw         string
			code        string
			bytesParsed int
		}{
			{"GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", "HPE_INVALID_HEADER_TOKEN", 26},
			{"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", "HPE_INVALID_HEADER_TOKEN", 29},
			{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HPE_INVALID_CHUNK_SIZE", 56},
			{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n", "HPE_INVALID_CHUNK_SIZE", 64},
			{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", "HPE_STRICT", 62},
			{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n", "HPE_INVALID_HEADER_TOKEN", 62},
		} {
			c := dial(t, addr)
			c.send(tc.raw)
			require.Equal(t, "HTTP/1.1 400 Custom\r\n\r\n", c.readAll())
			err := recv(t, errs, "the ClientError handler")
			require.Equal(t, tc.code, err.Code, "%q", tc.raw)
			require.Equal(t, tc.raw, string(err.RawPacket), "%q", tc.raw)
			require.Equal(t, tc.bytesParsed, err.BytesParsed, "%q", tc.raw)
		}
	})

	t.Run("an error deep in a long body is located in RawPacket", func(t *testing.T) {
		errs := make(chan *server.ClientError, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:     echoBody,
			ClientError: func(err *server.ClientError, _ net.Conn) { errs <- err },
		}})
		c := dial(t, addr)
		head := "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		c.send(head)
		for range 20 { // 20 KiB of body, more than the read buffer holds
			c.send("400\r\n" + strings.Repeat("x", 1024) + "\r\n")
		}
		c.send("zz\r\n")
		err := recv(t, errs, "the ClientError handler")
		require.Equal(t, "HPE_INVALID_CHUNK_SIZE", err.Code)
		require.True(t, strings.HasPrefix(string(err.RawPacket), head), "RawPacket starts with the head")
		require.Less(t, err.BytesParsed, len(err.RawPacket))
		require.Equal(t, "zz\r\n", string(err.RawPacket[err.BytesParsed:]))
	})

	t.Run("a client that leaves mid-head raises an EOF error and gets 400", func(t *testing.T) {
		errs := make(chan *server.ClientError, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:     hello,
			ClientError: func(err *server.ClientError, _ net.Conn) { errs <- err },
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHo")
		require.NoError(t, c.nc.(*net.TCPConn).CloseWrite())
		err := recv(t, errs, "the ClientError handler")
		require.Equal(t, "HPE_INVALID_EOF_STATE", err.Code)
		require.Equal(t, "GET / HTTP/1.1\r\nHo", string(err.RawPacket))

		_, addr = start(t, server.Options{Handlers: server.Handlers{Request: hello}})
		c = dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHo")
		require.NoError(t, c.nc.(*net.TCPConn).CloseWrite())
		require.Equal(t, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", c.readAll())
	})

	t.Run("the responses to pipelined requests before a malformed one are sent first", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: echoURL}})
		c := dial(t, addr)
		c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nBAD / HTTP/1.1\r\n\r\n")
		require.Equal(t, "/1", c.read().body)
		require.Equal(t, "/2", c.read().body)
		require.Equal(t, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", c.readAll())
	})

	t.Run("a client that leaves between requests raises nothing", func(t *testing.T) {
		var events atomic.Int32
		srv, addr := start(t, server.Options{Handlers: server.Handlers{
			Request:     hello,
			ClientError: func(*server.ClientError, net.Conn) { events.Add(1) },
		}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		c.read()
		c.nc.Close()
		waitFor(t, "the connection to end", func() bool { return srv.ConnectionCount() == 0 })
		require.Equal(t, int32(0), events.Load())
	})
}
