package sdk

import (
	"errors"
	"sync"
	"time"
	"unsafe"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/protocol"
)

// Response is the response to a request, with the API of Node's
// http.ServerResponse. Headers are kept here until the head is sent;
// hostd validates everything again and decides the framing
// (Content-Length, chunked or close-delimited), the Connection header and
// the Date. Methods return Node's errors instead of throwing them. A
// Response may be finished from any goroutine, one at a time.
type Response struct {
	st *stream
	mu sync.Mutex

	// StatusCode is sent by an implicit head (Write or End without
	// WriteHead). It defaults to 200.
	StatusCode int
	// StatusMessage is the reason phrase; empty means the standard one.
	StatusMessage string
	// SendDate makes hostd add a Date header. Default true.
	SendDate bool
	// StrictContentLength makes a body that does not match a
	// Content-Length header fail with ERR_HTTP_CONTENT_LENGTH_MISMATCH.
	StrictContentLength bool

	hdr      httpspec.OutHeaders
	trailers []string
	explicit bool // WriteHead was called
	stored   bool // the head is decided (Node's _header): WriteHead, or the first write, corked or not
	headSent bool // the head went to hostd
	finished bool
	hasBody  bool // false for HEAD, 204, 304 and 1xx, once stored
	closed   bool
	written  int64
	corked   int
	corkBuf  []byte
	onFinish []func()
	onClose  []func()
}

func (r *Response) init(st *stream) {
	r.st = st
	r.StatusCode, r.SendDate = 200, true
	r.hasBody = string(st.head.Method) != "HEAD"
}

// declaredLength is the Content-Length the handler set, or -1.
func (r *Response) declaredLength() int64 {
	if v := r.hdr.Get("content-length"); len(v) == 1 {
		return parseLength(v[0])
	}
	return -1
}

// strict reports whether StrictContentLength applies, and the length.
func (r *Response) strict() (bool, int64) {
	n := r.declaredLength()
	return r.StrictContentLength && n >= 0 && r.hdr.Get("transfer-encoding") == nil, n
}

// raiseClose runs the close listeners once.
func (r *Response) raiseClose() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	fs := r.onClose
	r.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

var (
	errWriteAfterEnd  = &Error{Code: "ERR_STREAM_WRITE_AFTER_END", Message: "write after end"}
	errFinished       = &Error{Code: "ERR_STREAM_ALREADY_FINISHED", Message: "Cannot call end after a stream was finished"}
	errBodyNotAllowed = &Error{Code: "ERR_HTTP_BODY_NOT_ALLOWED", Message: "Adding content for this request method or response status is not allowed."}
)

// SetHeader sets a header, replacing its values; several values make
// several field lines.
func (r *Response) SetHeader(name string, values ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored {
		return httpspec.HeadersSentError("set")
	}
	return r.hdr.Set(name, values...)
}

// AppendHeader adds values to a header, keeping those it had.
func (r *Response) AppendHeader(name string, values ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored {
		return httpspec.HeadersSentError("append")
	}
	return r.hdr.Append(name, values...)
}

// SetHeaders sets several headers, as SetHeader does for each.
func (r *Response) SetHeaders(headers map[string][]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored {
		return httpspec.HeadersSentError("set")
	}
	for name, values := range headers {
		if err := r.hdr.Set(name, values...); err != nil {
			return err
		}
	}
	return nil
}

// GetHeader returns the first value of a header, or "".
func (r *Response) GetHeader(name string) string {
	if v := r.GetHeaderValues(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// GetHeaderValues returns the values of a header, or nil.
func (r *Response) GetHeaderValues(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.hdr.Get(name)...)
}

// HasHeader reports whether a header is set.
func (r *Response) HasHeader(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hdr.Has(name)
}

// GetHeaders returns a copy of the headers by lower-case name.
func (r *Response) GetHeaders() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hdr.Map()
}

// GetHeaderNames returns the header names in lower case.
func (r *Response) GetHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hdr.Names()
}

// GetRawHeaderNames returns the header names as set.
func (r *Response) GetRawHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hdr.RawNames()
}

// RemoveHeader removes a header. Removing Content-Length,
// Transfer-Encoding, Connection or Date also stops hostd from adding its
// own.
func (r *Response) RemoveHeader(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored {
		return httpspec.HeadersSentError("remove")
	}
	if r.hdr.Remove(name) {
		r.SendDate = false
	}
	return nil
}

// HeadersSent reports whether the head is fixed, as Node's headersSent
// does: after WriteHead, FlushHeaders or the first write, corked or not.
// From then on the header setters return ERR_HTTP_HEADERS_SENT.
func (r *Response) HeadersSent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stored
}

// WritableEnded reports whether End has been called.
func (r *Response) WritableEnded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finished
}

// WritableFinished reports whether the whole response has been handed to
// hostd.
func (r *Response) WritableFinished() bool { return r.WritableEnded() }

// WriteHead sets the status and merges headers (names and values
// alternating) over those set with SetHeader; they win, and may repeat a
// name. The head is sent with the first body bytes, or by FlushHeaders.
func (r *Response) WriteHead(statusCode int, headers ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored {
		return httpspec.HeadersSentError("write")
	}
	if statusCode < 100 || statusCode > 999 {
		return httpspec.NewError(httpspec.CodeInvalidStatusCode, "Invalid status code: %d", statusCode)
	}
	if len(headers)%2 != 0 {
		return httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid. Received %q", headers)
	}
	for i := 0; i < len(headers); i += 2 {
		if err := httpspec.Validate(headers[i], headers[i+1:i+2]); err != nil {
			return err
		}
	}
	if r.StatusMessage != "" && !httpspec.ValidFieldValue(r.StatusMessage) {
		return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in statusMessage")
	}
	for i := 0; i < len(headers); i += 2 {
		r.hdr.Remove(headers[i])
	}
	for i := 0; i < len(headers); i += 2 {
		_ = r.hdr.Append(headers[i], headers[i+1])
	}
	r.StatusCode = statusCode
	r.explicit, r.stored = true, true
	if noBodyStatus(statusCode) {
		r.hasBody = false
	}
	return nil
}

// noBodyStatus reports whether a response with status code has no body.
func noBodyStatus(code int) bool { return code == 204 || code == 304 || code < 200 }

// storeHead decides the implicit head's status the first time something
// is written, as Node's _implicitHeader does: StatusCode and
// StatusMessage are validated as WriteHead would, and from then on a
// 204, 304 or 1xx StatusCode means the response has no body. Called with
// mu held.
func (r *Response) storeHead() error {
	if r.stored {
		return nil
	}
	if r.StatusCode < 100 || r.StatusCode > 999 {
		return httpspec.NewError(httpspec.CodeInvalidStatusCode, "Invalid status code: %d", r.StatusCode)
	}
	if r.StatusMessage != "" && !httpspec.ValidFieldValue(r.StatusMessage) {
		return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in statusMessage")
	}
	r.stored = true
	if noBodyStatus(r.StatusCode) {
		r.hasBody = false
	}
	return nil
}

// WriteHeadMap is WriteHead with headers as a map, each set as with
// SetHeader.
func (r *Response) WriteHeadMap(statusCode int, headers map[string][]string) error {
	for name, values := range headers {
		if err := r.SetHeader(name, values...); err != nil {
			return err
		}
	}
	return r.WriteHead(statusCode)
}

func parseLength(v string) int64 {
	var n int64
	if v == "" {
		return -1
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' || n > (1<<62)/10 {
			return -1
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n
}

// head builds the wire head from the current state, its strings viewed
// as bytes without copies (they are only encoded). Called with mu held.
func (r *Response) head(flags uint8) protocol.ResponseHead {
	h := protocol.ResponseHead{Status: uint16(r.StatusCode), Flags: flags, Length: -1, Reason: bytesOf(r.StatusMessage)}
	if !r.SendDate {
		h.Flags |= protocol.HeadNoDate
	}
	if r.StrictContentLength {
		h.Flags |= protocol.HeadStrict
	}
	if r.explicit {
		h.Flags |= protocol.HeadExplicit
	}
	if r.hdr.RemovedConnection {
		h.Flags |= protocol.HeadRemovedConnection
	}
	if r.hdr.RemovedContentLength {
		h.Flags |= protocol.HeadRemovedContentLength
	}
	if r.hdr.RemovedTransferEncoding {
		h.Flags |= protocol.HeadRemovedTransferEncoding
	}
	h.Fields = r.st.fields[:0]
	for i := 0; i < r.hdr.Len(); i++ {
		name, values := r.hdr.At(i)
		for _, v := range values {
			h.Fields = append(h.Fields, bytesOf(name), bytesOf(v))
		}
	}
	r.st.fields = h.Fields
	return h
}

// bytesOf views s as bytes, for encoding only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// sendHead sends the head unless it went already. Called with mu held.
func (r *Response) sendHead(flags uint8) error {
	if r.headSent {
		return nil
	}
	if err := r.storeHead(); err != nil {
		return err
	}
	h := r.head(flags)
	r.headSent = true
	return r.unsendable(r.st.sendFrame(protocol.TypeHead, func(b []byte) []byte { return protocol.AppendResponseHead(b, &h) }))
}

// unsendable resets the stream when err says that its head or trailers
// cannot be sent: hostd answers 500, or cuts the connection, and the
// response is over. Called with mu held.
func (r *Response) unsendable(err error) error {
	if errors.Is(err, errTooLarge) {
		r.finished = true
		r.st.reset(err.Error())
	}
	return err
}

// FlushHeaders sends the head now.
func (r *Response) FlushHeaders() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headSent {
		return nil
	}
	return r.sendHead(protocol.HeadFlush)
}

// Write sends body bytes, sending the head first if needed. It blocks
// while hostd has not passed earlier bytes on to the client (flow
// control), and returns ErrAborted once the request is aborted.
func (r *Response) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writeLocked(p, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write for a string.
func (r *Response) WriteString(s string) (int, error) {
	return r.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (r *Response) writeLocked(p []byte, fromEnd bool) error {
	if r.finished {
		return errWriteAfterEnd
	}
	if r.aborted() {
		return ErrAborted
	}
	if err := r.storeHead(); err != nil {
		return err
	}
	if !r.hasBody {
		if r.st.rt.settings.Load().rejectBody {
			return errBodyNotAllowed
		}
		if !fromEnd {
			return r.sendHead(0)
		}
		return nil
	}
	if strict, n := r.strict(); strict {
		total := r.written + int64(len(p))
		if fromEnd && total != n || !fromEnd && total > n {
			return mismatch(total, n)
		}
	}
	if r.corked > 0 && !fromEnd {
		r.corkBuf = append(r.corkBuf, p...)
		r.written += int64(len(p))
		return nil
	}
	if err := r.sendHead(0); err != nil {
		return err
	}
	r.written += int64(len(p))
	return r.sendBody(p)
}

func mismatch(got, want int64) error {
	return httpspec.NewError(httpspec.CodeContentLengthMismatch,
		"Response body's content-length of %d byte(s) does not match the content-length of %d byte(s) specified by header",
		got, want)
}

// sendBody sends p as Body frames within the flow-control credit.
func (r *Response) sendBody(p []byte) error {
	for len(p) > 0 {
		n, err := r.st.takeCredit(len(p))
		if err != nil {
			return err
		}
		if err := r.st.send(protocol.TypeBody, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func (r *Response) aborted() bool {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	return r.st.aborted
}

// End finishes the response, writing data first. A response ended before
// its head is sent gets a Content-Length. When the head, the body and the
// end fit, they go to hostd as one frame.
func (r *Response) End(data ...[]byte) error {
	r.mu.Lock()
	err := r.endLocked(data)
	r.mu.Unlock()
	if err == nil {
		for _, f := range r.onFinish {
			f()
		}
		r.raiseClose()
	}
	return err
}

// EndString is End with a string body.
func (r *Response) EndString(s string) error {
	return r.End(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (r *Response) endLocked(data [][]byte) error {
	if r.finished {
		for _, d := range data {
			if len(d) > 0 {
				return errWriteAfterEnd // as Node's end(chunk): a write first
			}
		}
		return errFinished
	}
	if r.aborted() {
		return ErrAborted
	}
	var p []byte
	switch len(data) {
	case 0:
	case 1:
		p = data[0]
	default:
		for _, d := range data {
			p = append(p, d...)
		}
	}
	if err := r.storeHead(); err != nil {
		return err
	}
	// Corked bytes were counted as written when buffered; they leave now,
	// ahead of data.
	written := r.written
	if len(r.corkBuf) > 0 {
		written -= int64(len(r.corkBuf))
		p = append(r.corkBuf[:len(r.corkBuf):len(r.corkBuf)], p...)
	}
	if !r.hasBody {
		if len(p) > 0 && r.st.rt.settings.Load().rejectBody {
			return errBodyNotAllowed
		}
		p = nil
	} else if strict, n := r.strict(); strict && written+int64(len(p)) != n {
		return mismatch(written+int64(len(p)), n)
	}
	r.written, r.corkBuf, r.corked = written, nil, 0
	var e protocol.End
	if len(p) > protocol.MaxChunk {
		// Too big for one frame: stream it, and if the head is still
		// unsent and implicit, tell hostd the length, as End(data) would.
		// After WriteHead the head is stored before the body is known, and
		// gets no length, as when the End fits in one frame.
		if !r.headSent {
			h := r.head(0)
			if !r.explicit {
				h.Length = int64(len(p))
			}
			r.headSent = true
			if err := r.st.send(protocol.TypeHead, protocol.AppendResponseHead(nil, &h)); err != nil {
				return r.unsendable(err)
			}
		}
		if err := r.sendBody(p); err != nil {
			return err
		}
		r.written += int64(len(p))
		p = nil
	} else if !r.headSent {
		e.HasHead, e.Head = true, r.head(0)
		r.headSent = true
	}
	// A last piece of at most MaxChunk rides in the End frame, even past
	// the credit: the overshoot is bounded and saves a round trip.
	r.written += int64(len(p))
	e.Data = p
	for _, t := range r.trailers {
		e.Trailers = append(e.Trailers, bytesOf(t))
	}
	r.finished = true
	err := r.st.sendFrame(protocol.TypeEnd, func(b []byte) []byte { return protocol.AppendEnd(b, &e) })
	if errors.Is(err, errTooLarge) {
		return r.unsendable(err)
	}
	r.st.finish()
	return err
}

// AddTrailers sets trailer fields, names and values alternating. hostd
// sends them only with a chunked body.
func (r *Response) AddTrailers(fields ...string) error {
	if len(fields)%2 != 0 {
		return httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid")
	}
	for i := 0; i < len(fields); i += 2 {
		if !httpspec.IsToken(fields[i]) {
			return httpspec.NewError(httpspec.CodeInvalidHTTPToken, "Trailer name must be a valid HTTP token [%q]", fields[i])
		}
		if !httpspec.ValidFieldValue(fields[i+1]) {
			return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in trailer content [%q]", fields[i])
		}
	}
	r.mu.Lock()
	r.trailers = append(r.trailers[:0], fields...)
	r.mu.Unlock()
	return nil
}

// WriteContinue sends "100 Continue", telling the client to send the body.
func (r *Response) WriteContinue() error { return r.info(100, nil) }

// WriteProcessing sends "102 Processing".
func (r *Response) WriteProcessing() error { return r.info(102, nil) }

// WriteEarlyHints sends "103 Early Hints". hints are header names and
// values alternating; each Link value is validated here, and hostd, which
// validates them again, joins them into one Link field. Without a Link
// value nothing is sent.
func (r *Response) WriteEarlyHints(hints ...string) error {
	fields, err := httpspec.EarlyHints(hints)
	if err != nil || fields == nil {
		return err
	}
	return r.info(103, hints)
}

// info sends a 1xx response.
func (r *Response) info(code uint16, fields []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stored {
		return httpspec.HeadersSentError("write")
	}
	if r.aborted() {
		return ErrAborted
	}
	i := protocol.Info{Status: code}
	for _, f := range fields {
		i.Fields = append(i.Fields, []byte(f))
	}
	return r.st.send(protocol.TypeInfo, protocol.AppendInfo(nil, &i))
}

// Cork buffers writes until a matching Uncork or End.
func (r *Response) Cork() {
	r.mu.Lock()
	r.corked++
	r.mu.Unlock()
}

// Uncork undoes one Cork; the last one sends what was buffered.
func (r *Response) Uncork() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.corked == 0 {
		return nil
	}
	r.corked--
	if r.corked > 0 || r.finished || len(r.corkBuf) == 0 {
		return nil
	}
	p := r.corkBuf
	r.corkBuf = nil
	if err := r.sendHead(0); err != nil {
		return err
	}
	return r.sendBody(p)
}

// SetTimeout asks hostd to call f if the client's socket stays inactive
// for d while this response is in flight; d of 0 turns the timeout off.
// With no callback registered, such a timeout closes the connection, as
// in Node.
func (r *Response) SetTimeout(d time.Duration, f func()) error {
	st := r.st
	st.mu.Lock()
	if f != nil {
		st.onTimeout = append(st.onTimeout, f)
	}
	callback := len(st.onTimeout) > 0
	st.mu.Unlock()
	ms := uint32(0)
	if d > 0 {
		ms = uint32(min(max(d.Milliseconds(), 1), 1<<31))
	}
	return st.send(protocol.TypeSetTimeout, protocol.AppendSetTimeout(nil, protocol.SetTimeout{Millis: ms, Callback: callback}))
}

// OnFinish registers f to run when the response has been handed to hostd.
func (r *Response) OnFinish(f func()) {
	r.mu.Lock()
	r.onFinish = append(r.onFinish, f)
	r.mu.Unlock()
}

// OnClose registers f to run when the response is done: finished, or
// aborted.
func (r *Response) OnClose(f func()) {
	r.mu.Lock()
	r.onClose = append(r.onClose, f)
	r.mu.Unlock()
}

// Req returns the request this response answers.
func (r *Response) Req() *Request { return &r.st.req }
