package http1

import "github.com/hostd/hostd/internal/httpspec"

// specialValue reads the value of a Content-Length, Transfer-Encoding or
// Connection field from i, byte by byte as llhttp does, and returns where
// it stopped: at the end of buf, or at the CR that ends the value, which
// it leaves to the caller's fsValue state.
func (s *fieldScanner) specialValue(buf []byte, i int) (int, *ParseError) {
	for ; i < len(buf); i++ {
		c := buf[i]
		switch s.state {
		case fsValueCL:
			if isDigit(c) {
				d := uint64(c - '0')
				if s.cl > (^uint64(0)-d)/10 {
					if err := s.endSpan(i+1, false); err != nil {
						return i, err
					}
					return i, fail(ErrInvalidContentLength, "Content-Length overflow", i+1)
				}
				s.cl = s.cl*10 + d
				continue
			}
			s.state = fsValueCLWS
			i--
		case fsValueCLWS:
			switch c {
			case ' ':
			case '\r', '\n':
				s.flags |= flagContentLength
				s.state = fsValue
				return i, nil
			default:
				if err := s.endSpan(i, false); err != nil {
					return i, err
				}
				return i, fail(ErrInvalidContentLength, "Invalid character in Content-Length", i)
			}

		// Transfer-Encoding: a list of codings; the value is chunked when
		// its last coding is exactly "chunked" (any case) followed by
		// nothing but spaces.
		case fsValueTEItem:
			if c|0x20 == "chunked"[s.match] {
				s.match++
				if int(s.match) == len("chunked") {
					s.state = fsValueTEChunked
				}
				continue
			}
			s.state = fsValueTEToken
			i--
		case fsValueTEChunked:
			switch c {
			case ' ':
			case '\r', '\n':
				s.pending |= flagChunked
				s.state = fsValue
				return i, nil
			case ',':
				if s.request {
					if err := s.endSpan(i, true); err != nil {
						return i, err
					}
					return i, fail(ErrInvalidTransferEncoding, "Invalid `Transfer-Encoding` header value", i+1)
				}
				s.state, s.match = fsValueTEItem, 0
				i--
			default:
				s.tabTail = c == '\t'
				s.state = fsValueTEToken
				i--
			}
		case fsValueTEToken:
			switch {
			case c == ',':
				s.tabTail = false
				s.state = fsValueTEOWS
			case httpspec.IsFieldValueChar(c):
				s.tabTail = s.tabTail && (c == ' ' || c == '\t')
			default:
				s.state = fsValue
				return i, nil
			}
		case fsValueTEOWS:
			if c != ' ' && c != '\t' {
				s.state, s.match = fsValueTEItem, 0
				i--
			}

		// Connection: a list of options; close, keep-alive and upgrade
		// (any case, with optional whitespace around them) set flags.
		case fsValueConnItem:
			l := lower(c)
			if s.match == 0 {
				switch l {
				case ' ', '\t':
					continue
				case 'c':
					s.keyword = "close"
				case 'u':
					s.keyword = "upgrade"
				case 'k':
					s.keyword = "keep-alive"
				default:
					s.state = fsValueConnToken
					i--
					continue
				}
			}
			if l != s.keyword[s.match] {
				s.state = fsValueConnToken
				i--
				continue
			}
			s.match++
			if int(s.match) == len(s.keyword) {
				s.pending = connectionFlag(s.keyword)
				s.state = fsValueConnWS
			}
		case fsValueConnWS:
			switch c {
			case ',':
				s.flags |= s.pending
				s.pending = 0
				s.state, s.match = fsValueConnItem, 0
			case ' ':
			case '\r', '\n':
				s.state = fsValue
				return i, nil
			default:
				s.tabTail = c == '\t'
				s.pending = 0
				s.state = fsValueConnToken
				i--
			}
		case fsValueConnToken:
			switch {
			case c == ',':
				s.tabTail = false
				s.state, s.match = fsValueConnItem, 0
			case httpspec.IsFieldValueChar(c):
				s.tabTail = s.tabTail && (c == ' ' || c == '\t')
			default:
				s.state = fsValue
				return i, nil
			}
		}
	}
	return i, nil
}

// ambiguity refuses a section with a value whose trailing whitespace
// changed its meaning: llhttp does not read "close\t" as the Connection
// option close, nor "chunked\t" as the coding chunked, but the value
// without its trailing whitespace, which is what Field.Value and Node's
// req.headers hold, says close or chunked. Anything that acts on the
// reported value (a proxy forwarding it, a handler reading it) would then
// disagree with the framing; hostd refuses instead.
//
// The refusal comes at offset end, the end of the section, where the
// ambiguity is known: a later Transfer-Encoding field may decide instead.
func (s *fieldScanner) ambiguity(end int) *ParseError {
	switch {
	case s.ambiguous&fieldBit(fieldTransferEncoding) != 0:
		return fail(ErrInvalidTransferEncoding, reasonTabAfterChunked, end)
	case s.ambiguous&fieldBit(fieldConnection) != 0:
		return fail(ErrInvalidHeaderToken, reasonTabAfterConnectionOption, end)
	}
	return nil
}

func fieldBit(field uint8) uint8 { return 1 << field }

func connectionFlag(option string) uint16 {
	switch option {
	case "close":
		return flagConnClose
	case "keep-alive":
		return flagConnKeepAlive
	}
	return flagConnUpgrade
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// keepAlive is llhttp_should_keep_alive for a message with the given
// version and flags, when its body does not run to the end of the
// connection: HTTP/1.1 (major and minor both above 0) keeps the
// connection unless told to close, the others close it unless told to
// keep it alive.
func keepAlive(major, minor uint8, flags uint16) bool {
	if major > 0 && minor > 0 {
		return flags&flagConnClose == 0
	}
	return flags&flagConnKeepAlive != 0
}

// BodyKind says how a message body is delimited.
type BodyKind uint8

const (
	BodyNone       BodyKind = iota // no body
	BodyLength                     // exactly ContentLength bytes
	BodyChunked                    // chunked transfer coding, then trailers
	BodyUntilClose                 // everything until the connection closes (responses)
)

// RequestBody says how the body of a request with head h is delimited.
// CONNECT requests have no body: what follows the head is tunnel data. An
// upgrade request may have one, which is read before the upgrade.
func (h *Head) RequestBody() BodyKind {
	switch {
	case h.Method == "CONNECT":
		return BodyNone
	case h.Chunked:
		return BodyChunked
	case h.ContentLength > 0:
		return BodyLength
	}
	return BodyNone
}

// ResponseBody says how the body of a response with head h is delimited,
// given the method of the request it answers. It follows llhttp's
// after-headers rules: no body for HEAD, 100-103, 204 and 304 (and 101,
// after which the connection speaks another protocol); otherwise, other
// 1xx included, chunked, or until the connection closes for another
// coding, or Content-Length bytes, or until close without any of them.
func (h *Head) ResponseBody(requestMethod string) BodyKind {
	switch {
	case requestMethod == "HEAD", h.StatusCode >= 100 && h.StatusCode <= 103, h.StatusCode == 204, h.StatusCode == 304:
		return BodyNone
	case requestMethod == "CONNECT" && h.StatusCode/100 == 2:
		return BodyNone
	case h.Chunked:
		return BodyChunked
	case h.TransferEncoding:
		return BodyUntilClose
	case h.ContentLength >= 0:
		if h.ContentLength == 0 {
			return BodyNone
		}
		return BodyLength
	case h.StatusCode/100 == 1:
		return BodyNone
	}
	return BodyUntilClose
}

// responseNeedsEOF is llhttp_message_needs_eof for a response whose
// request was not HEAD: its body runs until the connection closes.
func responseNeedsEOF(status int, flags uint16) bool {
	switch {
	case status/100 == 1, status == 204, status == 304:
		return false
	case flags&flagTransferEncoding != 0 && flags&flagChunked == 0:
		return true
	}
	return flags&(flagChunked|flagContentLength) == 0
}
