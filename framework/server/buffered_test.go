package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

func TestBufferedCountsTheBodyBytesAlreadyRead(t *testing.T) {
	type seen struct{ before, afterRead int }
	got := make(chan seen, 1)
	_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
		s := seen{before: req.Buffered()}
		if s.before > 1 {
			s.afterRead = -1 // the Read failed
			if _, err := req.Read(make([]byte, 2)); err == nil {
				s.afterRead = req.Buffered()
			}
		}
		got <- s
		_ = res.EndString("ok")
	}}})
	for _, tc := range []struct {
		name, raw string
		check     func(seen)
	}{
		{"a whole Content-Length body that came with the head", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
			func(s seen) { require.Equal(t, seen{5, 3}, s) }},
		{"no body", "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
			func(s seen) { require.Equal(t, 0, s.before) }},
		{"a chunked body", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			func(s seen) { require.Equal(t, 0, s.before) }},
		{"a body still on its way: never what has not come", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab",
			func(s seen) { require.LessOrEqual(t, s.before, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tc.raw)
			tc.check(<-got)
		})
	}
}
