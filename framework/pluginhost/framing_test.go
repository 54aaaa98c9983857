package pluginhost_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// The host decides the framing of what a plugin answers and checks it
// again (DESIGN.md: it refuses ambiguous framing and never writes past a
// declared length; a broken answer costs its own connection). Each answer
// below is broken; on a kept-alive connection the client must get a 502,
// or a response cut with its connection, or a response of exactly the
// declared length — and then nothing but the next request's own answer.
func TestABrokenAnswerNeverPoisonsTheConnection(t *testing.T) {
	lengthHead := func(n int64) []byte {
		return protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: 200, Length: n})
	}
	cases := []struct {
		name     string
		declared int // the Content-Length the answer declares, or -1
		answer   func(p *peer, id uint32)
	}{
		{"a body longer than its Content-Length, in End", 3, func(p *peer, id uint32) {
			p.head(id, 200, 0, "Content-Length", "3")
			p.end(id, "abcdef")
		}},
		{"a body longer than its Content-Length, in Body", 3, func(p *peer, id uint32) {
			p.head(id, 200, protocol.HeadFlush, "Content-Length", "3")
			p.body(id, "abcdef")
			p.end(id, "")
		}},
		{"a body longer than the Content-Length of End's head", 2, func(p *peer, id uint32) {
			p.send(id, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{HasHead: true,
				Head: protocol.ResponseHead{Status: 200, Length: -1, Fields: byteFields([]string{"Content-Length", "2"})},
				Data: []byte("abcdef")}))
		}},
		{"a body longer than the length the SDK declared", 3, func(p *peer, id uint32) {
			p.send(id, protocol.TypeHead, lengthHead(3))
			p.body(id, "abcdef")
			p.end(id, "")
		}},
		{"a body shorter than its Content-Length", 10, func(p *peer, id uint32) {
			p.head(id, 200, 0, "Content-Length", "10")
			p.end(id, "abc")
		}},
		{"a body shorter than the length the SDK declared", 10, func(p *peer, id uint32) {
			p.send(id, protocol.TypeHead, lengthHead(10))
			p.body(id, "abc")
			p.end(id, "")
		}},
		{"Content-Length with chunked", -1, func(p *peer, id uint32) {
			p.head(id, 200, 0, "Content-Length", "3", "Transfer-Encoding", "chunked")
			p.end(id, "abc")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			_, p := h.attach(t, "bad", pluginhost.Spec{})
			c := h.dial(t)
			// The second request is pipelined: a host that keeps a
			// connection whose answer fell short lets the client read the
			// next answer's bytes as the end of this one.
			c.get(t, "/bad/1")
			c.get(t, "/bad/2")
			s := p.request(t)
			tc.answer(p, s.id)
			type outcome struct {
				res  *http.Response
				body string
				err  error
			}
			// Each read runs beside the plugin: a host that gives up the
			// connection never sends the second request to the plugin.
			read := func() chan outcome {
				ch := make(chan outcome, 1)
				go func() {
					res, body, err := c.response()
					ch <- outcome{res, body, err}
				}()
				return ch
			}
			answered := false
			first := read()
			var got outcome
			select {
			case s2 := <-p.reqs:
				answered = true
				p.answer(s2.id, 200, "two")
				got = <-first
			case got = <-first:
			}
			head, _, _ := bytes.Cut(c.seen.Bytes(), []byte("\r\n\r\n"))
			require.False(t, bytes.Contains(bytes.ToLower(head), []byte("content-length")) &&
				bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding")), "ambiguous framing sent: %q", head)
			if got.err != nil {
				c.requireClosed(t) // the answer was cut, and its connection with it
				return
			}
			if got.res.StatusCode != 502 && tc.declared >= 0 {
				require.Equal(t, strconv.Itoa(tc.declared), got.res.Header.Get("Content-Length"))
				require.Len(t, got.body, tc.declared)
			}
			second := read()
			select {
			case s2 := <-p.reqs:
				if !answered {
					answered = true
					p.answer(s2.id, 200, "two")
				}
				got = <-second
			case got = <-second:
			}
			if got.err != nil {
				// The host gave up the connection after the answer:
				// nothing may follow it, not even a stray byte.
				require.True(t, errors.Is(got.err, io.ErrUnexpectedEOF) || errors.Is(got.err, syscall.ECONNRESET),
					"%v after %q", got.err, c.seen.Bytes())
				return
			}
			require.Equal(t, 200, got.res.StatusCode)
			require.Equal(t, "two", got.body)
		})
	}
}
