package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
)

func TestSetTimeoutRoundTrips(t *testing.T) {
	for _, s := range []protocol.SetTimeout{{}, {Millis: 1}, {Millis: 250, Callback: true},
		{Millis: 1 << 31, Callback: false}, {Millis: 9, RequestCallback: true}, {Millis: 9, Callback: true, RequestCallback: true}} {
		got, err := protocol.DecodeSetTimeout(protocol.AppendSetTimeout(nil, s))
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
}

func TestSetTimeoutRefusesMalformedPayloads(t *testing.T) {
	for _, p := range [][]byte{nil, {0, 0, 0, 1}, {0, 0, 0, 1, 4}, {0, 0, 0, 1, 0, 0}} {
		_, err := protocol.DecodeSetTimeout(p)
		require.ErrorIs(t, err, protocol.ErrFrame, "%x", p)
	}
}
