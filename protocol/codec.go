package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Payload encodings are built with Append* helpers on a byte slice and
// read back with a decoder. Strings and byte strings are a uvarint length
// then the bytes; a field list is a uvarint count then name and value
// pairs. Decoding returns slices of the payload and allocates nothing.

// RequestHead flags.
const (
	// ReqBodyFollows: TypeReqBody frames and a TypeReqEnd follow.
	ReqBodyFollows uint8 = 1 << iota
	// ReqSocketFD: the client's socket travels with the frame (SCM_RIGHTS).
	ReqSocketFD
	// ReqSocketRelay: the socket's bytes are relayed as TypeSockData.
	ReqSocketRelay
	// ReqAwaitCredit: the host sends no body until the plugin's first
	// TypeCredit, because reading it sends "100 Continue" to a client that
	// asked for it; the SDK grants a window when the body is first read.
	ReqAwaitCredit
	// ReqHeadersSent, on a client error or a timeout: the response to the
	// request in flight has begun, so no answer may be written (the host
	// drops the socket's bytes). A plugin built before this flag ignores
	// it.
	ReqHeadersSent
	// ReqEncrypted: the client came over TLS (a tls:// listener), Node's
	// req.socket.encrypted. A plugin built before this flag ignores it.
	ReqEncrypted
)

// RequestHead is the payload of TypeRequest.
type RequestHead struct {
	Event        Event
	Flags        uint8
	Major, Minor uint8
	Method, URL  []byte
	// Fields holds the raw header fields, names and values alternating.
	Fields     [][]byte
	RemoteAddr []byte
	LocalAddr  []byte
	// Data is the whole body when it fits and no ReqBodyFollows, or for
	// upgrade and CONNECT the bytes read past the head, or for a client
	// error the raw packet.
	Data []byte
	// ErrCode and BytesParsed describe a client error.
	ErrCode     []byte
	BytesParsed uint32
}

// AppendRequestHead appends the encoding of h.
func AppendRequestHead(dst []byte, h *RequestHead) []byte {
	dst = append(dst, byte(h.Event), h.Flags, h.Major, h.Minor)
	dst = AppendString(dst, h.Method)
	dst = AppendString(dst, h.URL)
	dst = AppendFields(dst, h.Fields)
	dst = AppendString(dst, h.RemoteAddr)
	dst = AppendString(dst, h.LocalAddr)
	dst = AppendString(dst, h.Data)
	dst = AppendString(dst, h.ErrCode)
	return binary.AppendUvarint(dst, uint64(h.BytesParsed))
}

// DecodeRequestHead decodes p into h. h.Fields reuses its backing array.
func DecodeRequestHead(p []byte, h *RequestHead) error {
	d := decoder{b: p}
	h.Event, h.Flags, h.Major, h.Minor = Event(d.Byte()), d.Byte(), d.Byte(), d.Byte()
	h.Method = d.String()
	h.URL = d.String()
	h.Fields = d.Fields(h.Fields[:0])
	h.RemoteAddr = d.String()
	h.LocalAddr = d.String()
	h.Data = d.String()
	h.ErrCode = d.String()
	if n := d.Uvarint(); n <= math.MaxUint32 {
		h.BytesParsed = uint32(n)
	} else {
		d.fail("bytes parsed")
	}
	return d.Done()
}

// ResponseHead flags.
const (
	// HeadNoDate: do not add a Date header (SendDate false).
	HeadNoDate uint8 = 1 << iota
	// HeadStrict: StrictContentLength.
	HeadStrict
	// HeadFlush: write the head now (FlushHeaders).
	HeadFlush
	// HeadExplicit: the handler called WriteHead, so the head is stored
	// before any body byte is known, and an End with data does not get a
	// Content-Length (as in Node).
	HeadExplicit
	// HeadRemovedConnection, HeadRemovedContentLength and
	// HeadRemovedTransferEncoding: the handler removed that header, so the
	// host must not add its own.
	HeadRemovedConnection
	HeadRemovedContentLength
	HeadRemovedTransferEncoding
)

// ResponseHead is the payload of TypeHead, and the optional head of an
// End.
type ResponseHead struct {
	Status uint16
	Flags  uint8
	// Length is the length of the body that the handler gave whole to End
	// before the head went out (sent in the End frame, streamed in Body
	// frames, or dropped for HEAD), so that the host declares it as End
	// would; -1 otherwise.
	Length int64
	Reason []byte
	// Fields holds the header fields in the order they are sent, names as
	// given and values alternating; an empty name marks another value of
	// the header before it (which matters for the headers sent on one
	// line, such as Cookie), while a repeated name is a header of its own.
	Fields [][]byte
}

// AppendResponseHead appends the encoding of h.
func AppendResponseHead(dst []byte, h *ResponseHead) []byte {
	dst = binary.BigEndian.AppendUint16(dst, h.Status)
	dst = append(dst, h.Flags)
	dst = binary.AppendUvarint(dst, uint64(h.Length+1))
	dst = AppendString(dst, h.Reason)
	return AppendFields(dst, h.Fields)
}

func decodeResponseHead(d *decoder, h *ResponseHead) {
	h.Status = d.Uint16()
	h.Flags = d.Byte()
	h.Length = int64(d.Uvarint()) - 1
	h.Reason = d.String()
	h.Fields = d.Fields(h.Fields[:0])
}

// DecodeResponseHead decodes p into h.
func DecodeResponseHead(p []byte, h *ResponseHead) error {
	d := decoder{b: p}
	decodeResponseHead(&d, h)
	return d.Done()
}

// End is the payload of TypeEnd.
type End struct {
	HasHead bool
	// WantFinished asks the host for a Finished frame once the response
	// has been written to the client's socket (or an Abort if it never
	// is).
	WantFinished bool
	Head         ResponseHead
	Data         []byte
	Trailers     [][]byte
}

// End flags, the first byte of its payload.
const (
	endHasHead      = 1 << 0
	endWantFinished = 1 << 1
)

// AppendEnd appends the encoding of e.
func AppendEnd(dst []byte, e *End) []byte {
	var flags byte
	if e.HasHead {
		flags |= endHasHead
	}
	if e.WantFinished {
		flags |= endWantFinished
	}
	dst = append(dst, flags)
	if e.HasHead {
		dst = AppendResponseHead(dst, &e.Head)
	}
	dst = AppendString(dst, e.Data)
	return AppendFields(dst, e.Trailers)
}

// DecodeEnd decodes p into e.
func DecodeEnd(p []byte, e *End) error {
	d := decoder{b: p}
	flags := d.Byte()
	e.HasHead, e.WantFinished = flags&endHasHead != 0, flags&endWantFinished != 0
	if flags&^(endHasHead|endWantFinished) != 0 {
		e.HasHead = false
		d.fail("end flags")
	}
	if e.HasHead {
		decodeResponseHead(&d, &e.Head)
	}
	e.Data = d.String()
	e.Trailers = d.Fields(e.Trailers[:0])
	return d.Done()
}

// Info is the payload of TypeInfo: a 1xx status and its headers.
type Info struct {
	Status uint16
	Fields [][]byte
}

// AppendInfo appends the encoding of i.
func AppendInfo(dst []byte, i *Info) []byte {
	dst = binary.BigEndian.AppendUint16(dst, i.Status)
	return AppendFields(dst, i.Fields)
}

// DecodeInfo decodes p into i.
func DecodeInfo(p []byte, i *Info) error {
	d := decoder{b: p}
	i.Status = d.Uint16()
	i.Fields = d.Fields(i.Fields[:0])
	return d.Done()
}

// AppendString appends a length-prefixed byte string.
func AppendString[T string | []byte](dst []byte, s T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendFields appends a field list; fields holds names and values
// alternating.
func AppendFields[T string | []byte](dst []byte, fields []T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(fields)/2))
	for _, f := range fields[:len(fields)/2*2] {
		dst = AppendString(dst, f)
	}
	return dst
}

// AppendUint32 appends a big-endian uint32, the payload of TypeCredit.
func AppendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// DecodeUint32 decodes the payload of TypeCredit.
func DecodeUint32(p []byte) (uint32, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("%w: want 4 bytes, got %d", ErrFrame, len(p))
	}
	return binary.BigEndian.Uint32(p), nil
}

// decoder reads a payload. The first error sticks; Done reports it, or
// trailing bytes.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or invalid %s", ErrFrame, what)
	}
	d.b = nil
}

// Byte reads one byte.
func (d *decoder) Byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Uint16 reads a big-endian uint16.
func (d *decoder) Uint16() uint16 {
	if len(d.b) < 2 {
		d.fail("uint16")
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

// Uvarint reads a uvarint.
func (d *decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// String reads a length-prefixed byte string.
func (d *decoder) String() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("string")
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// Fields reads a field list, appending names and values to dst.
func (d *decoder) Fields(dst [][]byte) [][]byte {
	n := d.Uvarint()
	// Each field takes at least two bytes, which bounds n before any
	// allocation.
	if d.err != nil || n > uint64(len(d.b))/2 {
		d.fail("fields")
		return dst
	}
	if free := cap(dst) - len(dst); free < int(2*n) {
		dst = append(make([][]byte, 0, len(dst)+int(2*n)), dst...)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		dst = append(dst, d.String(), d.String())
	}
	return dst
}

// Done reports the first error, or an error if bytes are left over.
func (d *decoder) Done() error {
	if d.err == nil && len(d.b) > 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrFrame, len(d.b))
	}
	return d.err
}

// DecodeFields decodes a payload that is only a field list (TypeReqEnd).
func DecodeFields(p []byte) ([][]byte, error) {
	d := decoder{b: p}
	f := d.Fields(nil)
	return f, d.Done()
}

// SetTimeout is the payload of TypeSetTimeout: the socket inactivity
// timeout in milliseconds (0 turns it off) and which callbacks the plugin
// has for it. Callback: the response's, which hear every timeout;
// RequestCallback: the request's, which hear it only while the request
// is still arriving (Node's req 'timeout'). A timeout that no callback
// hears closes the connection, as in Node. The flags are bits of the
// last byte (1 and 2); a host built before RequestCallback refuses it.
type SetTimeout struct {
	Millis          uint32
	Callback        bool
	RequestCallback bool
}

// AppendSetTimeout appends the encoding of s.
func AppendSetTimeout(dst []byte, s SetTimeout) []byte {
	dst = binary.BigEndian.AppendUint32(dst, s.Millis)
	var flags byte
	if s.Callback {
		flags |= 1
	}
	if s.RequestCallback {
		flags |= 2
	}
	return append(dst, flags)
}

// DecodeSetTimeout decodes a TypeSetTimeout payload.
func DecodeSetTimeout(p []byte) (SetTimeout, error) {
	if len(p) != 5 || p[4] > 3 {
		return SetTimeout{}, fmt.Errorf("%w: bad SetTimeout payload", ErrFrame)
	}
	return SetTimeout{Millis: binary.BigEndian.Uint32(p), Callback: p[4]&1 != 0, RequestCallback: p[4]&2 != 0}, nil
}
