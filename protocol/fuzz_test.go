package protocol_test

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/protocol"
)

// The fuzz targets run their seeds (below and in testdata/fuzz) with every
// go test; go test -fuzz=FuzzX explores from them.

// maxSeed keeps the large table cases out of the seeds: minimizing a new
// input grown from a 100 KiB seed takes the fuzzer minutes.
const maxSeed = 4 << 10

func FuzzDecodeRequestHead(f *testing.F) {
	for _, tc := range requestHeadCases() {
		if p := protocol.AppendRequestHead(nil, &tc.head); len(p) <= maxSeed {
			f.Add(p)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		var h protocol.RequestHead
		if err := protocol.DecodeRequestHead(p, &h); err != nil {
			require.ErrorIs(t, err, protocol.ErrFrame)
			return
		}
		// What decodes re-encodes to something that decodes the same.
		var again protocol.RequestHead
		require.NoError(t, protocol.DecodeRequestHead(protocol.AppendRequestHead(nil, &h), &again))
		require.Equal(t, viewRequestHead(&h), viewRequestHead(&again))
	})
}

func FuzzDecodeEnd(f *testing.F) {
	for _, tc := range endCases() {
		if p := protocol.AppendEnd(nil, &tc.end); len(p) <= maxSeed {
			f.Add(p)
		}
	}
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, p []byte) {
		var e protocol.End
		if err := protocol.DecodeEnd(p, &e); err != nil {
			require.ErrorIs(t, err, protocol.ErrFrame)
			return
		}
		var again protocol.End
		require.NoError(t, protocol.DecodeEnd(protocol.AppendEnd(nil, &e), &again))
		require.Equal(t, viewEnd(&e), viewEnd(&again))
	})
}

func FuzzReader(f *testing.F) {
	var stream []byte
	for _, tc := range requestHeadCases()[:4] {
		p := protocol.AppendRequestHead(nil, &tc.head)
		f.Add(frame(1, protocol.TypeRequest, p))
		stream = append(stream, frame(1, protocol.TypeRequest, p)...)
	}
	stream = append(stream, frame(1, protocol.TypeReqBody, []byte("body"))...)
	stream = append(stream, frame(1, protocol.TypeCredit, protocol.AppendUint32(nil, 1024))...)
	f.Add(stream)
	f.Add(frame(7, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{Data: []byte("x")})))
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 1, 1})
	f.Add([]byte{0, 0x10, 0, 1, 0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := testutil.SocketPair(t)
		deadline(t, b)
		go func() {
			_, _ = a.Write(data)
			a.Close()
		}()
		r := protocol.NewReader(b)
		defer r.Close()
		read := 0
		for {
			fr, err := r.Next()
			if err != nil {
				// The input ends cleanly after whole frames, or it was
				// cut short, or it is malformed.
				if !errors.Is(err, io.EOF) {
					require.ErrorIs(t, err, protocol.ErrFrame)
				}
				require.LessOrEqual(t, read, len(data))
				return
			}
			read += protocol.HeaderSize + len(fr.Payload)
			require.LessOrEqual(t, len(fr.Payload), protocol.MaxFrame-5)
			require.LessOrEqual(t, read, len(data), "a frame made of bytes never sent")
			_, ok := r.TakeFD()
			require.False(t, ok, "no descriptor was sent")
		}
	})
}
