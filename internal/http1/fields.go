package http1

import (
	"math"

	"github.com/hostd/hostd/internal/httpspec"
)

// Field section states. The scanner moves through them byte by byte, as
// llhttp's header nodes do, so that it refuses a message at the same byte
// and with the same code as llhttp, however the input is split.
const (
	fsHeadersStart   uint8 = iota // first line after the start line: SP refused
	fsFieldStart                  // a field name, or the CR of the blank line
	fsName                        // field name
	fsValueWS                     // whitespace before the value
	fsValueWSCR                   // LF after a CR in leading whitespace (empty value)
	fsValueWSLF                   // after that CRLF: obs-fold refused, else the value is empty
	fsValue                       // value without special meaning
	fsValueCL                     // Content-Length digits
	fsValueCLWS                   // whitespace after them
	fsValueTEItem                 // a Transfer-Encoding coding, matching "chunked"
	fsValueTEChunked              // spaces after "chunked"
	fsValueTEToken                // another coding
	fsValueTEOWS                  // whitespace after a comma
	fsValueConnItem               // a Connection option, matching close, upgrade or keep-alive
	fsValueConnWS                 // whitespace after such an option
	fsValueConnToken              // another option
	fsValueCR                     // LF after the CR that ends a value
	fsValueLF                     // after that CRLF: obs-fold refused
	fsBlankLF                     // LF of the blank line that ends the section
	fsDone
)

// Special fields: the ones whose value llhttp reads for framing.
const (
	fieldGeneral uint8 = iota
	fieldConnection
	fieldContentLength
	fieldTransferEncoding
	fieldUpgrade
)

// Framing flags, named after llhttp's F_* flags.
const (
	flagConnKeepAlive uint16 = 1 << iota
	flagConnClose
	flagConnUpgrade
	flagChunked
	flagUpgrade
	flagContentLength
	flagTransferEncoding
)

// fieldScanner parses a field section, either the header fields of a head
// or the trailer section of a chunked body, from a buffer that grows
// between calls. It keeps offsets, never slices, so the buffer may also
// move. It counts header bytes as Node does: the bytes of the target, the
// reason phrase, each field name and each value (untrimmed), checked
// against the limit each time one of them ends or the input does.
type fieldScanner struct {
	pos     int // next byte to read
	state   uint8
	field   uint8  // special field being read
	match   uint8  // bytes of a keyword matched so far
	keyword string // Connection option being matched
	pending uint16 // flag the current value sets once it is complete
	flags   uint16
	cl      uint64 // Content-Length, valid with flagContentLength

	// tabTail: the value read so far ends in whitespace with a tab
	// after close, keep-alive, upgrade or chunked; see ambiguity.
	tabTail   bool
	ambiguous uint8 // fieldBit of the fields with such a value

	request bool // a request: no coding may follow chunked
	trailer bool // a trailer section: stricter, see below

	name, nameEnd, value int // the current field's name and value start

	// Header byte counting, as Node's TrackHeader does it.
	limit     int
	counted   int
	inSpan    bool // a counted span (target, reason, name, value) is open
	countedTo int  // end of the open span's bytes already counted

	spans []fieldSpan
}

// fieldSpan locates a field's name and trimmed value by offset.
type fieldSpan struct{ name, nameEnd, valStart, valEnd int32 }

func (s *fieldScanner) reset(limit int, request, trailer bool) {
	*s = fieldScanner{limit: limit, request: request, trailer: trailer, spans: s.spans[:0]}
}

// startSpan opens a counted span at i.
func (s *fieldScanner) startSpan(i int) { s.inSpan, s.countedTo = true, i }

// endSpan closes the open span at i and counts it. It refuses the message
// once the counted bytes reach the limit, as Node does at each span end;
// skip says that llhttp consumes the byte at i in the same step, which
// moves the error one byte on.
func (s *fieldScanner) endSpan(i int, skip bool) *ParseError {
	s.inSpan = false
	err := s.count(i)
	if err != nil && skip {
		err.Offset++
	}
	return err
}

func (s *fieldScanner) count(i int) *ParseError {
	s.counted += i - s.countedTo
	s.countedTo = i
	if s.counted >= s.limit {
		return fail(ErrHeaderOverflow, "Header overflow", i)
	}
	return nil
}

// flush counts the part of an open span that the input ends in, as llhttp
// reports a partial span at the end of each buffer it is given.
func (s *fieldScanner) flush(end int) *ParseError {
	if !s.inSpan {
		return nil
	}
	return s.count(end)
}

// scan parses from s.pos to the end of buf or of the section. It returns
// true when the blank line that ends the section has been read.
func (s *fieldScanner) scan(buf []byte) (bool, *ParseError) {
	i, done, err := s.scanFrom(buf, s.pos)
	s.pos = i
	return done, err
}

// scanFrom is scan from offset i; it returns where it stopped.
func (s *fieldScanner) scanFrom(buf []byte, i int) (int, bool, *ParseError) {
	for i < len(buf) {
		c := buf[i]
		switch s.state {
		case fsHeadersStart:
			if c == ' ' {
				return i, false, fail(ErrUnexpectedSpace, "Unexpected space after start line", i+1)
			}
			s.state = fsFieldStart
			continue

		case fsFieldStart:
			switch {
			case c == '\r':
				s.state = fsBlankLF
			case c == '\n':
				return i, false, fail(ErrInvalidHeaderToken, "Invalid header field char", i+1)
			case c == ':':
				return i, false, fail(ErrInvalidHeaderToken, "Invalid header token", i)
			default:
				s.name = i
				s.startSpan(i)
				s.state = fsName
				continue
			}

		case fsName:
			for i < len(buf) && httpspec.IsTokenChar(buf[i]) {
				i++
			}
			if i == len(buf) {
				continue
			}
			c = buf[i]
			s.field = specialField(buf[s.name:i])
			if c == ' ' && s.field != fieldGeneral {
				// llhttp refuses the space after a name it knows one byte
				// later than after other names.
				if err := s.endSpan(i, true); err != nil {
					return i, false, err
				}
				return i, false, fail(ErrInvalidHeaderToken, "Invalid header field char", i+1)
			}
			if c != ':' {
				return i, false, fail(ErrInvalidHeaderToken, "Invalid header token", i)
			}
			if err := s.endSpan(i, true); err != nil {
				return i, false, err
			}
			s.nameEnd = i
			i++
			if err := s.nameComplete(i); err != nil {
				return i, false, err
			}
			s.state = fsValueWS
			continue

		case fsValueWS:
			switch c {
			case ' ', '\t':
			case '\r':
				s.state = fsValueWSCR
			case '\n':
				return i, false, fail(ErrInvalidHeaderToken, "Invalid header value char", i+1)
			default:
				if err := s.valueStart(buf, i); err != nil {
					return i, false, err
				}
				continue
			}

		case fsValueWSCR:
			if c != '\n' {
				return i, false, fail(ErrStrict, "Expected LF after CR", i)
			}
			s.state = fsValueWSLF

		case fsValueWSLF:
			if c == ' ' || c == '\t' {
				return i, false, fail(ErrInvalidHeaderToken, "Invalid header value char", i+1)
			}
			if s.field == fieldContentLength {
				return i, false, fail(ErrInvalidContentLength, "Empty Content-Length", i)
			}
			s.startSpan(i)
			if err := s.endSpan(i, false); err != nil {
				return i, false, err
			}
			s.spans = append(s.spans, fieldSpan{int32(s.name), int32(s.nameEnd), int32(i), int32(i)})
			s.state = fsFieldStart
			continue

		case fsValue:
			for i < len(buf) && httpspec.IsFieldValueChar(buf[i]) {
				i++
			}
			if i == len(buf) {
				continue
			}
			if err := s.valueEnd(buf, i); err != nil {
				return i, false, err
			}

		case fsValueCL, fsValueCLWS, fsValueTEItem, fsValueTEChunked, fsValueTEToken, fsValueTEOWS,
			fsValueConnItem, fsValueConnWS, fsValueConnToken:
			next, err := s.specialValue(buf, i)
			if err != nil {
				return i, false, err
			}
			i = next
			continue

		case fsValueCR:
			if c != '\n' {
				return i, false, fail(ErrLFExpected, "Missing expected LF after header value", i)
			}
			s.state = fsValueLF

		case fsValueLF:
			if c == ' ' || c == '\t' {
				return i, false, fail(ErrInvalidHeaderToken, "Unexpected whitespace after header value", i)
			}
			s.flags |= s.pending
			s.pending = 0
			s.state = fsFieldStart
			continue

		case fsBlankLF:
			if c != '\n' {
				return i, false, fail(ErrStrict, "Expected LF after headers", i)
			}
			i++
			s.state = fsDone
			return i, true, nil

		case fsDone:
			return i, true, nil
		}
		i++
	}
	return i, false, s.flush(len(buf))
}

// specialField returns which special field name is.
func specialField(name []byte) uint8 {
	switch len(name) {
	case len("connection"):
		if httpspec.EqualFold(name, "connection") {
			return fieldConnection
		}
	case len("content-length"):
		if httpspec.EqualFold(name, "content-length") {
			return fieldContentLength
		}
	case len("proxy-connection"):
		if httpspec.EqualFold(name, "proxy-connection") {
			return fieldConnection
		}
	case len("transfer-encoding"):
		if httpspec.EqualFold(name, "transfer-encoding") {
			return fieldTransferEncoding
		}
	case len("upgrade"):
		if httpspec.EqualFold(name, "upgrade") {
			return fieldUpgrade
		}
	}
	return fieldGeneral
}

// nameComplete applies llhttp's checks on a field name, after its colon
// at i-1: Content-Length and Transfer-Encoding exclude each other, which
// in a trailer section (where chunked implies Transfer-Encoding) refuses
// Content-Length.
func (s *fieldScanner) nameComplete(i int) *ParseError {
	switch s.field {
	case fieldTransferEncoding:
		if s.flags&flagContentLength != 0 {
			return fail(ErrInvalidTransferEncoding, "Transfer-Encoding can't be present with Content-Length", i)
		}
	case fieldContentLength:
		if s.flags&flagTransferEncoding != 0 {
			return fail(ErrInvalidContentLength, "Content-Length can't be present with Transfer-Encoding", i)
		}
	}
	return nil
}

// valueStart begins a non-empty value at i.
func (s *fieldScanner) valueStart(buf []byte, i int) *ParseError {
	s.value = i
	s.startSpan(i)
	s.state = fsValue
	s.tabTail = false
	switch s.field {
	case fieldUpgrade:
		s.flags |= flagUpgrade
	case fieldTransferEncoding:
		if s.flags&flagChunked != 0 && (s.request || s.trailer) {
			// Once chunked is the final coding of a request, no coding may
			// follow it, in another field line either. A trailer cannot
			// change the framing of the body it ends: llhttp allows it in a
			// response, hostd refuses it there too.
			if err := s.endSpan(i, true); err != nil {
				return err
			}
			reason := "Invalid `Transfer-Encoding` header value"
			if s.trailer {
				reason = reasonTrailerTE
			}
			return fail(ErrInvalidTransferEncoding, reason, i+1)
		}
		s.flags |= flagTransferEncoding
		s.flags &^= flagChunked
		s.ambiguous &^= fieldBit(fieldTransferEncoding) // this value decides now
		s.state, s.match = fsValueTEItem, 0
	case fieldContentLength:
		if s.flags&flagContentLength != 0 {
			return fail(ErrUnexpectedContentLength, "Duplicate Content-Length", i)
		}
		s.cl = 0
		s.state = fsValueCL
	case fieldConnection:
		s.state, s.match = fsValueConnItem, 0
	}
	return nil
}

// valueEnd handles the byte at i that ends a value: the CR of its line
// end, or a refusal.
func (s *fieldScanner) valueEnd(buf []byte, i int) *ParseError {
	if err := s.endSpan(i, buf[i] == '\r'); err != nil {
		return err
	}
	switch buf[i] {
	case '\r':
		end := i
		for end > s.value && (buf[end-1] == ' ' || buf[end-1] == '\t') {
			end--
		}
		s.spans = append(s.spans, fieldSpan{int32(s.name), int32(s.nameEnd), int32(s.value), int32(end)})
		if s.tabTail {
			s.ambiguous |= fieldBit(s.field)
		}
		if s.field == fieldContentLength && s.cl > math.MaxInt64 {
			// llhttp takes up to 2^64-1; Head.ContentLength is an int64.
			return fail(ErrInvalidContentLength, reasonContentLengthTooLarge, i)
		}
		s.state = fsValueCR
		return nil
	case '\n':
		return fail(ErrCRExpected, "Missing expected CR after header value", i)
	}
	return fail(ErrInvalidHeaderToken, "Invalid header value char", i)
}
