package sdk

import (
	"errors"
	"sync"
	"time"
	"unsafe"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
	"github.com/hostd/hostd/protocol"
)

// Response is the response to a request, with the API of Node's
// http.ServerResponse. Headers are kept here until the head is sent;
// hostd validates everything again and decides the framing
// (Content-Length, chunked or close-delimited), the Connection header and
// the Date. A Response may be finished from any goroutine, one at a time.
//
// Errors. The methods that only change the head (SetHeader, AppendHeader,
// SetHeaders, RemoveHeader, WriteHead, WriteHeadMap, AddTrailers) return
// the Response, so that they chain as in Node, and keep the first error
// one of them meets, as bufio.Writer does: the call has no effect, and
// Err returns the error. The methods that send (Write, End, FlushHeaders,
// the 1xx writers) return errors. An error kept before the head was fixed
// (an invalid header, an invalid status) fails the response at the first
// of them, which returns and logs it and sends no head (hostd answers
// 500): the head the handler meant cannot be sent. An error kept after
// (a header set too late, ERR_HTTP_HEADERS_SENT) leaves the response as
// it was: End returns and logs it. Errors are *Error with Node's codes.
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

	m         outgoing.Message
	err       error    // the first error of a head-changing method
	errEarly  bool     // err came before the head was fixed: the head cannot be sent
	trailers  []string // as given to AddTrailers, validated
	headSent  bool     // the head went to hostd
	failed    bool     // the stream was reset: refused head, or Destroy
	closed    bool
	corked    int
	corkBuf   []byte
	onFinish  []func()
	onClose   []func()
	destroyed bool
	ackWanted bool // End asked hostd to say when the response reached the client
	arrived   bool // hostd said so
}

func (r *Response) init(st *stream) {
	r.st = st
	r.StatusCode, r.SendDate = 200, true
	r.m.Reset()
	r.m.HasBody = string(st.head.Method) != "HEAD"
}

// sync copies the exported settings into the message: the head's while
// it is not fixed, StrictContentLength at every write, as Node reads it.
// Called with mu held.
func (r *Response) sync() {
	if !r.m.Fixed() {
		r.m.StatusCode, r.m.StatusMessage, r.m.SendDate = r.StatusCode, r.StatusMessage, r.SendDate
		r.m.RejectBody = r.st.rt.settings.Load().rejectBody
	}
	r.m.StrictContentLength = r.StrictContentLength
}

// keep records err if it is the first. Called with mu held.
func (r *Response) keep(err error) {
	if err != nil && r.err == nil {
		r.err, r.errEarly = sdkError(err), !r.m.Fixed()
	}
}

// Err returns the first error that a head-changing method met, or nil.
func (r *Response) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// refuse fails the response when an error was kept before its head was
// fixed: the stream is reset (hostd answers 500) and the error returned.
// Called with mu held.
func (r *Response) refuse() error {
	if !r.errEarly {
		return nil
	}
	if !r.failed {
		r.failed = true
		r.st.rt.log.Error("response refused: its head cannot be sent", "url", string(r.st.head.URL), "error", r.err)
		r.st.reset(r.err.Error())
	}
	return r.err
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

var errDestroyed = &Error{Code: CodeStreamDestroyed, Message: "Cannot call write after a stream was destroyed"}

// SetHeader sets a header, replacing its values; several values make
// several field lines. A name set again keeps its place and takes the
// new spelling, as in Node.
func (r *Response) SetHeader(name string, values ...string) *Response {
	r.mu.Lock()
	r.keep(r.m.SetHeader(name, values...))
	r.mu.Unlock()
	return r
}

// AppendHeader adds values to a header, keeping those it had.
func (r *Response) AppendHeader(name string, values ...string) *Response {
	r.mu.Lock()
	r.keep(r.m.AppendHeader(name, values...))
	r.mu.Unlock()
	return r
}

// SetHeaders sets several headers, as SetHeader does for each, in the
// order of their names.
func (r *Response) SetHeaders(headers map[string][]string) *Response {
	r.mu.Lock()
	r.keep(r.m.SetHeaders(headers))
	r.mu.Unlock()
	return r
}

// RemoveHeader removes a header. Removing Content-Length,
// Transfer-Encoding, Connection or Date also stops hostd from adding its
// own.
func (r *Response) RemoveHeader(name string) *Response {
	r.mu.Lock()
	err := r.m.RemoveHeader(name)
	if err == nil && httpspec.EqualFoldASCII(name, "date") {
		r.SendDate = false
	}
	r.keep(err)
	r.mu.Unlock()
	return r
}

// GetHeader returns the first value of a header, or "".
func (r *Response) GetHeader(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, _ := r.m.Header.First(name)
	return v
}

// GetHeaderValues returns the values of a header, or nil.
func (r *Response) GetHeaderValues(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Header.Get(name)
}

// HasHeader reports whether a header is set.
func (r *Response) HasHeader(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Header.Has(name)
}

// GetHeaders returns a copy of the headers by lower-case name.
func (r *Response) GetHeaders() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Header.Map()
}

// GetHeaderNames returns the header names in lower case.
func (r *Response) GetHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Header.Names()
}

// GetRawHeaderNames returns the header names as set.
func (r *Response) GetRawHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Header.RawNames()
}

// HeadersSent reports whether the head is fixed, as Node's headersSent
// does: after WriteHead, FlushHeaders or the first write, corked or not.
// From then on the header setters fail with ERR_HTTP_HEADERS_SENT.
func (r *Response) HeadersSent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Fixed()
}

// WritableEnded reports whether End has been called.
func (r *Response) WritableEnded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m.Finished()
}

// WritableFinished reports whether the whole response has been written to
// the client's socket. hostd says so to a response that has an OnFinish
// or OnClose listener, or whose request has an OnClose listener or a
// Context, when it ends; to spare a frame per request, the others are
// not told, and for them it reports what WritableEnded does.
func (r *Response) WritableFinished() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.arrived || r.m.Finished() && !r.ackWanted
}

// delivered runs the finish and close listeners once hostd has written
// the response to the client's socket.
func (r *Response) delivered() {
	r.mu.Lock()
	r.arrived = true
	fs := r.onFinish
	r.mu.Unlock()
	for _, f := range fs {
		f()
	}
	r.raiseClose()
}

// WriteHead fixes the status and the head, with headers (names and values
// alternating) as Node 20's writeHead takes a list: alone, it is sent as
// given, repeated names and spellings included; over headers set before,
// each pair sets its header as SetHeader does. The head is sent with the
// first body bytes, or by FlushHeaders.
func (r *Response) WriteHead(statusCode int, headers ...string) *Response {
	r.mu.Lock()
	r.sync()
	r.keep(r.m.WriteHead(statusCode, headers))
	r.mu.Unlock()
	return r
}

// WriteHeadMap is WriteHead with headers as a map: each is set as with
// SetHeader, in the order of their names.
func (r *Response) WriteHeadMap(statusCode int, headers map[string][]string) *Response {
	r.mu.Lock()
	r.sync()
	r.keep(r.m.WriteHeadMap(statusCode, headers))
	r.mu.Unlock()
	return r
}

// head builds the wire head from the fixed message, its strings viewed as
// bytes without copies (they are only encoded): a header's further values
// go with an empty name. length is the body's length when the handler
// gave it whole before the head went out, else -1. Called with mu held.
func (r *Response) head(flags uint8, length int64) protocol.ResponseHead {
	m := &r.m
	h := protocol.ResponseHead{Status: uint16(m.StatusCode), Flags: flags, Length: length, Reason: bytesOf(m.StatusMessage)}
	if !m.SendDate {
		h.Flags |= protocol.HeadNoDate
	}
	if m.StrictContentLength {
		h.Flags |= protocol.HeadStrict
	}
	if m.Explicit() {
		h.Flags |= protocol.HeadExplicit
	}
	if m.Header.RemovedConnection {
		h.Flags |= protocol.HeadRemovedConnection
	}
	if m.Header.RemovedContentLength {
		h.Flags |= protocol.HeadRemovedContentLength
	}
	if m.Header.RemovedTransferEncoding {
		h.Flags |= protocol.HeadRemovedTransferEncoding
	}
	h.Fields = r.st.fields[:0]
	for i := range m.Header.Len() {
		name, value, cont := m.Header.Field(i)
		if cont {
			name = ""
		}
		h.Fields = append(h.Fields, bytesOf(name), bytesOf(value))
	}
	r.st.fields = h.Fields
	return h
}

// bytesOf views s as bytes, for encoding only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// sendHead sends the fixed head unless it went already. Called with mu
// held.
func (r *Response) sendHead(flags uint8) error {
	if r.headSent {
		return nil
	}
	h := r.head(flags, -1)
	r.headSent = true
	return r.unsendable(r.st.sendFrame(protocol.TypeHead, func(b []byte) []byte { return protocol.AppendResponseHead(b, &h) }))
}

// unsendable resets the stream when err says that its head or trailers
// cannot be sent: hostd answers 500, or cuts the connection, and the
// response is over. Called with mu held.
func (r *Response) unsendable(err error) error {
	if errors.Is(err, errTooLarge) {
		r.m.Finish()
		r.st.reset(err.Error())
	}
	return err
}

// open checks that the response can still send. Called with mu held.
func (r *Response) open() error {
	if err := r.refuse(); err != nil {
		return err
	}
	if r.destroyed {
		return errDestroyed
	}
	if r.aborted() {
		return ErrAborted
	}
	return nil
}

// FlushHeaders sends the head now.
func (r *Response) FlushHeaders() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.open(); err != nil || r.headSent {
		return err
	}
	r.sync()
	if err := r.m.Fix(); err != nil {
		return sdkError(err)
	}
	return r.sendHead(protocol.HeadFlush)
}

// Write sends body bytes, sending the head first if needed. It blocks
// while hostd has not passed earlier bytes on to the client (flow
// control), and returns ErrAborted once the request is aborted. Bytes
// past a Content-Length the handler set are dropped (under
// StrictContentLength, refused), so that the client never reads them as
// the next response.
func (r *Response) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writeLocked(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write for a string.
func (r *Response) WriteString(s string) (int, error) {
	return r.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (r *Response) writeLocked(p []byte) error {
	if r.m.Finished() {
		return sdkError(r.bodyErr(len(p), false))
	}
	if err := r.open(); err != nil {
		return err
	}
	r.sync()
	n, err := r.m.Body(len(p), false)
	if err != nil {
		return sdkError(err)
	}
	if !r.m.HasBody {
		return r.sendHead(0)
	}
	if r.corked > 0 {
		r.corkBuf = append(r.corkBuf, p[:n]...)
		return nil
	}
	if err := r.sendHead(0); err != nil {
		return err
	}
	return r.sendBody(p[:n])
}

// bodyErr is the error of a write to a finished response.
func (r *Response) bodyErr(n int, end bool) error {
	_, err := r.m.Body(n, end)
	return err
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
// end fit, they go to hostd as one frame. It returns the error a
// head-changing method kept, if any (see Response). The OnFinish and
// OnClose listeners run once hostd has written the response to the
// client's socket (Node's finish event), or when it could not.
func (r *Response) End(data ...[]byte) error {
	r.mu.Lock()
	err := r.endLocked(data)
	ended := err == nil && !r.ackWanted // else the listeners wait for hostd
	var onFinish []func()
	if err == nil {
		onFinish = r.onFinish
		if err = r.err; err != nil {
			r.st.rt.log.Error("response sent without a change it was asked for", "url", string(r.st.head.URL), "error", err)
		}
	}
	r.mu.Unlock()
	if ended {
		for _, f := range onFinish {
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
	if r.m.Finished() {
		for _, d := range data {
			if len(d) > 0 {
				return sdkError(r.bodyErr(len(d), false)) // as Node's end(chunk): a write first
			}
		}
		return sdkError(r.m.CheckEnd())
	}
	if err := r.open(); err != nil {
		return err
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
	r.sync()
	if err := r.m.Fix(); err != nil {
		return sdkError(err)
	}
	// An implicit head that has not gone out declares the whole body's
	// length, corked bytes included, even where the body is not sent
	// (HEAD), as End(data) would.
	length := int64(-1)
	if !r.headSent && !r.m.Explicit() {
		length = int64(len(r.corkBuf) + len(p))
	}
	n, err := r.m.Body(len(p), true)
	if err != nil {
		return sdkError(err)
	}
	// Corked bytes were accounted for when buffered; they leave now,
	// ahead of data.
	if len(r.corkBuf) > 0 {
		p = append(r.corkBuf[:len(r.corkBuf):len(r.corkBuf)], p[:n]...)
	} else {
		p = p[:n]
	}
	r.corkBuf, r.corked = nil, 0
	var e protocol.End
	if len(p) > protocol.MaxChunk {
		// Too big for one frame: stream it behind the head.
		if !r.headSent {
			h := r.head(0, length)
			r.headSent = true
			if err := r.st.send(protocol.TypeHead, protocol.AppendResponseHead(nil, &h)); err != nil {
				return r.unsendable(err)
			}
		}
		if err := r.sendBody(p); err != nil {
			return err
		}
		p = nil
	} else if !r.headSent {
		e.HasHead, e.Head = true, r.head(0, length)
		r.headSent = true
	}
	// A last piece of at most MaxChunk rides in the End frame, even past
	// the credit: the overshoot is bounded and saves a round trip.
	e.Data = p
	if len(r.onFinish) > 0 || len(r.onClose) > 0 || r.st.listened() {
		r.ackWanted, e.WantFinished = true, true
		r.st.mu.Lock()
		r.st.ackWanted = true
		r.st.mu.Unlock()
	}
	for _, t := range r.trailers {
		e.Trailers = append(e.Trailers, bytesOf(t))
	}
	r.m.Finish()
	err = r.st.sendFrame(protocol.TypeEnd, func(b []byte) []byte { return protocol.AppendEnd(b, &e) })
	if errors.Is(err, errTooLarge) {
		return r.unsendable(err)
	}
	r.st.finish()
	return err
}

// AddTrailers sets trailer fields, names and values alternating. hostd
// sends them only with a chunked body.
func (r *Response) AddTrailers(fields ...string) *Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := outgoing.ValidateTrailers(fields); err != nil {
		r.keep(err)
		return r
	}
	r.trailers = append(r.trailers[:0], fields...)
	return r
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
		return sdkError(err)
	}
	return r.info(103, hints)
}

// info sends a 1xx response.
func (r *Response) info(code uint16, fields []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m.Fixed() {
		return sdkError(httpspec.HeadersSentError("write"))
	}
	if err := r.open(); err != nil {
		return err
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
	if r.corked > 0 || r.m.Finished() || len(r.corkBuf) == 0 {
		return nil
	}
	p := r.corkBuf
	r.corkBuf = nil
	if err := r.open(); err != nil {
		return err
	}
	if err := r.sendHead(0); err != nil {
		return err
	}
	return r.sendBody(p)
}

// Destroy abandons the response (Node's res.destroy(err)): hostd answers
// 500 if the head has not gone out, and otherwise closes the client's
// connection, so that a broken answer is never taken for a complete one.
// err, if not nil, is logged. Later writes fail with ERR_STREAM_DESTROYED.
func (r *Response) Destroy(err error) {
	r.mu.Lock()
	if r.destroyed || r.failed || r.m.Finished() {
		r.mu.Unlock()
		return
	}
	r.destroyed, r.failed = true, true
	r.mu.Unlock()
	msg := "destroyed by the handler"
	if err != nil {
		msg = err.Error()
		r.st.rt.log.Warn("response destroyed", "url", string(r.st.head.URL), "error", err)
	}
	r.st.reset(msg)
	r.raiseClose()
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
	callback, reqCallback := len(st.onTimeout) > 0, len(st.onReqTimeout) > 0
	st.mu.Unlock()
	ms := uint32(0)
	if d > 0 {
		ms = uint32(min(max(d.Milliseconds(), 1), 1<<31))
	}
	return st.send(protocol.TypeSetTimeout, protocol.AppendSetTimeout(nil, protocol.SetTimeout{Millis: ms, Callback: callback, RequestCallback: reqCallback}))
}

// OnFinish registers f to run when hostd has written the whole response
// to the client's socket (Node's finish event), before End if it is to
// run: an access log or a metric taken there is true.
func (r *Response) OnFinish(f func()) {
	r.mu.Lock()
	r.onFinish = append(r.onFinish, f)
	r.mu.Unlock()
}

// OnClose registers f to run when the response is done: finished,
// destroyed or aborted.
func (r *Response) OnClose(f func()) {
	r.mu.Lock()
	r.onClose = append(r.onClose, f)
	r.mu.Unlock()
}

// Req returns the request this response answers.
func (r *Response) Req() *Request { return &r.st.req }
