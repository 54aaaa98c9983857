package pluginhost_test

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// A plugin whose data plane closes while it answers fails its requests in
// flight: 502 before their head reached the client, a cut connection
// after, and never an answer that looks complete.
func TestAPluginThatClosesEarly(t *testing.T) {
	cases := []struct {
		name string
		// answer is what the plugin sends on stream id before it closes.
		answer func(p *peer, id uint32)
		// check reads what the client got.
		check func(t *testing.T, c *client)
	}{
		{
			name:   "before its head",
			answer: func(*peer, uint32) {},
			check:  func(t *testing.T, c *client) { c.requireBadGateway(t) },
		},
		{
			name: "after a head not yet flushed",
			answer: func(p *peer, id uint32) {
				p.head(id, 200, 0, "X-Plugin", "1")
			},
			// The head was given to the response, which counts as sent:
			// the host closes the connection without a byte of it.
			check: func(t *testing.T, c *client) { c.requireClosed(t) },
		},
		{
			name: "in a chunked body",
			answer: func(p *peer, id uint32) {
				p.head(id, 200, protocol.HeadFlush)
				p.body(id, "partial")
			},
			check: requireCut("partial"),
		},
		{
			name: "in a body of declared length",
			answer: func(p *peer, id uint32) {
				p.head(id, 200, protocol.HeadFlush, "Content-Length", "100")
				p.body(id, "partial")
			},
			check: requireCut("partial"),
		},
		{
			name: "in a body the SDK declared whole",
			answer: func(p *peer, id uint32) {
				p.send(id, protocol.TypeHead, protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: 200, Length: 100}))
				p.body(id, "partial")
			},
			check: requireCut("partial"),
		},
		{
			name: "in the middle of a frame",
			answer: func(p *peer, id uint32) {
				p.head(id, 200, protocol.HeadFlush)
				p.body(id, "whole")
				half := append(protocol.AppendHeader(nil, id, protocol.TypeBody, 100), strings.Repeat("x", 40)...)
				p.raw(half)
			},
			check: requireCut("whole"),
		},
		{
			name: "after its trailers' End lost its last frame",
			answer: func(p *peer, id uint32) {
				p.head(id, 200, protocol.HeadFlush, "Trailer", "X-Sum")
				p.body(id, "partial")
				end := append(protocol.AppendHeader(nil, id, protocol.TypeEnd, 50), 0)
				p.raw(end)
			},
			check: requireCut("partial"),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			bad, p := h.attach(t, "bad", pluginhost.Spec{})
			_, good := h.attach(t, "good", pluginhost.Spec{})
			neighbour := h.dial(t)
			neighbour.get(t, "/good/")
			gs := good.request(t)

			// Another request of the same plugin is in flight too.
			waiting := h.dial(t)
			waiting.get(t, "/bad/waiting")
			p.request(t)

			c := h.dial(t)
			c.get(t, "/bad/")
			s := p.request(t)
			tc.answer(p, s.id)
			p.close()
			tc.check(t, c)
			waiting.requireBadGateway(t)
			require.False(t, bad.Reserve(), "a dead instance takes no request")

			good.answer(gs.id, 200, "unaffected")
			neighbour.requireAnswer(t, 200, "unaffected")
		})
	}
}

// requireCut requires a response whose head arrived, with body up to the
// cut, on a connection that then closed.
func requireCut(body string) func(t *testing.T, c *client) {
	return func(t *testing.T, c *client) {
		t.Helper()
		res, got, err := c.response()
		require.NotNil(t, res, "the head was sent")
		require.Equal(t, 200, res.StatusCode)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut response must not look complete")
		require.Equal(t, body, got)
	}
}

// A plugin that dies while the client is still sending the request body:
// the client learns it at once, without having to send more: the failed
// stream is answered before ServeHTTP waits for the body pump, which is
// blocked reading the client.
func TestAPluginThatClosesWhileTheRequestBodyArrives(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "bad", pluginhost.Spec{})
	c := h.dial(t)
	c.write(t, "POST /bad/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	c.write(t, strings.Repeat("a", 1000))
	s := p.request(t)
	require.NotZero(t, s.head.Flags&protocol.ReqBodyFollows)
	s.await(t, protocol.TypeReqBody)
	p.close()
	c.requireBadGateway(t)
}
