package server_test

import (
	"io"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// FuzzConnection sends arbitrary bytes on a real connection, in two
// writes, then half-closes it, and checks what the engine does with them:
// everything it sends back is a sequence of well-formed responses, it
// closes the connection, forgets it, and nothing panics. The parser has
// its own targets; this one covers what the engine does around it
// (buffers, pipelining, bodies, Expect, errors).
func FuzzConnection(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.0\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n",
		"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
		"CONNECT a:1 HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n",
		"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"garbage",
	} {
		f.Add([]byte(seed), uint16(len(seed)/2))
	}

	var panics atomic.Int32
	log := hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Error})
	log = &panicCounter{Logger: log, n: &panics}
	answer := func(req *server.IncomingMessage, res *server.ServerResponse) {
		n, err := io.Copy(io.Discard, req)
		if err != nil {
			return // the engine answers a bad body itself
		}
		_ = res.SetHeader("X-Body-Length", strconv.FormatInt(n, 10))
		_ = res.WriteHead(204) // no body, whatever the method
		_ = res.End()
	}
	srv, addr := start(f, server.Options{
		Logger:         log,
		HeadersTimeout: 2 * time.Second,
		RequestTimeout: 3 * time.Second,
		Handlers:       server.Handlers{Request: answer, CheckContinue: answer, CheckExpectation: answer},
	})

	f.Fuzz(func(t *testing.T, raw []byte, cut uint16) {
		c := dial(t, addr)
		at := min(int(cut), len(raw))
		_, err := c.nc.Write(raw[:at])
		if err == nil {
			_, err = c.nc.Write(raw[at:])
		}
		if err == nil {
			_ = c.nc.(interface{ CloseWrite() error }).CloseWrite()
		}
		// Responses until the server closes the connection.
		for {
			if _, err := c.br.Peek(1); err != nil {
				if !isReset(err) {
					require.ErrorIs(t, err, io.EOF, "the server must close the connection")
				}
				break
			}
			r, err := c.tryRead(false)
			if err != nil && isReset(err) {
				break
			}
			require.NoError(t, err, "a malformed response")
			if r.untilEOF {
				break
			}
		}
		c.nc.Close()
		waitFor(t, "the server forgets the connection", func() bool { return srv.ConnectionCount() == 0 })
		require.Zero(t, panics.Load(), "the engine panicked")
	})
}

// panicCounter counts the error the engine logs when it recovers a
// panic; the fuzz target's handler never panics, so any is the engine's.
type panicCounter struct {
	hclog.Logger
	n *atomic.Int32
}

func (p *panicCounter) Error(msg string, args ...any) {
	if msg == "handler panicked; closing its connection" {
		p.n.Add(1)
	}
	p.Logger.Error(msg, args...)
}
