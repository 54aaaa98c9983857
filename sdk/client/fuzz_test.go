package client_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hostd/hostd/sdk/client"
)

// FuzzClientResponse feeds arbitrary bytes to the client as the answer
// to a request, over a real connection. Whatever they are, the client
// must not panic, must end (the server closes after writing them, and a
// deadline bounds the rest), and must report either a response whose
// body ends or an error. Coverage varies with goroutine scheduling, so
// run it with a short -fuzzminimizetime (2s): minimising an interesting
// input otherwise takes the default minute, shown as 0 execs/sec.
func FuzzClientResponse(f *testing.F) {
	for _, tc := range malformed {
		f.Add([]byte(tc.raw))
	}
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nrest",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	answers := make(chan []byte)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			raw := <-answers
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				_, _ = c.Read(buf) // the request head
				_, _ = c.Write(raw)
			}()
		}
	}()
	addr := ln.Addr().String()
	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		upgraded := make(chan net.Conn, 1)
		req, err := client.NewRequest(ctx, client.Options{URL: "http://" + addr + "/", NoAgent: true,
			Headers: map[string][]string{"Expect": {"100-continue"}},
			Events:  client.Events{OnUpgrade: func(_ *client.IncomingMessage, c net.Conn, _ []byte) { upgraded <- c }}})
		if err != nil {
			t.Fatal(err)
		}
		answers <- raw
		_ = req.End(nil)
		res, err := req.Response(ctx)
		if err != nil {
			select {
			case c := <-upgraded:
				c.Close()
			default:
			}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		if ctx.Err() != nil {
			t.Fatalf("the client did not end by itself on %q", raw)
		}
	})
}
