package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Type is a frame type. Types 1–15 go from host to plugin, 16–31 from
// plugin to host, 32 and up either way.
type Type uint8

const (
	// TypeRequest opens a stream: an event and its request (RequestHead).
	TypeRequest Type = 1
	// TypeReqBody carries request body bytes (the payload).
	TypeReqBody Type = 2
	// TypeReqEnd ends the request body; its payload is the trailer Fields.
	TypeReqEnd Type = 3
	// TypeAbort tells the plugin that the client went away or the host gave
	// up on the stream. Nothing more is sent or accepted on it.
	TypeAbort Type = 4
	// TypeTimeout tells the plugin that the timeout it set with
	// TypeSetTimeout passed.
	TypeTimeout Type = 5
	// TypeFinished tells the plugin that its response has been written to
	// the client's socket (the host's finish event). It is sent only for
	// an End that asked for it (EndWantFinished); if the response never
	// gets there, an Abort is sent instead.
	TypeFinished Type = 6

	// TypeHead sends the response head (ResponseHead).
	TypeHead Type = 16
	// TypeInfo sends a 1xx response (Info).
	TypeInfo Type = 17
	// TypeBody carries response body bytes (the payload).
	TypeBody Type = 18
	// TypeEnd ends the response (End): possibly its head, last bytes and
	// trailers too, so that a small response is one frame. On a timeout
	// stream it is empty and says that the handler returned without
	// ending the socket, which then stays open (as in Node).
	TypeEnd Type = 19
	// TypeReset reports that the handler failed; the payload is a message.
	// The host answers 500 if nothing was sent yet, else closes the
	// connection.
	TypeReset Type = 20
	// TypeSetTimeout sets the socket inactivity timeout of the response
	// (SetTimeout).
	TypeSetTimeout Type = 21

	// TypeCredit lets the receiver send that many more body bytes (uint32).
	TypeCredit Type = 32
	// TypeSockData carries relayed socket bytes.
	TypeSockData Type = 33
	// TypeSockEnd says the sender will write no more (a half-close).
	TypeSockEnd Type = 34
	// TypeSockClose closes a relayed socket.
	TypeSockClose Type = 35
)

func (t Type) String() string {
	switch t {
	case TypeRequest:
		return "Request"
	case TypeReqBody:
		return "ReqBody"
	case TypeReqEnd:
		return "ReqEnd"
	case TypeAbort:
		return "Abort"
	case TypeTimeout:
		return "Timeout"
	case TypeFinished:
		return "Finished"
	case TypeHead:
		return "Head"
	case TypeInfo:
		return "Info"
	case TypeBody:
		return "Body"
	case TypeEnd:
		return "End"
	case TypeReset:
		return "Reset"
	case TypeSetTimeout:
		return "SetTimeout"
	case TypeCredit:
		return "Credit"
	case TypeSockData:
		return "SockData"
	case TypeSockEnd:
		return "SockEnd"
	case TypeSockClose:
		return "SockClose"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

const (
	// HeaderSize is the size of a frame header.
	HeaderSize = 9
	// MaxFrame is the largest length a frame may declare.
	MaxFrame = 1 << 20
	// MaxChunk is the most body bytes a sender puts in one frame.
	MaxChunk = 64 << 10
	// Window is the flow-control window of each stream and direction.
	Window = 256 << 10
)

// ErrFrame reports a malformed frame. The connection it came from cannot
// be trusted further.
var ErrFrame = errors.New("protocol: malformed frame")

// AppendHeader appends a frame header for a payload of n bytes.
func AppendHeader(dst []byte, stream uint32, t Type, n int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(n+5))
	dst = binary.BigEndian.AppendUint32(dst, stream)
	return append(dst, byte(t))
}

// Begin appends a header whose length is patched by Finish once the
// payload has been appended after it. It returns the header's offset.
func Begin(dst []byte, stream uint32, t Type) ([]byte, int) {
	return AppendHeader(dst, stream, t, 0), len(dst)
}

// Finish patches the length of the frame that Begin started at off.
func Finish(frame []byte, off int) []byte {
	binary.BigEndian.PutUint32(frame[off:], uint32(len(frame)-off-4))
	return frame
}

// Frame is one decoded frame. Payload points into the reader's buffer and
// is valid until the next call to Next.
type Frame struct {
	Stream  uint32
	Type    Type
	Payload []byte
}

// parseHeader decodes a frame header from b, which holds at least
// HeaderSize bytes, and returns the whole frame's size.
func parseHeader(b []byte) (size int, stream uint32, t Type, err error) {
	n := binary.BigEndian.Uint32(b)
	if n < 5 || n > MaxFrame {
		return 0, 0, 0, fmt.Errorf("%w: length %d", ErrFrame, n)
	}
	return int(n) + 4, binary.BigEndian.Uint32(b[4:]), Type(b[8]), nil
}
