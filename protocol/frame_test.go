package protocol_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
)

func TestAppendHeaderLayout(t *testing.T) {
	got := protocol.AppendHeader([]byte("xx"), 0x01020304, protocol.TypeEnd, 7)
	require.Equal(t, []byte{'x', 'x', 0, 0, 0, 12, 1, 2, 3, 4, byte(protocol.TypeEnd)}, got,
		"length counts stream, type and payload, big-endian")
}

func TestBeginFinishPatchesTheLength(t *testing.T) {
	t.Run("a frame begun at the start of a buffer", func(t *testing.T) {
		frame, off := protocol.Begin(nil, 9, protocol.TypeHead)
		require.Equal(t, 0, off)
		frame = protocol.Finish(append(frame, "payload"...), off)
		require.Equal(t, protocol.AppendHeader(nil, 9, protocol.TypeHead, 7), frame[:protocol.HeaderSize])
	})
	t.Run("a frame begun after another one", func(t *testing.T) {
		first := append(protocol.AppendHeader(nil, 1, protocol.TypeBody, 3), "abc"...)
		frame, off := protocol.Begin(first, 2, protocol.TypeEnd)
		require.Equal(t, len(first), off)
		frame = protocol.Finish(protocol.AppendEnd(frame, &protocol.End{Data: []byte("zz")}), off)
		require.Equal(t, first, frame[:off], "the first frame is left alone")
		size, stream, typ, err := protocol.ParseHeader(frame[off:])
		require.NoError(t, err)
		require.Equal(t, len(frame)-off, size)
		require.Equal(t, uint32(2), stream)
		require.Equal(t, protocol.TypeEnd, typ)
	})
}

func TestParseHeaderLimits(t *testing.T) {
	hdr := func(n uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(b, 0, 0, 0, 5, byte(protocol.TypeBody))
	}
	for _, tc := range []struct {
		name   string
		length uint32
		ok     bool
	}{
		{name: "a length below the stream and type is refused", length: 4},
		{name: "a zero length is refused", length: 0},
		{name: "an empty payload is accepted", length: 5, ok: true},
		{name: "MaxFrame is accepted", length: protocol.MaxFrame, ok: true},
		{name: "one past MaxFrame is refused", length: protocol.MaxFrame + 1},
		{name: "the largest length is refused", length: 1<<32 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, stream, typ, err := protocol.ParseHeader(hdr(tc.length))
			if !tc.ok {
				require.ErrorIs(t, err, protocol.ErrFrame)
				return
			}
			require.NoError(t, err)
			require.Equal(t, int(tc.length)+4, size)
			require.Equal(t, uint32(5), stream)
			require.Equal(t, protocol.TypeBody, typ)
		})
	}
}

func TestTypeNames(t *testing.T) {
	names := map[protocol.Type]string{}
	for typ := range 256 {
		names[protocol.Type(typ)] = protocol.Type(typ).String()
	}
	for typ, want := range map[protocol.Type]string{
		protocol.TypeRequest: "Request", protocol.TypeReqBody: "ReqBody", protocol.TypeReqEnd: "ReqEnd",
		protocol.TypeAbort: "Abort", protocol.TypeTimeout: "Timeout", protocol.TypeHead: "Head",
		protocol.TypeInfo: "Info", protocol.TypeBody: "Body", protocol.TypeEnd: "End",
		protocol.TypeReset: "Reset", protocol.TypeSetTimeout: "SetTimeout", protocol.TypeCredit: "Credit",
		protocol.TypeSockData: "SockData", protocol.TypeSockEnd: "SockEnd", protocol.TypeSockClose: "SockClose",
		0: "Type(0)", 99: "Type(99)",
	} {
		require.Equal(t, want, names[typ])
	}
	t.Run("types follow their direction ranges", func(t *testing.T) {
		for _, typ := range []protocol.Type{protocol.TypeRequest, protocol.TypeReqBody, protocol.TypeReqEnd, protocol.TypeAbort, protocol.TypeTimeout} {
			require.True(t, typ >= 1 && typ <= 15, "%v goes from host to plugin", typ)
		}
		for _, typ := range []protocol.Type{protocol.TypeHead, protocol.TypeInfo, protocol.TypeBody, protocol.TypeEnd, protocol.TypeReset, protocol.TypeSetTimeout} {
			require.True(t, typ >= 16 && typ <= 31, "%v goes from plugin to host", typ)
		}
		for _, typ := range []protocol.Type{protocol.TypeCredit, protocol.TypeSockData, protocol.TypeSockEnd, protocol.TypeSockClose} {
			require.True(t, typ >= 32, "%v goes either way", typ)
		}
	})
	t.Run("a body chunk and its header fit in a frame", func(t *testing.T) {
		require.LessOrEqual(t, protocol.MaxChunk+5, protocol.MaxFrame)
		require.GreaterOrEqual(t, protocol.Window, protocol.MaxChunk)
	})
}
