package http1

import (
	"bytes"

	"github.com/hostd/hostd/internal/httpspec"
)

// MaxChunkExtensionsSize is the most chunk-extension bytes one message may
// carry, as in Node; past it the message is refused with 413.
const MaxChunkExtensionsSize = 16 * 1024

// chunked decoder states.
const (
	chSize          = iota // hex digits of a chunk size
	chSizeMore             // more hex digits, ';' or CR
	chExtName              // first byte of an extension name
	chExtNameMore          // rest of the name, '=', ';' or CR
	chExtValue             // first byte of a value: token, quote, ';' or CR
	chExtToken             // rest of a token value
	chExtQuoted            // inside a quoted-string
	chExtQuotedEsc         // after a backslash in a quoted-string
	chExtAfterQuote        // ';' or CR after a quoted-string
	chSizeLF               // LF ending the chunk-size line
	chData                 // chunk data
	chDataCR               // CR after chunk data
	chDataLF               // LF after chunk data
	chTrailers             // trailer section
	chDone                 // last chunk and trailers read
)

// ChunkedDecoder removes the chunked transfer coding from a body and
// collects its trailers. It is fed the bytes that follow the head, in any
// pieces, and never allocates for the data itself.
type ChunkedDecoder struct {
	// MaxHeaderSize limits the trailer section, counted like the head.
	// 0 means DefaultMaxHeaderSize.
	MaxHeaderSize int

	state     uint8
	remaining uint64 // data bytes left in the current chunk
	extBytes  int
	trailer   []byte // the trailer section so far, copied
	trPos     int    // start of the first unparsed trailer line
	trCounted int
	trSpans   []fieldSpan
	trailers  []Field
	consumed  int // bytes of the body consumed so far, for error offsets
}

// Reset prepares d for a new body.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{MaxHeaderSize: d.MaxHeaderSize, trailer: d.trailer[:0], trSpans: d.trSpans[:0], trailers: d.trailers[:0]}
}

// Done reports whether the last chunk and the trailers have been read.
func (d *ChunkedDecoder) Done() bool { return d.state == chDone }

// Trailers returns the trailer fields once Done. They stay valid until
// Reset.
func (d *ChunkedDecoder) Trailers() []Field { return d.trailers }

// Decode reads framing from in and returns how many bytes of in it
// consumed and the body data found, a subslice of in of at most max bytes.
// It returns at most one run of data per call; call it again with the rest
// of in. When in is used up before the body ends it returns with
// consumed == len(in); at the end of the body Done becomes true and the
// bytes after it are left.
func (d *ChunkedDecoder) Decode(in []byte, max int) (consumed int, data []byte, err error) {
	i := 0
	defer func() { d.consumed += consumed }()
	for i < len(in) {
		c := in[i]
		switch d.state {
		case chSize, chSizeMore:
			if v, ok := unhex(c); ok {
				if d.remaining > (^uint64(0)-uint64(v))/16 {
					return i, nil, fail(ErrInvalidChunkSize, "Chunk size overflow", d.consumed+i)
				}
				d.remaining = d.remaining*16 + uint64(v)
				d.state = chSizeMore
				break
			}
			if d.state == chSize {
				return i, nil, fail(ErrInvalidChunkSize, "Invalid character in chunk size", d.consumed+i)
			}
			switch c {
			case ';':
				d.state = chExtName
			case '\r':
				d.state = chSizeLF
			case '\n':
				return i, nil, fail(ErrCRExpected, "Missing expected CR after chunk size", d.consumed+i)
			default:
				return i, nil, fail(ErrInvalidChunkSize, "Invalid character in chunk size", d.consumed+i)
			}
		case chExtName, chExtNameMore, chExtValue, chExtToken, chExtQuoted, chExtQuotedEsc, chExtAfterQuote:
			d.extBytes++
			if d.extBytes > MaxChunkExtensionsSize {
				return i, nil, fail(ErrChunkExtensionsOverflow, "Chunk extensions overflow", d.consumed+i)
			}
			if err := d.extension(c, d.consumed+i); err != nil {
				return i, nil, err
			}
		case chSizeLF:
			if c != '\n' {
				return i, nil, fail(ErrStrict, "Expected LF after chunk size", d.consumed+i)
			}
			if d.remaining == 0 {
				d.state = chTrailers
			} else {
				d.state = chData
			}
		case chData:
			n := min(uint64(len(in)-i), uint64(max), d.remaining)
			d.remaining -= n
			if d.remaining == 0 {
				d.state = chDataCR
			}
			return i + int(n), in[i : i+int(n)], nil
		case chDataCR:
			if c != '\r' {
				return i, nil, fail(ErrStrict, "Expected LF after chunk data", d.consumed+i)
			}
			d.state = chDataLF
		case chDataLF:
			if c != '\n' {
				return i, nil, fail(ErrStrict, "Expected LF after chunk data", d.consumed+i)
			}
			d.state = chSize
		case chTrailers:
			n, err := d.trailerBytes(in[i:], d.consumed+i)
			return i + n, nil, err
		case chDone:
			return i, nil, nil
		}
		i++
	}
	return i, nil, nil
}

// extension advances through one byte of the chunk extensions, which
// llhttp's strict mode allows only as ;name[=token|=quoted-string] with no
// whitespace anywhere.
func (d *ChunkedDecoder) extension(c byte, off int) *ParseError {
	switch d.state {
	case chExtName:
		if !httpspec.IsTokenChar(c) {
			return fail(ErrStrict, "Invalid character in chunk extensions", off)
		}
		d.state = chExtNameMore
	case chExtNameMore:
		switch {
		case httpspec.IsTokenChar(c):
		case c == '=':
			d.state = chExtValue
		default:
			return d.extensionEnd(c, off, "Invalid character in chunk extensions")
		}
	case chExtValue:
		switch {
		case c == '"':
			d.state = chExtQuoted
		case httpspec.IsTokenChar(c):
			d.state = chExtToken
		default:
			return d.extensionEnd(c, off, "Invalid character in chunk extensions value")
		}
	case chExtToken:
		if !httpspec.IsTokenChar(c) {
			return d.extensionEnd(c, off, "Invalid character in chunk extensions value")
		}
	case chExtQuoted:
		switch {
		case c == '"':
			d.state = chExtAfterQuote
		case c == '\\':
			d.state = chExtQuotedEsc
		case c == '\t' || c == ' ' || c >= 0x21 && c != 0x7f:
		default:
			return fail(ErrStrict, "Invalid character in chunk extensions quoted value", off)
		}
	case chExtQuotedEsc:
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			return fail(ErrStrict, "Invalid quoted-pair in chunk extensions quoted value", off)
		}
		d.state = chExtQuoted
	case chExtAfterQuote:
		return d.extensionEnd(c, off, "Invalid character in chunk extensions quote value")
	}
	return nil
}

// extensionEnd accepts the bytes that may end an extension: ';' starts the
// next one, CR ends the chunk-size line.
func (d *ChunkedDecoder) extensionEnd(c byte, off int, reason string) *ParseError {
	switch c {
	case ';':
		d.state = chExtName
	case '\r':
		d.state = chSizeLF
	default:
		return fail(ErrStrict, reason, off)
	}
	return nil
}

// trailerBytes copies trailer bytes and parses the complete lines among
// them. It returns how many bytes of in belong to the trailer section.
func (d *ChunkedDecoder) trailerBytes(in []byte, off int) (int, error) {
	limit := d.MaxHeaderSize
	if limit <= 0 {
		limit = DefaultMaxHeaderSize
	}
	base := len(d.trailer)
	d.trailer = append(d.trailer, in...)
	for {
		rest := d.trailer[d.trPos:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			if d.trCounted+len(rest) >= limit {
				return len(in), fail(ErrHeaderOverflow, "Header overflow", off)
			}
			return len(in), nil
		}
		lineOff := off - base + d.trPos
		line := rest[:nl]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			if len(line) == 0 {
				return nl, fail(ErrInvalidHeaderToken, "Invalid header field char", lineOff)
			}
			return nl, fail(ErrCRExpected, "Missing expected CR after header value", lineOff+nl)
		}
		line = line[:len(line)-1]
		end := d.trPos + nl + 1
		if len(line) == 0 {
			used := end - base
			d.trailer = d.trailer[:end]
			d.state = chDone
			for _, sp := range d.trSpans {
				d.trailers = append(d.trailers, Field{Name: d.trailer[sp.name:sp.nameEnd], Value: d.trailer[sp.valStart:sp.valEnd]})
			}
			return used, nil
		}
		sp, err := scanField(line, d.trPos, false)
		if err != nil {
			err.Offset += off - base
			return nl, err
		}
		name, value := d.trailer[sp.name:sp.nameEnd], d.trailer[sp.valStart:sp.valEnd]
		// A trailer cannot change framing: chunked is already the final
		// coding, so llhttp refuses Content-Length and Transfer-Encoding.
		switch {
		case httpspec.EqualFold(name, "content-length"):
			return nl, fail(ErrInvalidContentLength, "Content-Length can't be present with Transfer-Encoding", lineOff)
		case httpspec.EqualFold(name, "transfer-encoding"):
			return nl, fail(ErrInvalidTransferEncoding, "Invalid `Transfer-Encoding` header value", lineOff)
		}
		d.trCounted += len(name) + len(value)
		if d.trCounted >= limit {
			return nl, fail(ErrHeaderOverflow, "Header overflow", lineOff)
		}
		d.trSpans = append(d.trSpans, sp)
		d.trPos = end
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
