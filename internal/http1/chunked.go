package http1

import "github.com/hostd/hostd/internal/httpspec"

// MaxChunkExtensionsSize is the most chunk-extension bytes (names and
// values, quotes included) one chunk-size line may carry, as in Node;
// past it the message is refused with 413.
const MaxChunkExtensionsSize = 16 * 1024

// Chunked decoder states, after llhttp's chunk nodes.
const (
	chSizeStart     = iota // first hex digit of a chunk size
	chSize                 // more hex digits, or what ends the size
	chExt                  // after ';': an extension name
	chExtName              // rest of the name, '=', ';' or CR
	chExtValue             // token or quoted-string value
	chExtQuoted            // inside a quoted-string
	chExtQuotedPair        // after a backslash in a quoted-string
	chExtQuotedDone        // ';' or CR after a quoted-string
	chSizeLF               // LF ending the chunk-size line
	chData                 // chunk data
	chDataCR               // CR after chunk data
	chDataLF               // LF after chunk data
	chTrailers             // trailer section
	chDone                 // last chunk and trailers read
)

// ChunkedDecoder removes the chunked transfer coding from a body and
// collects its trailers, refusing what llhttp refuses at the same byte.
// It is fed the bytes that follow the head, in any pieces, and never
// allocates for the data itself.
type ChunkedDecoder struct {
	// MaxHeaderSize limits the trailer section, counted like the head's
	// fields. 0 means DefaultMaxHeaderSize.
	MaxHeaderSize int

	state     uint8
	remaining uint64 // data bytes left in the current chunk, or the size being read
	consumed  int    // bytes of the body consumed before this call

	// Chunk-extension bytes of the current chunk-size line, counted as
	// Node counts them: the name and value spans, checked at each span end
	// and at the end of each input.
	extCounted int
	extInSpan  bool
	extFrom    int // body offset from which the open span is not yet counted

	trailer  []byte // the trailer section so far, copied
	fs       fieldScanner
	trailers []Field
}

// Reset prepares d for a new body.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{MaxHeaderSize: d.MaxHeaderSize, trailer: d.trailer[:0],
		fs: fieldScanner{spans: d.fs.spans[:0]}, trailers: d.trailers[:0]}
}

// Done reports whether the last chunk and the trailers have been read.
func (d *ChunkedDecoder) Done() bool { return d.state == chDone }

// Trailers returns the trailer fields once Done. They stay valid until
// Reset.
func (d *ChunkedDecoder) Trailers() []Field { return d.trailers }

// KeepAlive reports, once Done, whether the connection may carry another
// message after the chunked message with head h: llhttp lets a
// Connection trailer change what h.KeepAlive said.
func (d *ChunkedDecoder) KeepAlive(h *Head) bool {
	return keepAlive(h.Major, h.Minor, h.flags|d.fs.flags)
}

// Decode reads framing from in and returns how many bytes of in it
// consumed and the body data found, a subslice of in of at most max bytes.
// It returns at most one run of data per call; call it again with the rest
// of in. When in is used up before the body ends it returns with
// consumed == len(in); at the end of the body Done becomes true and the
// bytes after it are left. A *ParseError's Offset counts from the start
// of the body; with an error, consumed reaches that offset.
func (d *ChunkedDecoder) Decode(in []byte, max int) (consumed int, data []byte, err error) {
	i, data, perr := d.decode(in, max)
	if perr == nil && d.extInSpan {
		perr = d.addExt(d.consumed + i) // the input ends inside a span
	}
	if perr != nil {
		// Consumed up to the error, so that the sum over calls does not
		// depend on how the body was split.
		i = min(perr.Offset-d.consumed, len(in))
		if i < 0 {
			i = 0
		}
		d.consumed += i
		return i, nil, perr
	}
	d.consumed += i
	return i, data, nil
}

func (d *ChunkedDecoder) decode(in []byte, max int) (int, []byte, *ParseError) {
	base := d.consumed
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch d.state {
		case chSizeStart:
			v, ok := unhex(c)
			if !ok {
				return i, nil, fail(ErrInvalidChunkSize, "Invalid character in chunk size", base+i)
			}
			d.remaining = uint64(v)
			d.state = chSize
		case chSize:
			if v, ok := unhex(c); ok {
				if d.remaining > (^uint64(0)-uint64(v))/16 {
					return i, nil, fail(ErrInvalidChunkSize, "Chunk size overflow", base+i+1)
				}
				d.remaining = d.remaining*16 + uint64(v)
				continue
			}
			switch c {
			case ';':
				d.state = chExt
			case '\r':
				d.state = chSizeLF
			case '\n':
				return i, nil, fail(ErrCRExpected, "Missing expected CR after chunk size", base+i+1)
			case ' ', '\t':
				return i, nil, fail(ErrInvalidChunkSize, "Invalid character in chunk size", base+i+1)
			default:
				return i, nil, fail(ErrInvalidChunkSize, "Invalid character in chunk size", base+i)
			}
		case chExt, chExtName, chExtValue, chExtQuoted, chExtQuotedPair, chExtQuotedDone:
			if err := d.extension(c, base+i); err != nil {
				return i, nil, err
			}
		case chSizeLF:
			if c != '\n' {
				return i, nil, fail(ErrStrict, "Expected LF after chunk size", base+i)
			}
			d.extCounted = 0
			if d.remaining == 0 {
				d.state = chTrailers
				d.fs.reset(d.limit(), false, true)
				d.fs.state = fsFieldStart
				d.fs.flags = flagChunked | flagTransferEncoding
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
			switch c {
			case '\r':
				d.state = chDataLF
			case '\n':
				return i, nil, fail(ErrCRExpected, "Missing expected CR after chunk data", base+i+1)
			default:
				return i, nil, fail(ErrStrict, "Expected LF after chunk data", base+i)
			}
		case chDataLF:
			if c != '\n' {
				return i, nil, fail(ErrStrict, "Expected LF after chunk data", base+i)
			}
			d.state = chSizeStart
		case chTrailers:
			n, err := d.trailerBytes(in[i:], base+i)
			return i + n, nil, err
		case chDone:
			return i, nil, nil
		}
	}
	return len(in), nil, nil
}

// extension advances through one byte of the chunk extensions at body
// offset off. llhttp allows them only as ;name[=token|=quoted-string],
// with no whitespace; a name or value may be empty except before CR.
func (d *ChunkedDecoder) extension(c byte, off int) *ParseError {
	switch d.state {
	case chExt:
		if c == ' ' || c == '\r' {
			return fail(ErrStrict, "Invalid character in chunk extensions", off+1)
		}
		d.extInSpan, d.extFrom = true, off
		d.state = chExtName
		return d.extension(c, off)
	case chExtName:
		if httpspec.IsTokenChar(c) {
			return nil
		}
		if err := d.endExt(off, c != '\n'); err != nil {
			return err
		}
		switch c {
		case '=':
			d.extInSpan, d.extFrom = true, off+1
			d.state = chExtValue
			return nil
		case '\n':
			return fail(ErrCRExpected, "Missing expected CR after chunk extension name", off)
		}
		return d.extensionEnd(c, off, "Invalid character in chunk extensions name")
	case chExtValue:
		switch {
		case c == '"':
			d.state = chExtQuoted
			return nil
		case httpspec.IsTokenChar(c):
			return nil
		}
		if err := d.endExt(off, c != '\n'); err != nil {
			return err
		}
		if c == '\n' {
			return fail(ErrCRExpected, "Missing expected CR after chunk extension value", off)
		}
		return d.extensionEnd(c, off, "Invalid character in chunk extensions value")
	case chExtQuoted:
		switch {
		case c == '"':
			d.state = chExtQuotedDone
			return d.endExt(off+1, false)
		case c == '\\':
			d.state = chExtQuotedPair
		case c == '\t' || c == ' ' || c == '!' || c >= '#' && c != 0x7f:
		default:
			if err := d.endExt(off, true); err != nil {
				return err
			}
			return fail(ErrStrict, "Invalid character in chunk extensions quoted value", off+1)
		}
	case chExtQuotedPair:
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			if err := d.endExt(off, true); err != nil {
				return err
			}
			return fail(ErrStrict, "Invalid quoted-pair in chunk extensions quoted value", off+1)
		}
		d.state = chExtQuoted
	case chExtQuotedDone:
		switch c {
		case ';':
			d.state = chExt
		case '\r':
			d.state = chSizeLF
		case '\n':
			return fail(ErrCRExpected, "Missing expected CR after chunk extension value", off)
		default:
			return fail(ErrStrict, "Invalid character in chunk extensions quote value", off)
		}
	}
	return nil
}

// extensionEnd accepts the bytes that may end an extension name or token
// value: ';' starts the next extension, CR ends the chunk-size line.
// Anything else is refused one byte later, as llhttp does.
func (d *ChunkedDecoder) extensionEnd(c byte, off int, reason string) *ParseError {
	switch c {
	case ';':
		d.state = chExt
	case '\r':
		d.state = chSizeLF
	default:
		return fail(ErrStrict, reason, off+1)
	}
	return nil
}

// endExt closes the open extension span at body offset end and counts
// it; skip moves an error one byte on, as fieldScanner.endSpan does.
func (d *ChunkedDecoder) endExt(end int, skip bool) *ParseError {
	d.extInSpan = false
	err := d.addExt(end)
	if err != nil && skip {
		err.Offset++
	}
	return err
}

// addExt counts the open extension span up to body offset end. Like Node
// it refuses the message once more than MaxChunkExtensionsSize bytes are
// counted.
func (d *ChunkedDecoder) addExt(end int) *ParseError {
	d.extCounted += end - d.extFrom
	d.extFrom = end
	if d.extCounted > MaxChunkExtensionsSize {
		return fail(ErrChunkExtensionsOverflow, "Chunk extensions overflow", end)
	}
	return nil
}

func (d *ChunkedDecoder) limit() int {
	if d.MaxHeaderSize > 0 {
		return d.MaxHeaderSize
	}
	return DefaultMaxHeaderSize
}

// trailerBytes copies trailer bytes, which begin at body offset off, and
// parses them. It returns how many bytes of in belong to the trailer
// section.
func (d *ChunkedDecoder) trailerBytes(in []byte, off int) (int, *ParseError) {
	base := len(d.trailer)
	raw := RawHeadLimit(d.limit())
	over := base+len(in) > raw
	if over {
		in = in[:raw-base]
	}
	d.trailer = append(d.trailer, in...)
	done, err := d.fs.scan(d.trailer)
	if err != nil {
		err.Offset += off - base
		return 0, err
	}
	if !done {
		if over {
			return 0, fail(ErrHeaderOverflow, reasonHeadTooLarge, off-base+raw)
		}
		return len(in), nil
	}
	if err := d.fs.ambiguity(off - base + d.fs.pos); err != nil {
		return 0, err
	}
	d.trailer = d.trailer[:d.fs.pos]
	d.state = chDone
	for _, sp := range d.fs.spans {
		d.trailers = append(d.trailers, Field{Name: d.trailer[sp.name:sp.nameEnd], Value: d.trailer[sp.valStart:sp.valEnd]})
	}
	return d.fs.pos - base, nil
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
