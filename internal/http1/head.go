package http1

import (
	"math"

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
	Reason     []byte // responses: the reason phrase as sent, nil without one

	Major, Minor uint8 // HTTP version; a request with no version is 0.9

	// Fields holds every header field in order, as sent.
	Fields []Field

	// ContentLength is the Content-Length value, or -1 without one.
	ContentLength int64
	// TransferEncoding reports a Transfer-Encoding header; Chunked that its
	// final coding is chunked.
	TransferEncoding, Chunked bool
	// KeepAlive is llhttp's should_keep_alive as Node reports it with the
	// head: the connection may carry another message after this one. For
	// a chunked message, ChunkedDecoder.KeepAlive has the final word.
	KeepAlive bool
	// Upgrade is llhttp's upgrade flag: set for CONNECT, and for a request
	// with an Upgrade field and "Connection: upgrade", or a 101 response
	// with both. After a 101 response the connection speaks another
	// protocol in any case.
	Upgrade bool

	// Size is the number of bytes from the start of the buffer through the
	// blank line that ends the head.
	Size int

	flags uint16 // llhttp's framing flags, for ChunkedDecoder.KeepAlive
}

// Parser parses one message head at a time, incrementally: each call
// resumes where the previous one stopped, reading each byte once, so
// feeding a head in pieces costs what feeding it whole does. It refuses
// a malformed head at the same byte, with the same code, as llhttp.
// Reset it before each message.
type Parser struct {
	// MaxHeaderSize limits the header bytes, counted as Node counts them:
	// the request-target or reason phrase, plus each field name and value
	// (a value from its first non-blank byte to its CR, trailing blanks
	// included). The head is refused with ErrHeaderOverflow once the count
	// reaches the limit, so at most MaxHeaderSize-1 bytes are accepted.
	// Node does not count the other bytes (line ends, colons, whitespace,
	// empty lines before the start line), which a parser that keeps the
	// head in its buffer must still bound: the whole head may span at most
	// RawHeadLimit(MaxHeaderSize) bytes. 0 means DefaultMaxHeaderSize.
	MaxHeaderSize int

	fs        fieldScanner
	pos       int // next byte to read
	state     uint8
	response  bool
	mark      int   // start of the method or the protocol
	match     uint8 // bytes of a keyword matched so far
	method    int8  // index in llMethods
	proto     uint8 // index in protocols
	major     uint8
	minor     uint8
	status    int
	target    int // request-target, buf[target:targetEnd]
	targetEnd int
	reason    int // reason phrase, buf[reason:reasonEnd] when hasReason
	reasonEnd int
	hasReason bool
}

// Reset prepares p for a new message.
func (p *Parser) Reset() {
	*p = Parser{MaxHeaderSize: p.MaxHeaderSize, fs: fieldScanner{spans: p.fs.spans[:0]}}
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
// *ParseError. It also fills h before the refusals made once the head is
// complete: the one llhttp makes, a Transfer-Encoding whose final coding
// is not chunked (ErrInvalidTransferEncoding), and the ambiguous values
// of fieldScanner.ambiguity.
func (p *Parser) ParseRequest(buf []byte, h *Head) error {
	return p.parse(buf, h, false)
}

// ParseResponse is ParseRequest for a response head.
func (p *Parser) ParseResponse(buf []byte, h *Head) error {
	return p.parse(buf, h, true)
}

// RawHeadLimit is the most bytes a head (or a trailer section) may span
// with the header-size limit maxHeaderSize: four bytes per counted byte
// (as in a run of "a:\r\n" lines) and room for a start line. It never
// refuses a head that llhttp takes unless the head is padded with
// whitespace or empty lines, which llhttp does not count.
func RawHeadLimit(maxHeaderSize int) int {
	if maxHeaderSize <= 0 {
		maxHeaderSize = DefaultMaxHeaderSize
	}
	if maxHeaderSize > (math.MaxInt-64)/4 {
		return math.MaxInt
	}
	return 4*maxHeaderSize + 64
}

func (p *Parser) parse(buf []byte, h *Head, response bool) error {
	p.response = response
	p.fs.limit = p.limit()
	p.fs.request = !response
	if raw := RawHeadLimit(p.fs.limit); len(buf) > raw {
		err := p.parse(buf[:raw], h, response)
		if err == ErrNeedMore {
			return fail(ErrHeaderOverflow, reasonHeadTooLarge, raw)
		}
		return err
	}
	if p.state != stFields {
		i, err := p.startLine(buf, p.pos)
		p.pos = i
		if err != nil {
			return err
		}
		if p.state != stFields {
			if err := p.fs.flush(len(buf)); err != nil {
				return err
			}
			return ErrNeedMore
		}
		p.fs.pos = i
	}
	done, err := p.fs.scan(buf)
	if err != nil {
		return err
	}
	if !done {
		return ErrNeedMore
	}
	return p.finish(buf, h)
}

// finish fills h from a complete head and applies llhttp's checks after
// the headers.
func (p *Parser) finish(buf []byte, h *Head) error {
	f := p.fs.flags
	h.flags = f
	h.Major, h.Minor = p.major, p.minor
	h.Fields = h.Fields[:0]
	for _, sp := range p.fs.spans {
		h.Fields = append(h.Fields, Field{Name: buf[sp.name:sp.nameEnd], Value: buf[sp.valStart:sp.valEnd]})
	}
	h.ContentLength = -1
	if f&flagContentLength != 0 {
		h.ContentLength = int64(p.fs.cl)
	}
	h.TransferEncoding = f&flagTransferEncoding != 0
	h.Chunked = f&flagChunked != 0
	h.Size = p.fs.pos
	upgradeFields := f&flagUpgrade != 0 && f&flagConnUpgrade != 0
	if p.response {
		h.Method, h.Target = "", nil
		h.StatusCode = p.status
		h.Reason = nil
		if p.hasReason {
			h.Reason = buf[p.reason:p.reasonEnd]
		}
		h.Upgrade = upgradeFields && p.status == 101
		h.KeepAlive = keepAlive(p.major, p.minor, f) && !responseNeedsEOF(p.status, f)
		if err := p.fs.ambiguity(h.Size); err != nil {
			return err
		}
		return nil
	}
	h.Method = llMethods[p.method].name
	h.Target = buf[p.target:p.targetEnd]
	h.StatusCode, h.Reason = 0, nil
	h.Upgrade = upgradeFields || h.Method == "CONNECT"
	h.KeepAlive = keepAlive(p.major, p.minor, f)
	hasBody := h.Chunked || h.ContentLength > 0
	handedOver := h.Upgrade && (h.Method == "CONNECT" || !hasBody) // the rest is another protocol
	if !handedOver && h.TransferEncoding && !h.Chunked {
		return fail(ErrInvalidTransferEncoding, "Request has invalid `Transfer-Encoding`", h.Size)
	}
	if err := p.fs.ambiguity(h.Size); err != nil {
		return err
	}
	return nil
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
