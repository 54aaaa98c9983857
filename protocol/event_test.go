package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
)

// The byte values are the wire encoding of RequestHead.Event: plugins built
// against an earlier protocol package decode them, so they never change.
func TestEventsKeepTheirNamesAndWireValues(t *testing.T) {
	for _, tc := range []struct {
		event protocol.Event
		name  string
		wire  byte
	}{
		{protocol.EventRequest, "request", 1},
		{protocol.EventCheckContinue, "checkContinue", 2},
		{protocol.EventCheckExpectation, "checkExpectation", 3},
		{protocol.EventUpgrade, "upgrade", 4},
		{protocol.EventConnect, "connect", 5},
		{protocol.EventClientError, "clientError", 6},
		{protocol.EventDropRequest, "dropRequest", 7},
		{protocol.EventTimeout, "timeout", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.name, tc.event.String())
			require.True(t, tc.event.Valid())
			parsed, err := protocol.ParseEvent(tc.name)
			require.NoError(t, err)
			require.Equal(t, tc.event, parsed, "ParseEvent(String()) round-trips")

			frame := protocol.AppendRequestHead(nil, &protocol.RequestHead{Event: tc.event})
			require.Equal(t, tc.wire, frame[0], "the event is the first byte of a request head")
			var h protocol.RequestHead
			require.NoError(t, protocol.DecodeRequestHead(frame, &h))
			require.Equal(t, tc.event, h.Event)
		})
	}
}

func TestParseEventRefusesWhatIsNotAnEvent(t *testing.T) {
	for _, name := range []string{"", "Request", "checkcontinue", "close", "request ", "Event(1)"} {
		t.Run(name, func(t *testing.T) {
			e, err := protocol.ParseEvent(name)
			require.ErrorIs(t, err, protocol.ErrUnknownEvent)
			require.ErrorContains(t, err, `"`+name+`"`, "the error names what was given")
			require.Zero(t, e)
		})
	}
}

func TestEventOutsideTheListIsNamedByNumber(t *testing.T) {
	for _, e := range []protocol.Event{0, 9, 255} {
		require.False(t, e.Valid())
		require.Regexp(t, `^Event\(\d+\)$`, e.String())
		_, err := protocol.ParseEvent(e.String())
		require.ErrorIs(t, err, protocol.ErrUnknownEvent)
	}
}

func TestEventSet(t *testing.T) {
	s := protocol.EventSetOf(protocol.EventUpgrade, protocol.EventRequest, protocol.EventUpgrade)
	require.True(t, s.Has(protocol.EventRequest))
	require.True(t, s.Has(protocol.EventUpgrade))
	require.False(t, s.Has(protocol.EventConnect))
	require.False(t, s.Has(0), "the zero Event is in no set")
	require.Equal(t, []protocol.Event{protocol.EventRequest, protocol.EventUpgrade}, s.Events(), "listed in the order of their values")
	require.Equal(t, []string{"request", "upgrade"}, s.Names())
	require.Equal(t, "request|upgrade", s.String())

	require.Zero(t, protocol.EventSetOf(0, 9), "values that are not events add nothing")
	require.Empty(t, protocol.EventSet(0).Names())

	all := protocol.EventSetOf(protocol.EventRequest, protocol.EventCheckContinue, protocol.EventCheckExpectation,
		protocol.EventUpgrade, protocol.EventConnect, protocol.EventClientError, protocol.EventDropRequest, protocol.EventTimeout)
	require.Len(t, all.Events(), 8, "every event has its own bit")
}
