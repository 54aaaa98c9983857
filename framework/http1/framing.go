package http1

import (
	"math"

	"github.com/hostd/hostd/internal/httpspec"
)

// framing collects, field by field, what decides how a message is framed
// and whether its connection stays open.
type framing struct {
	cl            int64 // valid when clSeen
	clSeen        bool
	te, chunked   bool
	connClose     bool
	connKeepAlive bool
	connUpgrade   bool
	upgradeHeader bool
}

// note inspects one field. It refuses, as llhttp does, a second
// Content-Length, a malformed one, and any coding after chunked.
func (f *framing) note(name, value []byte, off int) *ParseError {
	switch len(name) {
	case len("content-length"):
		if !httpspec.EqualFold(name, "content-length") {
			return nil
		}
		if f.clSeen {
			return fail(ErrUnexpectedContentLength, "Duplicate Content-Length", off)
		}
		n, err := parseContentLength(value, off)
		if err != nil {
			return err
		}
		f.cl, f.clSeen = n, true
	case len("transfer-encoding"):
		if !httpspec.EqualFold(name, "transfer-encoding") {
			return nil
		}
		f.te = true
		for rest := value; ; {
			item, more := cutComma(rest)
			if f.chunked {
				return fail(ErrInvalidTransferEncoding, "Invalid `Transfer-Encoding` header value", off)
			}
			if httpspec.EqualFold(httpspec.TrimOWS(item), "chunked") {
				f.chunked = true
			}
			if more == nil {
				break
			}
			rest = more
		}
	case len("connection"):
		if !httpspec.EqualFold(name, "connection") {
			return nil
		}
		for rest := value; ; {
			item, more := cutComma(rest)
			item = httpspec.TrimOWS(item)
			switch {
			case httpspec.EqualFold(item, "close"):
				f.connClose = true
			case httpspec.EqualFold(item, "keep-alive"):
				f.connKeepAlive = true
			case httpspec.EqualFold(item, "upgrade"):
				f.connUpgrade = true
			}
			if more == nil {
				break
			}
			rest = more
		}
	case len("upgrade"):
		if httpspec.EqualFold(name, "upgrade") {
			f.upgradeHeader = true
		}
	}
	return nil
}

// cutComma splits b at its first comma. more is nil when b has none.
func cutComma(b []byte) (item, more []byte) {
	for i, c := range b {
		if c == ',' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// parseContentLength accepts 1*DIGIT (the value is already trimmed) and
// refuses an empty value, any other character and overflow.
func parseContentLength(v []byte, off int) (int64, *ParseError) {
	if len(v) == 0 {
		return 0, fail(ErrInvalidContentLength, "Empty Content-Length", off)
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, fail(ErrInvalidContentLength, "Invalid character in Content-Length", off)
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, fail(ErrInvalidContentLength, "Content-Length overflow", off)
		}
		n = n*10 + d
	}
	return n, nil
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
// CONNECT requests have no body: what follows the head is tunnel data.
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
// given the method of the request it answers.
func (h *Head) ResponseBody(requestMethod string) BodyKind {
	switch {
	case requestMethod == "HEAD", h.StatusCode/100 == 1, h.StatusCode == 204, h.StatusCode == 304:
		return BodyNone
	case requestMethod == "CONNECT" && h.StatusCode/100 == 2:
		return BodyNone
	case h.Chunked:
		return BodyChunked
	case h.TransferEncoding:
		return BodyUntilClose
	case h.ContentLength == 0:
		return BodyNone
	case h.ContentLength > 0:
		return BodyLength
	}
	return BodyUntilClose
}
