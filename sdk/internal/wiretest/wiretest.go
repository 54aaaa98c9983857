// Package wiretest gives the SDK's own tests what sdktest records of the
// data-plane protocol behind an answer: the frames a handler sent, the
// flags and declared length of its head, the request body's flow control.
// Plugin authors' tests have no use for them, so sdktest's public API
// leaves them out; sdktest registers the accessors below when it loads.
package wiretest

import "github.com/hostd/hostd/protocol"

// Frame is one frame the plugin sent; Payload is a copy.
type Frame struct {
	Type    protocol.Type
	Payload []byte
}

// Recording is the protocol side of an sdktest.Recorder.
type Recording struct {
	// HeadFlags are the protocol.Head* flags of the head, such as
	// protocol.HeadExplicit after WriteHead or protocol.HeadNoDate.
	HeadFlags uint8
	// Length is the body length the head announced for a body given
	// whole to End but too big for one frame, or -1.
	Length int64
	// Frames lists every frame the plugin sent on the stream, in order,
	// flow-control credit included.
	Frames []Frame
}

// FrameTypes lists the types of Frames, for assertions on the shape of an
// answer.
func (r *Recording) FrameTypes() []protocol.Type {
	out := make([]protocol.Type, len(r.Frames))
	for i, f := range r.Frames {
		out[i] = f.Type
	}
	return out
}

// Flow is the request body's flow control of an sdktest.Exchange, as the
// harness (in hostd's place) counts it.
type Flow interface {
	// BodySent is how many request body bytes were sent to the plugin.
	BodySent() int64
	// Credited is how much request body credit the plugin has granted
	// beyond the initial window: the SDK grants it as the handler reads.
	Credited() int64
}

var (
	recordingOf func(recorder any) *Recording
	flowOf      func(exchange any) Flow
)

// Register is sdktest's: recording takes an *sdktest.Recorder, flow an
// *sdktest.Exchange.
func Register(recording func(recorder any) *Recording, flow func(exchange any) Flow) {
	recordingOf, flowOf = recording, flow
}

// Of returns the protocol side of rec, an *sdktest.Recorder.
func Of(rec any) *Recording { return recordingOf(rec) }

// FlowOf returns the flow control of x, an *sdktest.Exchange.
func FlowOf(x any) Flow { return flowOf(x) }
