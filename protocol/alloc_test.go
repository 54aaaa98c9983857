//go:build !race

package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
)

// The data plane is the hot path: encoding into a reused buffer and
// decoding into a reused struct allocate nothing.

func TestEncodingAllocatesNothing(t *testing.T) {
	h := protocol.RequestHead{
		Event: protocol.EventRequest, Major: 1, Minor: 1, Method: []byte("GET"), URL: []byte("/index.html"),
		Fields:     bs("Host", "example.com", "Accept", "*/*", "User-Agent", "test"),
		RemoteAddr: []byte("127.0.0.1:5000"), LocalAddr: []byte("127.0.0.1:8080"),
	}
	e := protocol.End{
		HasHead: true,
		Head:    protocol.ResponseHead{Status: 200, Length: -1, Fields: bs("Content-Type", "text/plain")},
		Data:    []byte("hello"), Trailers: bs("X-T", "1"),
	}
	buf := make([]byte, 0, 4096)
	t.Run("a RequestHead frame encodes without allocating", func(t *testing.T) {
		require.Zero(t, testing.AllocsPerRun(100, func() {
			frame, off := protocol.Begin(buf[:0], 1, protocol.TypeRequest)
			buf = protocol.Finish(protocol.AppendRequestHead(frame, &h), off)
		}))
	})
	t.Run("an End frame encodes without allocating", func(t *testing.T) {
		require.Zero(t, testing.AllocsPerRun(100, func() {
			frame, off := protocol.Begin(buf[:0], 1, protocol.TypeEnd)
			buf = protocol.Finish(protocol.AppendEnd(frame, &e), off)
		}))
	})
	t.Run("decoding into reused structs allocates nothing", func(t *testing.T) {
		rp := protocol.AppendRequestHead(nil, &h)
		ep := protocol.AppendEnd(nil, &e)
		var dh protocol.RequestHead
		var de protocol.End
		require.NoError(t, protocol.DecodeRequestHead(rp, &dh))
		require.NoError(t, protocol.DecodeEnd(ep, &de))
		require.Zero(t, testing.AllocsPerRun(100, func() {
			_ = protocol.DecodeRequestHead(rp, &dh)
			_ = protocol.DecodeEnd(ep, &de)
		}))
	})
}
