package outgoing

import (
	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// Body accounts for n body bytes about to be written, fixing the head
// first if needed, and returns how many of them may go out. end says
// that they are the last (End with data).
//
// A message without a body drops them (or refuses them, with
// RejectBody). Under StrictContentLength a count that does not match the
// declared Content-Length is refused as in Node. Otherwise hostd differs
// from Node, which writes whatever it is given: bytes past the declared
// length are dropped (keep < n) and the connection is marked to close
// after the message, so that they can never be read as the start of the
// next one.
func (m *Message) Body(n int, end bool) (keep int, err error) {
	if m.finished {
		return 0, errWriteAfterEnd
	}
	if err := m.Fix(); err != nil {
		return 0, err
	}
	if !m.HasBody {
		if m.RejectBody && n > 0 {
			return 0, errBodyNotAllowed
		}
		return 0, nil
	}
	total := m.written + int64(n)
	if m.strict() && (end && total != m.declared || !end && total > m.declared) {
		return 0, mismatch(total, m.declared)
	}
	if m.declared >= 0 && total > m.declared {
		n = int(m.declared - m.written)
		m.last = true
	}
	m.written += int64(n)
	return n, nil
}

// strict reports whether StrictContentLength applies, as Node decides it:
// a Content-Length declared, a body, and no Transfer-Encoding.
func (m *Message) strict() bool {
	return m.StrictContentLength && m.declared >= 0 && m.HasBody && !m.chunked && !m.te &&
		!m.Header.RemovedContentLength
}

func mismatch(got, want int64) error {
	return httpspec.NewError(httpspec.CodeContentLengthMismatch,
		"Response body's content-length of %d byte(s) does not match the content-length of %d byte(s) specified by header",
		got, want)
}

// CheckEnd reports whether the message may end now, as End checks before
// it does: not ended twice, and, under StrictContentLength, the whole
// declared length written.
func (m *Message) CheckEnd() error {
	if m.finished {
		return errFinished
	}
	if m.fixed && m.HasBody && m.strict() && m.written != m.declared {
		return mismatch(m.written, m.declared)
	}
	return nil
}

// Finish ends the message. A body shorter than its declared length
// leaves the connection unusable: it is marked to close.
func (m *Message) Finish() {
	m.finished = true
	if m.HasBody && m.declared >= 0 && m.written < m.declared {
		m.last = true
	}
}

// AppendEnd appends what ends the body on the wire: for a chunked body,
// the last chunk and the trailers.
func (m *Message) AppendEnd(dst []byte) []byte {
	if !m.HasBody || !m.chunked {
		return dst
	}
	dst = append(dst, "0\r\n"...)
	dst = append(dst, m.trailers...)
	return append(dst, "\r\n"...)
}

// AppendChunk appends the framing that goes before n body bytes: a chunk
// size line when the body is chunked. The caller ends the chunk with
// ChunkEnd.
func (m *Message) AppendChunk(dst []byte, n int) []byte {
	if m.chunked && n > 0 {
		return http1.AppendChunkHeader(dst, n)
	}
	return dst
}

// ChunkEnd is what follows a chunk's bytes: CRLF when chunked, else
// nothing.
func (m *Message) ChunkEnd() []byte {
	if m.chunked {
		return crlf
	}
	return nil
}

var crlf = []byte("\r\n")

// ValidateTrailers checks trailer fields, names and values alternating,
// as Node's addTrailers does.
func ValidateTrailers(fields []string) error {
	if len(fields)%2 != 0 {
		return httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid")
	}
	for i := 0; i < len(fields); i += 2 {
		if !httpspec.IsToken(fields[i]) {
			return httpspec.NewError(httpspec.CodeInvalidHTTPToken, "Trailer name must be a valid HTTP token [%q]", fields[i])
		}
		if !httpspec.ValidValue(fields[i+1]) {
			return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in trailer content [%q]", fields[i])
		}
	}
	return nil
}

// AddTrailers sets the trailer fields sent after a chunked body (Node's
// addTrailers); a body not chunked drops them.
func (m *Message) AddTrailers(fields ...string) error {
	if err := ValidateTrailers(fields); err != nil {
		return err
	}
	m.trailers = m.trailers[:0]
	for i := 0; i < len(fields); i += 2 {
		m.trailers = http1.AppendField(m.trailers, fields[i], fields[i+1])
	}
	return nil
}

// AppendInformation appends a 1xx response with its fields, names and
// values alternating, after validating them. Whether a 1xx may still go
// out is its user's to decide: it knows when its final head did.
func AppendInformation(dst []byte, code int, fields []string) ([]byte, error) {
	if len(fields)%2 != 0 {
		return dst, httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid")
	}
	for i := 0; i < len(fields); i += 2 {
		if err := ValidateHeader(fields[i], fields[i+1:i+2]); err != nil {
			return dst, err
		}
	}
	b := http1.AppendStatusLine(dst, code, httpspec.StatusText(code))
	for i := 0; i < len(fields); i += 2 {
		b = http1.AppendField(b, fields[i], fields[i+1])
	}
	return append(b, "\r\n"...), nil
}
