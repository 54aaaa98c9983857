package http1

import (
	"bytes"

	"github.com/hostd/hostd/internal/httpspec"
)

// DefaultMaxHeaderSize is Node's default maxHeaderSize: 16 KiB.
const DefaultMaxHeaderSize = 16 * 1024

// Field is one header field line. Name is as sent; Value has its leading
// and trailing whitespace removed. Both point into the parsed buffer.
type Field struct {
	Name, Value []byte
}

// Head is a parsed request or response head. Its byte slices point into
// the buffer given to the Parser and are valid until that buffer is reused.
type Head struct {
	Method string // requests: the canonical method string
	Target []byte // requests: the request-target as sent

	StatusCode int    // responses
	Reason     []byte // responses

	Major, Minor uint8 // HTTP version; a request with no version is 0.9

	// Fields holds every header field in order, as sent.
	Fields []Field

	// ContentLength is the Content-Length value, or -1 without one.
	ContentLength int64
	// TransferEncoding reports a Transfer-Encoding header; Chunked that its
	// final coding is chunked.
	TransferEncoding, Chunked bool
	// KeepAlive is llhttp's should_keep_alive: the connection may carry
	// another message after this one.
	KeepAlive bool
	// Upgrade is set for CONNECT, for a request with Upgrade and
	// "Connection: upgrade", and for a 101 response.
	Upgrade bool

	// Size is the number of bytes from the start of the buffer through the
	// blank line that ends the head.
	Size int
}

// Parser parses one message head at a time, incrementally: each call
// resumes where the previous one stopped. Reset it before each message.
type Parser struct {
	// MaxHeaderSize limits the header bytes counted as Node counts them
	// (the request-target, field names and values). 0 means
	// DefaultMaxHeaderSize.
	MaxHeaderSize int

	pos     int // start of the first line not yet parsed
	inHead  bool
	counted int
	spans   []fieldSpan
	frame   framing
}

// fieldSpan locates a field line's name and trimmed value in the buffer by
// offset, so the buffer may grow between calls.
type fieldSpan struct{ name, nameEnd, valStart, valEnd int32 }

// Reset prepares p for a new message.
func (p *Parser) Reset() {
	p.pos, p.inHead, p.counted = 0, false, 0
	p.spans = p.spans[:0]
	p.frame = framing{}
}

func (p *Parser) limit() int {
	if p.MaxHeaderSize > 0 {
		return p.MaxHeaderSize
	}
	return DefaultMaxHeaderSize
}

// ParseRequest parses a request head from buf, which must begin with the
// bytes given to the previous call since Reset. It returns nil when the
// head is complete and h is filled, ErrNeedMore when buf ends first, or a
// *ParseError.
func (p *Parser) ParseRequest(buf []byte, h *Head) error {
	return p.parse(buf, h, false)
}

// ParseResponse is ParseRequest for a response head.
func (p *Parser) ParseResponse(buf []byte, h *Head) error {
	return p.parse(buf, h, true)
}

func (p *Parser) parse(buf []byte, h *Head, response bool) error {
	for {
		rest := buf[p.pos:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			if p.counted+len(rest) >= p.limit() {
				return fail(ErrHeaderOverflow, "Header overflow", p.pos)
			}
			return ErrNeedMore
		}
		line := rest[:nl]
		lineStart := p.pos
		crlf := len(line) > 0 && line[len(line)-1] == '\r'
		if crlf {
			line = line[:len(line)-1]
		}
		if !p.inHead {
			if len(line) == 0 && crlf && !response {
				// llhttp skips empty lines before a request line; they count
				// toward the limit here so a flood of them cannot grow the
				// buffer without bound.
				p.pos += nl + 1
				p.counted += nl + 1
				continue
			}
			if !crlf {
				return fail(ErrInvalidVersion, "Expected CRLF after version", lineStart+nl)
			}
			var err *ParseError
			if response {
				err = p.statusLine(line, lineStart, h)
			} else {
				err = p.requestLine(line, lineStart, h)
			}
			if err != nil {
				return err
			}
			p.inHead = true
			p.pos += nl + 1
			continue
		}
		if !crlf {
			if len(line) == 0 {
				return fail(ErrInvalidHeaderToken, "Invalid header field char", lineStart)
			}
			return fail(ErrCRExpected, "Missing expected CR after header value", lineStart+nl)
		}
		if len(line) == 0 {
			p.pos += nl + 1
			return p.finish(buf, h, response)
		}
		sp, err := scanField(line, lineStart, len(p.spans) == 0)
		if err != nil {
			return err
		}
		p.counted += int(sp.nameEnd-sp.name) + int(sp.valEnd-sp.valStart)
		if p.counted >= p.limit() {
			return fail(ErrHeaderOverflow, "Header overflow", lineStart)
		}
		if err := p.frame.note(buf[sp.name:sp.nameEnd], buf[sp.valStart:sp.valEnd], lineStart); err != nil {
			return err
		}
		p.spans = append(p.spans, sp)
		p.pos += nl + 1
	}
}

// scanField validates one field line (without its CRLF) that starts at
// offset off of the buffer and returns where its name and value are.
func scanField(line []byte, off int, first bool) (fieldSpan, *ParseError) {
	if line[0] == ' ' || line[0] == '\t' {
		if first {
			return fieldSpan{}, fail(ErrUnexpectedSpace, "Unexpected space after start line", off)
		}
		return fieldSpan{}, fail(ErrInvalidHeaderToken, "Unexpected whitespace after header value", off)
	}
	i := 0
	for i < len(line) && httpspec.IsTokenChar(line[i]) {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ':' {
		return fieldSpan{}, fail(ErrInvalidHeaderToken, "Invalid header token", off+i)
	}
	nameEnd := i
	i++
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	start := i
	for ; i < len(line); i++ {
		if c := line[i]; !httpspec.IsFieldValueChar(c) {
			if c == '\r' {
				return fieldSpan{}, fail(ErrLFExpected, "Missing expected LF after header value", off+i)
			}
			return fieldSpan{}, fail(ErrInvalidHeaderToken, "Invalid header value char", off+i)
		}
	}
	end := len(line)
	for end > start && (line[end-1] == ' ' || line[end-1] == '\t') {
		end--
	}
	return fieldSpan{name: int32(off), nameEnd: int32(off + nameEnd), valStart: int32(off + start), valEnd: int32(off + end)}, nil
}

// finish checks the framing of a complete head and fills h.
func (p *Parser) finish(buf []byte, h *Head, response bool) error {
	f := &p.frame
	if f.te && f.clSeen {
		return fail(ErrInvalidContentLength, "Content-Length can't be present with Transfer-Encoding", p.pos)
	}
	if !response && f.te && !f.chunked {
		return fail(ErrInvalidTransferEncoding, "Request has invalid `Transfer-Encoding`", p.pos)
	}
	h.Fields = h.Fields[:0]
	for _, sp := range p.spans {
		h.Fields = append(h.Fields, Field{Name: buf[sp.name:sp.nameEnd], Value: buf[sp.valStart:sp.valEnd]})
	}
	h.ContentLength = -1
	if f.clSeen {
		h.ContentLength = f.cl
	}
	h.TransferEncoding, h.Chunked = f.te, f.chunked
	h.Size = p.pos
	if response {
		h.Upgrade = h.StatusCode == 101
	} else {
		h.Upgrade = h.Method == "CONNECT" || (f.upgradeHeader && f.connUpgrade)
	}
	// llhttp_should_keep_alive: only HTTP/1.1 (major and minor both > 0)
	// defaults to keep-alive.
	if h.Major > 0 && h.Minor > 0 {
		h.KeepAlive = !f.connClose
	} else {
		h.KeepAlive = f.connKeepAlive
	}
	if h.KeepAlive && response && responseNeedsEOF(h) {
		h.KeepAlive = false
	}
	return nil
}

// responseNeedsEOF is llhttp_message_needs_eof for a response whose
// request was not HEAD: its body runs until the connection closes.
func responseNeedsEOF(h *Head) bool {
	if h.StatusCode/100 == 1 || h.StatusCode == 204 || h.StatusCode == 304 {
		return false
	}
	if h.TransferEncoding && !h.Chunked {
		return true
	}
	return !h.Chunked && h.ContentLength < 0
}

// Get returns the value of the first field named name (ASCII
// case-insensitive; name must be lower-case), or nil.
func (h *Head) Get(name string) []byte {
	for i := range h.Fields {
		if httpspec.EqualFold(h.Fields[i].Name, name) {
			return h.Fields[i].Value
		}
	}
	return nil
}
