package server

import (
	"strconv"
	"unsafe"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// writevMin: a body slice at least this large is written with writev
// beside the buffered bytes rather than copied into the buffer.
const writevMin = 8 << 10

var (
	errWriteAfterEnd  = &httpspec.Error{Code: httpspec.CodeStreamWriteAfterEnd, Message: "write after end"}
	errDestroyed      = &httpspec.Error{Code: httpspec.CodeStreamDestroyed, Message: "Cannot call write after a stream was destroyed"}
	errFinished       = &httpspec.Error{Code: httpspec.CodeStreamAlreadyFinished, Message: "Cannot call end after a stream was finished"}
	errBodyNotAllowed = &httpspec.Error{Code: httpspec.CodeBodyNotAllowed,
		Message: "Adding content for this request method or response status is not allowed."}
	errTrailerInvalid = &httpspec.Error{Code: httpspec.CodeTrailerInvalid, Message: "Trailers are invalid with this transfer encoding"}
)

// WriteHead sends the status line and headers: those set with SetHeader,
// merged with headers (names and values alternating), which win over them
// and may repeat a name. The head is written with the first body bytes,
// or by FlushHeaders.
func (r *ServerResponse) WriteHead(statusCode int, headers ...string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.writeHeadLocked(statusCode, headers, nil)
}

// WriteHeadMap is WriteHead with headers as a map, each one set as with
// SetHeader.
func (r *ServerResponse) WriteHeadMap(statusCode int, headers map[string][]string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.writeHeadLocked(statusCode, nil, headers)
}

func (r *ServerResponse) writeHeadLocked(code int, pairs []string, m map[string][]string) error {
	if r.headerWritten {
		return httpspec.HeadersSentError("write")
	}
	if code < 100 || code > 999 {
		return httpspec.NewError(httpspec.CodeInvalidStatusCode, "Invalid status code: %d", code)
	}
	if len(pairs)%2 != 0 {
		return httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid. Received %q", pairs)
	}
	for i := 0; i < len(pairs); i += 2 {
		if err := validateField(pairs[i], pairs[i+1:i+2]); err != nil {
			return err
		}
	}
	for name, values := range m {
		if err := validateField(name, values); err != nil {
			return err
		}
	}
	msg := r.StatusMessage
	if msg == "" {
		msg = httpspec.StatusText(code)
	}
	if !httpspec.ValidFieldValue(msg) {
		return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in statusMessage")
	}
	// As in Node: the list form replaces same-named headers but keeps its
	// own repeats; the map form sets each header. Without headers set
	// before, Node writes WriteHead's headers without keeping them, so a
	// WriteHead that fails leaves none behind (see below).
	hadHeaders := r.hdr.Len() > 0
	for i := 0; hadHeaders && i < len(pairs); i += 2 {
		r.removeHeader(pairs[i])
	}
	for i := 0; i < len(pairs); i += 2 {
		_ = r.appendHeader(pairs[i], pairs[i+1:i+2])
	}
	for name, values := range m {
		_ = r.setHeader(name, values)
	}
	r.StatusCode, r.StatusMessage = code, msg
	if code == 204 || code == 304 || code < 200 {
		r.hasBody = false
	}
	// A client that asked for 100-continue and got a final status instead
	// may still send the body; the connection cannot be reused. A request
	// without a body (or whose body has all arrived) leaves nothing to
	// send.
	if r.expectContinue && !r.sent100 && !r.req.body.done {
		r.keepAlive = false
	}
	err := r.storeHeader()
	if err != nil && !hadHeaders {
		conn, length, te := r.hdr.RemovedConnection, r.hdr.RemovedContentLength, r.hdr.RemovedTransferEncoding
		r.hdr.Reset()
		r.hdr.RemovedConnection, r.hdr.RemovedContentLength, r.hdr.RemovedTransferEncoding = conn, length, te
	}
	return err
}

func validateField(name string, values []string) error {
	if err := httpspec.ValidateHeaderName(name); err != nil {
		return err
	}
	return httpspec.ValidateHeaderValues(name, values)
}

// headState is what storeHeader learns from the headers the user set.
type headState struct {
	connection, contLen, te, date, expect, trailer bool
}

// storeHeader serializes the head into the write buffer and decides the
// framing, as Node's _storeHeader does.
func (r *ServerResponse) storeHeader() error {
	ex, cfg := r.ex, r.c.srv.cfg
	mark := len(ex.wbuf)
	b := http1.AppendStatusLine(ex.wbuf, r.StatusCode, r.StatusMessage)
	var st headState
	for i := range r.hdr.Len() {
		name, values := r.hdr.At(i)
		// As in Node's processHeader, several values of a unique header,
		// and of Cookie, go on one line joined with "; ".
		if len(values) > 1 && (httpspec.EqualFoldASCII(name, "cookie") ||
			cfg.unique != nil && cfg.unique[httpspec.ToLower(name)]) {
			b = append(b, name...)
			b = append(b, ": "...)
			for j, v := range values {
				if j > 0 {
					b = append(b, "; "...)
				}
				b = append(b, v...)
			}
			b = append(b, "\r\n"...)
			r.matchHeader(&st, name, values[0])
			continue
		}
		for _, v := range values {
			b = http1.AppendField(b, name, v)
			r.matchHeader(&st, name, v)
		}
	}
	if r.SendDate && !st.date {
		b = append(b, "Date: "...)
		b = http1.AppendDate(b)
		b = append(b, "\r\n"...)
	}
	// Node never sends a chunked 204 or 304: it drops the zero chunk and
	// closes the connection instead.
	if r.chunked && (r.StatusCode == 204 || r.StatusCode == 304) {
		r.chunked, r.keepAlive = false, false
	}
	switch {
	case r.hdr.RemovedConnection:
		r.last, r.keepAlive = true, false
	case !st.connection:
		sendKeepAlive := r.keepAlive && (st.contLen || r.chunkedByDefault)
		switch {
		case sendKeepAlive && r.c.srv.isClosing():
			// The connection closes after this response (afterResponse),
			// so the client must not reuse it. Node says keep-alive here
			// and keeps the socket until keepAliveTimeout.
			r.last = true
			b = append(b, "Connection: close\r\n"...)
		case sendKeepAlive && r.maxReached:
			b = append(b, "Connection: close\r\n"...)
		case sendKeepAlive:
			b = append(b, "Connection: keep-alive\r\n"...)
			if kat := cfg.keepAliveTimeout; kat > 0 {
				b = append(b, "Keep-Alive: timeout="...)
				b = strconv.AppendInt(b, int64(kat.Seconds()), 10)
				if cfg.MaxRequestsPerSocket > 0 {
					b = append(b, ", max="...)
					b = strconv.AppendInt(b, int64(cfg.MaxRequestsPerSocket), 10)
				}
				b = append(b, "\r\n"...)
			}
		default:
			r.last = true
			b = append(b, "Connection: close\r\n"...)
		}
	}
	if !st.contLen && !st.te {
		switch {
		case !r.hasBody:
			r.chunked = false
		case !r.chunkedByDefault:
			r.last = true
		case !st.trailer && !r.hdr.RemovedContentLength && r.contentLength >= 0:
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, r.contentLength, 10)
			b = append(b, "\r\n"...)
		case !r.hdr.RemovedTransferEncoding:
			b = append(b, "Transfer-Encoding: chunked\r\n"...)
			r.chunked = true
		default:
			// Both Content-Length and Transfer-Encoding were removed: the
			// body can only end with the connection.
			r.last = true
		}
	}
	if !r.chunked && st.trailer {
		ex.wbuf = b[:mark]
		return errTrailerInvalid
	}
	ex.wbuf = append(b, "\r\n"...)
	r.headerWritten, r.headAt = true, mark
	if st.expect {
		return r.flushLocked()
	}
	return nil
}

// matchHeader notes what a user-set header means for framing.
func (r *ServerResponse) matchHeader(st *headState, name, value string) {
	if len(name) < 4 || len(name) > 17 {
		return
	}
	switch {
	case httpspec.EqualFoldASCII(name, "connection"):
		st.connection = true
		r.hdr.RemovedConnection = false
		if containsWord(value, "close") {
			r.last = true
		} else {
			r.keepAlive = true
		}
	case httpspec.EqualFoldASCII(name, "transfer-encoding"):
		st.te = true
		r.hdr.RemovedTransferEncoding = false
		if containsWord(value, "chunked") {
			r.chunked = true
		}
	case httpspec.EqualFoldASCII(name, "content-length"):
		st.contLen = true
		r.hdr.RemovedContentLength = false
		if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
			r.contentLength = n
		}
	case httpspec.EqualFoldASCII(name, "date"):
		st.date = true
	case httpspec.EqualFoldASCII(name, "expect"):
		st.expect = true
	case httpspec.EqualFoldASCII(name, "trailer"):
		st.trailer = true
	}
}

// containsWord reports whether word (lower case) occurs in v delimited by
// non-word characters, like Node's /(?:^|\W)close(?:$|\W)/i.
func containsWord(v, word string) bool {
	for i := 0; i+len(word) <= len(v); i++ {
		if (i == 0 || !isWordChar(v[i-1])) && httpspec.EqualFold(v[i:i+len(word)], word) &&
			(i+len(word) == len(v) || !isWordChar(v[i+len(word)])) {
			return true
		}
	}
	return false
}

func isWordChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

// Write sends a piece of the body, writing the head first if needed. With
// no Content-Length on HTTP/1.1 the body is chunked.
func (r *ServerResponse) Write(p []byte) (int, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if err := r.writeLocked(p, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write for a string, without copying it.
func (r *ServerResponse) WriteString(s string) (int, error) {
	return r.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (r *ServerResponse) writeLocked(p []byte, fromEnd bool) error {
	if r.finished {
		return errWriteAfterEnd
	}
	if r.destroyed || r.c.state.Load() == stateClosed {
		return errDestroyed
	}
	if !r.headerWritten {
		if fromEnd && !r.declaredLength {
			r.contentLength = int64(len(p))
		}
		if err := r.writeHeadLocked(r.StatusCode, nil, nil); err != nil {
			return err
		}
	}
	if !r.hasBody {
		if r.c.srv.cfg.RejectNonStandardBodyWrites {
			return errBodyNotAllowed
		}
		return nil // Node drops the bytes.
	}
	if r.strict() {
		total := r.written + int64(len(p))
		if fromEnd && total != r.contentLength || !fromEnd && total > r.contentLength {
			return httpspec.NewError(httpspec.CodeContentLengthMismatch,
				"Response body's content-length of %d byte(s) does not match the content-length of %d byte(s) specified by header",
				total, r.contentLength)
		}
	}
	r.written += int64(len(p))
	if len(p) > 0 {
		if r.chunked {
			r.ex.wbuf = http1.AppendChunkHeader(r.ex.wbuf, len(p))
		}
		if len(p) >= writevMin {
			if err := r.writev(p); err != nil {
				return err
			}
		} else {
			r.ex.wbuf = append(r.ex.wbuf, p...)
			if r.chunked {
				r.ex.wbuf = append(r.ex.wbuf, "\r\n"...)
			}
		}
	}
	if !fromEnd && r.corked == 0 {
		return r.flushLocked()
	}
	return nil
}

// strict reports whether StrictContentLength applies, as Node decides it.
func (r *ServerResponse) strict() bool {
	return r.StrictContentLength && r.contentLength >= 0 && r.hasBody && !r.hdr.RemovedContentLength && !r.chunked && !r.hdr.Has("transfer-encoding")
}

// writev writes the buffered bytes and the large slice p (and the CRLF
// ending its chunk) in one system call.
func (r *ServerResponse) writev(p []byte) error {
	ex := r.ex
	ex.iov[0], ex.iov[1] = ex.wbuf, p
	ex.bufs = ex.iov[:2]
	if r.chunked {
		ex.iov[2] = crlf
		ex.bufs = ex.iov[:3]
	}
	r.c.writing.Store(true)
	_, err := ex.bufs.WriteTo(r.c.nc)
	r.c.writing.Store(false)
	ex.iov = [3][]byte{}
	ex.wbuf = ex.wbuf[:0]
	return r.wrote(err)
}

var crlf = []byte("\r\n")

// flushLocked writes the buffered bytes to the socket.
func (r *ServerResponse) flushLocked() error {
	ex := r.ex
	if len(ex.wbuf) == 0 {
		return nil
	}
	r.c.writing.Store(true)
	_, err := r.c.nc.Write(ex.wbuf)
	r.c.writing.Store(false)
	ex.wbuf = ex.wbuf[:0]
	return r.wrote(err)
}

// wrote records the outcome of a socket write.
func (r *ServerResponse) wrote(err error) error {
	if err != nil {
		r.destroyed = true
		r.c.closeLocked()
		return err
	}
	if r.headerWritten {
		r.headerSent = true
	}
	r.c.touch()
	return nil
}

// FlushHeaders writes the head now, without waiting for the body.
func (r *ServerResponse) FlushHeaders() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if !r.headerWritten {
		if err := r.writeHeadLocked(r.StatusCode, nil, nil); err != nil {
			return err
		}
	}
	return r.flushLocked()
}

// End finishes the response, writing data first. A response ended before
// its head is written gets a Content-Length. End must be called for every
// response.
func (r *ServerResponse) End(data ...[]byte) error {
	r.c.mu.Lock()
	err := r.endLocked(data)
	r.c.mu.Unlock()
	return err
}

// EndString is End with a string body, without copying it.
func (r *ServerResponse) EndString(s string) error {
	return r.End(unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (r *ServerResponse) endLocked(data [][]byte) error {
	if r.finished {
		return errFinished
	}
	if r.destroyed || r.c.state.Load() == stateClosed {
		return errDestroyed
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
	if len(p) > 0 {
		if err := r.writeLocked(p, true); err != nil {
			return err
		}
	} else if !r.headerWritten {
		r.contentLength = 0
		if err := r.writeHeadLocked(r.StatusCode, nil, nil); err != nil {
			return err
		}
	} else if r.strict() && r.written != r.contentLength {
		return httpspec.NewError(httpspec.CodeContentLengthMismatch,
			"Response body's content-length of %d byte(s) does not match the content-length of %d byte(s) specified by header",
			r.written, r.contentLength)
	}
	if r.hasBody && r.chunked {
		r.ex.wbuf = append(r.ex.wbuf, "0\r\n"...)
		r.ex.wbuf = append(r.ex.wbuf, r.trailer...)
		r.ex.wbuf = append(r.ex.wbuf, "\r\n"...)
	}
	r.finished = true
	r.corked = 0
	r.c.wake()
	return nil
}

// sendContinue writes "100 Continue" for a request that expects it, when
// its body is first read and no response has begun.
func (r *ServerResponse) sendContinue() {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if !r.headerSent && !r.sent100 && r.writeInformation(100, nil) == nil {
		r.sent100 = true
	}
}

// WriteContinue sends "100 Continue", telling the client to send the body.
func (r *ServerResponse) WriteContinue() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	err := r.writeInformation(100, nil)
	if err == nil {
		r.sent100 = true
	}
	return err
}

// WriteProcessing sends "102 Processing".
func (r *ServerResponse) WriteProcessing() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.writeInformation(102, nil)
}

// WriteEarlyHints sends "103 Early Hints". hints are header names and
// values alternating; the Link values are validated and sent as one Link
// field, the other headers after it. Without a Link value nothing is sent.
func (r *ServerResponse) WriteEarlyHints(hints ...string) error {
	fields, err := httpspec.EarlyHints(hints)
	if err != nil || fields == nil {
		return err
	}
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.writeInformation(103, fields)
}

// writeInformation writes a 1xx response and flushes it. A final head
// that WriteHead stored but that has not been sent stays buffered behind
// it, as Node writes 1xx responses straight to the socket.
func (r *ServerResponse) writeInformation(code int, pairs []string) error {
	if r.headerSent {
		return httpspec.HeadersSentError("write")
	}
	if r.destroyed || r.c.state.Load() == stateClosed {
		return errDestroyed
	}
	for i := 0; i < len(pairs); i += 2 {
		if err := validateField(pairs[i], pairs[i+1:i+2]); err != nil {
			return err
		}
	}
	ex := r.ex
	var head []byte
	if r.headerWritten {
		head = append(head, ex.wbuf[r.headAt:]...)
		ex.wbuf = ex.wbuf[:r.headAt]
	}
	b := http1.AppendStatusLine(ex.wbuf, code, httpspec.StatusText(code))
	for i := 0; i < len(pairs); i += 2 {
		b = http1.AppendField(b, pairs[i], pairs[i+1])
	}
	ex.wbuf = append(b, "\r\n"...)
	if head == nil {
		return r.flushLocked()
	}
	r.c.writing.Store(true)
	_, err := r.c.nc.Write(ex.wbuf)
	r.c.writing.Store(false)
	ex.wbuf = append(ex.wbuf[:0], head...)
	r.headAt = 0
	if err != nil {
		r.destroyed = true
		r.c.closeLocked()
		return err
	}
	r.c.touch()
	return nil
}
