package pluginhost_test

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// A frame the host cannot apply to its stream costs that stream: its
// client gets 502 and the plugin an Abort; the instance keeps serving.
func TestABadFrameCostsOnlyItsStream(t *testing.T) {
	head := headPayload(200, 0, "Content-Type", "text/plain")
	cases := []struct {
		name string
		t    protocol.Type
		p    []byte
	}{
		{"an unknown frame type", protocol.Type(99), []byte("?")},
		{"a frame type only the host sends", protocol.TypeReqBody, []byte("body")},
		{"a relayed-socket frame on a request", protocol.TypeSockData, []byte("raw")},
		{"a truncated head", protocol.TypeHead, head[:len(head)-3]},
		{"a head with trailing bytes", protocol.TypeHead, append(head[:len(head):len(head)], 0)},
		{"a head with an invalid header name", protocol.TypeHead, headPayload(200, 0, "X-Good", "1", "Bad Name", "x")},
		{"a head with an empty header name", protocol.TypeHead, headPayload(200, 0, "", "x")},
		{"a head whose value smuggles a header", protocol.TypeHead, headPayload(200, 0, "X-A", "1\r\nSet-Cookie: evil=1")},
		{"a head with an invalid status", protocol.TypeHead, headPayload(1000, 0, "X-Good", "1")},
		{"a head whose reason has a line break", protocol.TypeHead, protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: 200, Length: -1, Reason: []byte("OK\r\nX-Evil: 1")})},
		{"an End with an invalid head flag", protocol.TypeEnd, []byte{7, 0, 0}},
		{"an End whose head has an invalid header name", protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{
			HasHead: true, Head: protocol.ResponseHead{Status: 200, Length: -1, Fields: byteFields([]string{"Bad:Name", "x"})}, Data: []byte("x"),
		})},
		{"an End with an invalid trailer name", protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{
			Data: []byte("x"), Trailers: byteFields([]string{"Bad Name", "x"}),
		})},
		{"an End with a truncated body", protocol.TypeEnd, endPayload(200, "hello")[:10]},
		{"early hints with an invalid header name", protocol.TypeInfo, protocol.AppendInfo(nil, &protocol.Info{Status: 103, Fields: byteFields([]string{"Bad Name", "x"})})},
		{"a truncated Info", protocol.TypeInfo, []byte{0}},
		{"a SetTimeout of the wrong size", protocol.TypeSetTimeout, []byte{0, 0, 1}},
	}
	h := newHost(t)
	in, p := h.attach(t, "bad", pluginhost.Spec{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t)
			c.get(t, "/bad/")
			s := p.request(t)
			p.send(s.id, tc.t, tc.p)
			c.requireBadGateway(t)
			s.await(t, protocol.TypeAbort)

			// The same connection and the same instance go on.
			c.get(t, "/bad/next")
			s = p.request(t)
			p.answer(s.id, 200, "next")
			c.requireAnswer(t, 200, "next")
			require.Zero(t, in.OpenStreams())
		})
	}
}

// An informational status the host cannot send is a bad frame too: the
// stream fails (502), rather than the frame being dropped and the rest of
// the answer relayed.
func TestAnUnsupportedInformationalStatusCostsItsStream(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "bad", pluginhost.Spec{})
	c := h.dial(t)
	c.get(t, "/bad/")
	s := p.request(t)
	p.send(s.id, protocol.TypeInfo, protocol.AppendInfo(nil, &protocol.Info{Status: 150}))
	p.answer(s.id, 200, "after a refused frame")
	c.requireBadGateway(t)
	s.await(t, protocol.TypeAbort)
}

// Once the head has reached the client, a bad frame can only cut the
// connection: the response must not look complete.
func TestABadFrameAfterTheHeadClosesTheConnection(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "bad", pluginhost.Spec{})
	for _, tc := range []struct {
		name string
		t    protocol.Type
		p    []byte
	}{
		{"an unknown frame type", protocol.Type(99), nil},
		{"a second head", protocol.TypeHead, headPayload(200, 0)},
		{"an End with its own head", protocol.TypeEnd, endPayload(200, "again")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial(t)
			c.get(t, "/bad/")
			s := p.request(t)
			p.head(s.id, 200, protocol.HeadFlush)
			p.body(s.id, "partial")
			p.send(s.id, tc.t, tc.p)
			res, body, err := c.response()
			require.NotNil(t, res)
			require.Equal(t, 200, res.StatusCode)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			require.Equal(t, "partial", body)
			s.await(t, protocol.TypeAbort)
		})
	}
}

// A frame whose length the protocol forbids makes the whole data plane
// untrustworthy: the host closes it, the instance's requests in flight get
// 502, and another instance is not disturbed.
func TestABadFrameLengthEndsTheInstance(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"shorter than a frame header", frameLength(3)},
		{"zero", frameLength(0)},
		{"longer than MaxFrame", frameLength(protocol.MaxFrame + 1)},
		{"the largest uint32", frameLength(1<<32 - 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			bad, p := h.attach(t, "bad", pluginhost.Spec{})
			_, good := h.attach(t, "good", pluginhost.Spec{})
			neighbour := h.dial(t)
			neighbour.get(t, "/good/")
			gs := good.request(t)

			first, second := h.dial(t), h.dial(t)
			first.get(t, "/bad/1")
			p.request(t)
			second.get(t, "/bad/2")
			p.request(t)
			p.raw(tc.raw)
			p.awaitGone(t)
			first.requireBadGateway(t)
			second.requireBadGateway(t)
			require.False(t, bad.Reserve(), "a dead instance takes no request")

			good.answer(gs.id, 200, "unaffected")
			neighbour.requireAnswer(t, 200, "unaffected")
		})
	}
}

// frameLength is a frame header declaring length n, for stream 1.
func frameLength(n uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(b, 0, 0, 0, 1, byte(protocol.TypeBody))
}

// Frames for a stream the host does not know are dropped: one that has
// not been opened yet, one that never will, one that has ended.
func TestFramesForAnUnknownStreamAreDropped(t *testing.T) {
	h := newHost(t)
	in, p := h.attach(t, "p", pluginhost.Spec{})
	c := h.dial(t)

	c.get(t, "/p/1")
	s := p.request(t)
	p.answer(s.id+1, 200, "too early") // the next stream's id
	p.answer(1<<32-1, 200, "nobody")
	p.body(0, "stream zero")
	p.answer(s.id, 200, "one")
	c.requireAnswer(t, 200, "one")

	p.answer(s.id, 200, "ended") // the stream is over
	p.body(s.id, "ended")
	c.get(t, "/p/2")
	s2 := p.request(t)
	require.Equal(t, s.id+1, s2.id)
	p.answer(s2.id, 201, "two")
	c.requireAnswer(t, 201, "two")
	require.Zero(t, in.OpenStreams())
}
