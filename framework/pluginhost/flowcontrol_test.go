package pluginhost_test

import (
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

func TestAFakePluginAnswers(t *testing.T) {
	h := newHost(t)
	in, p := h.attach(t, "a", pluginhost.Spec{})
	c := h.dial(t)
	for _, path := range []string{"/a/one", "/a/two"} {
		c.get(t, path)
		s := p.request(t)
		require.Equal(t, path, string(s.head.URL))
		p.head(s.id, 200, 0, "X-Plugin", "fake")
		p.body(s.id, "hello ")
		p.end(s.id, path)
		res := c.requireAnswer(t, 200, "hello "+path)
		require.Equal(t, "fake", res.Header.Get("X-Plugin"))
	}
	require.Zero(t, in.OpenStreams())
}

// flood is what the flooding plugin sends, without waiting for credit: far
// more than the client's socket buffers (its receive buffer is small, the
// host's send buffer at most net.ipv4.tcp_wmem's 4 MiB by default) and the
// two batches of the stream's inbox can hold.
const flood = 32 << 20

// TestAPluginThatIgnoresCreditLosesOnlyThatStream floods a response whose
// client does not read: once the stream's inbox is full the host cuts the
// stream off, drops what follows, aborts it and closes the client's
// connection, while its other streams and another plugin keep working.
func TestAPluginThatIgnoresCreditLosesOnlyThatStream(t *testing.T) {
	h := newHost(t)
	bad, p := h.attach(t, "bad", pluginhost.Spec{})
	_, good := h.attach(t, "good", pluginhost.Spec{})

	// A request to the other plugin is in flight throughout.
	neighbour := h.dial(t)
	neighbour.get(t, "/good/")
	gs := good.request(t)

	c := h.dial(t)
	require.NoError(t, c.conn.(*net.TCPConn).SetReadBuffer(64<<10))
	c.get(t, "/bad/flood")
	s := p.request(t)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	p.head(s.id, 200, protocol.HeadFlush)
	chunk := make([]byte, protocol.MaxChunk)
	frame := append(protocol.AppendHeader(nil, s.id, protocol.TypeBody, len(chunk)), chunk...)
	for sent := 0; sent < flood; sent += len(chunk) {
		p.raw(frame)
	}
	p.end(s.id, "")

	// The host reads a plugin's frames in order: once this other stream is
	// answered, all of the flood has reached the host.
	other := h.dial(t)
	other.get(t, "/bad/other")
	s2 := p.request(t)
	p.answer(s2.id, 200, "still serving")
	other.requireAnswer(t, 200, "still serving")

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	require.Less(t, grew, int64(12<<20), "the host queued the flood instead of cutting it off")

	res, body, err := c.response()
	require.NotNil(t, res, "the head was sent before the flood")
	require.Equal(t, 200, res.StatusCode)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut-off response must not look complete")
	require.Less(t, len(body), flood)
	s.await(t, protocol.TypeAbort)

	good.answer(gs.id, 200, "unaffected")
	neighbour.requireAnswer(t, 200, "unaffected")

	// The instance itself keeps serving.
	again := h.dial(t)
	again.get(t, "/bad/again")
	s3 := p.request(t)
	p.answer(s3.id, 200, "again")
	again.requireAnswer(t, 200, "again")
	require.Zero(t, bad.OpenStreams())
}
