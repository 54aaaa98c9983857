package server

import (
	"strings"
	"syscall"
	"unsafe"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// writevMin: a body slice at least this large is written with writev
// beside the buffered bytes rather than copied into the buffer.
const writevMin = 8 << 10

var errDestroyed = &httpspec.Error{Code: httpspec.CodeStreamDestroyed, Message: "Cannot call write after a stream was destroyed"}

// WriteHead fixes the status and the head: the headers set with
// SetHeader, merged with headers (names and values alternating) as
// Node's writeHead merges a list. The head is written with the first
// body bytes, or by FlushHeaders.
func (r *ServerResponse) WriteHead(statusCode int, headers ...string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	before := r.m
	r.sync()
	if err := r.m.WriteHead(statusCode, headers); err != nil {
		return err
	}
	return r.storeOrUndo(&before)
}

// storeOrUndo stores the head that WriteHead fixed, or, when it cannot
// be sent, undoes WriteHead as Node's throw does: the head is not fixed,
// and a list that would have been sent as given is forgotten, while
// headers it set over earlier ones stay set.
func (r *ServerResponse) storeOrUndo(before *outgoing.Message) error {
	err := r.storeHeader()
	if err != nil {
		hdr := r.m.Header
		r.m = *before
		if before.Header.Len() > 0 {
			r.m.Header = hdr
		}
	}
	return err
}

// WriteHeadMap is WriteHead with headers as a map, each one set as with
// SetHeader, in the order of their names.
func (r *ServerResponse) WriteHeadMap(statusCode int, headers map[string][]string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	before := r.m
	r.sync()
	if err := r.m.WriteHeadMap(statusCode, headers); err != nil {
		return err
	}
	return r.storeOrUndo(&before)
}

// ApplyHead fixes a head decided elsewhere, as a plugin sends it: status,
// reason, the fields as outgoing.Message.Load takes them, and the length
// of a body given whole before the head, or -1. Each field is validated
// once, here; the framing is the engine's to decide. It is the one call
// that replaces SetHeader, RemoveHeader and WriteHead for a proxy. The
// strings of h may view a buffer that the caller reuses once ApplyHead
// returns: the response keeps none of them (GetHeader finds nothing
// after it). Headers set before are replaced. A head refused leaves the
// response unfixed and without headers, ready for another answer.
func (r *ServerResponse) ApplyHead(h Head) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.m.Fixed() {
		return httpspec.HeadersSentError("write")
	}
	before := r.m
	if err := r.m.Load(h.Fields); err != nil {
		return err
	}
	r.StatusCode, r.StatusMessage = h.Status, strings.Clone(h.Reason)
	r.SendDate, r.StrictContentLength = !h.NoDate, h.Strict
	hdr := &r.m.Header
	hdr.RemovedConnection, hdr.RemovedContentLength, hdr.RemovedTransferEncoding =
		h.RemovedConnection, h.RemovedContentLength, h.RemovedTransferEncoding
	r.m.Length = h.Length
	r.sync()
	err := r.storeHeader()
	if err != nil {
		r.m = before // a head refused leaves the response unfixed…
	}
	r.m.Header.Reset() // …and without headers: Load reused their storage
	return err
}

// Head is a response head decided elsewhere, for ApplyHead.
type Head struct {
	Status int
	Reason string
	// Fields are names and values alternating; an empty name continues
	// the header of the field before it.
	Fields []string
	// Length is the length of a body known before the head, or -1.
	Length                  int64
	NoDate, Strict          bool
	RemovedConnection       bool
	RemovedContentLength    bool
	RemovedTransferEncoding bool
}

// sync copies the exported settings into the message: the head's while
// it is not fixed, StrictContentLength at every write, as Node reads it.
func (r *ServerResponse) sync() {
	if !r.m.Fixed() {
		r.m.StatusCode, r.m.StatusMessage, r.m.SendDate = r.StatusCode, r.StatusMessage, r.SendDate
	}
	r.m.StrictContentLength = r.StrictContentLength
}

// storeHeader serializes the fixed head into the write buffer: the status
// line, then what outgoing.Message.AppendHead decides.
func (r *ServerResponse) storeHeader() error {
	ex, cfg := r.ex, r.c.srv.cfg
	r.m.RejectBody = cfg.RejectNonStandardBodyWrites
	// A client that asked for 100-continue and got a final status instead
	// may still send the body; the connection cannot be reused. A request
	// without a body (or whose body has all arrived) leaves nothing to
	// send.
	if r.expectContinue && !r.sent100 && !r.req.body.done {
		r.m.KeepAlive = false
	}
	if err := r.m.Fix(); err != nil {
		return err
	}
	if r.StatusMessage == "" {
		r.StatusMessage = httpspec.StatusText(r.m.StatusCode)
	}
	mark := len(ex.wbuf)
	b := http1.AppendStatusLine(ex.wbuf, r.m.StatusCode, r.StatusMessage)
	conn := outgoing.Conn{
		Closing:          r.c.srv.isClosing(),
		LastRequest:      r.maxReached,
		KeepAliveTimeout: cfg.keepAliveTimeout,
		MaxRequests:      cfg.MaxRequestsPerSocket,
		Unique:           cfg.unique,
	}
	b, err := r.m.AppendHead(b, &conn)
	if err != nil {
		ex.wbuf = b[:mark]
		return err
	}
	ex.wbuf = b
	r.headAt = mark
	if r.m.Expect() {
		return r.flushLocked()
	}
	return nil
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
	if r.m.Finished() {
		_, err := r.m.Body(len(p), fromEnd) // write after end
		return err
	}
	if r.destroyed || r.c.state.Load() == stateClosed {
		return errDestroyed
	}
	if !r.m.Fixed() {
		if fromEnd && r.m.Length < 0 {
			r.m.Length = int64(len(p))
		}
		r.sync()
		if err := r.m.Fix(); err != nil {
			return err
		}
		if err := r.storeHeader(); err != nil {
			return err
		}
	}
	r.sync()
	n, err := r.m.Body(len(p), fromEnd)
	if err != nil {
		return err
	}
	if p = p[:n]; len(p) > 0 {
		r.ex.wbuf = r.m.AppendChunk(r.ex.wbuf, len(p))
		if len(p) >= writevMin {
			if err := r.writev(p); err != nil {
				return err
			}
		} else {
			r.ex.wbuf = append(r.ex.wbuf, p...)
			r.ex.wbuf = append(r.ex.wbuf, r.m.ChunkEnd()...)
		}
	}
	if !fromEnd && r.corked == 0 {
		return r.flushLocked()
	}
	return nil
}

// writev writes the buffered bytes and the large slice p (and the CRLF
// ending its chunk) in one system call.
func (r *ServerResponse) writev(p []byte) error {
	ex := r.ex
	ex.iov[0], ex.iov[1] = ex.wbuf, p
	ex.bufs = ex.iov[:2]
	if end := r.m.ChunkEnd(); end != nil {
		ex.iov[2] = end
		ex.bufs = ex.iov[:3]
	}
	r.c.writing.Store(true)
	_, err := ex.bufs.WriteTo(r.c.nc)
	r.c.writing.Store(false)
	ex.iov = [3][]byte{}
	ex.wbuf = ex.wbuf[:0]
	return r.wrote(err)
}

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

// TryFlush writes what the response has buffered as far as the socket
// takes it at once, without waiting. A goroutine that must never block on
// a slow client (the reader of a plugin's frames, which serves many
// connections) uses it to send an answer without handing it to the
// connection's goroutine; what the socket does not take, and any error,
// is left to the flush that follows the handler.
func (r *ServerResponse) TryFlush() {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	ex := r.ex
	if r.c.rc == nil || r.destroyed || len(ex.wbuf) == 0 {
		return
	}
	c := r.c
	c.tryBuf = ex.wbuf
	_ = c.rc.Write(c.tryFn)
	n, err := c.tryN, c.tryErr
	c.tryBuf, c.tryErr = nil, nil
	if err != nil || n <= 0 {
		return
	}
	ex.wbuf = ex.wbuf[:copy(ex.wbuf, ex.wbuf[n:])]
	_ = r.wrote(nil)
}

// rawTryWrite is TryFlush's callback of RawConn.Write: one attempt, never
// a wait for the socket.
func (c *conn) rawTryWrite(fd uintptr) bool {
	c.tryN, c.tryErr = syscall.Write(int(fd), c.tryBuf)
	return true
}

// wrote records the outcome of a socket write.
func (r *ServerResponse) wrote(err error) error {
	if err != nil {
		r.destroyed = true
		r.c.closeLocked()
		return err
	}
	if r.m.Fixed() {
		r.headerSent = true
	}
	r.c.touch()
	return nil
}

// FlushHeaders writes the head now, without waiting for the body.
func (r *ServerResponse) FlushHeaders() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if !r.m.Fixed() {
		r.sync()
		if err := r.storeHeader(); err != nil {
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
	if r.m.Finished() {
		return r.m.CheckEnd()
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
	r.sync()
	switch {
	case len(p) > 0:
		if err := r.writeLocked(p, true); err != nil {
			return err
		}
	case !r.m.Fixed():
		if r.m.Length < 0 {
			r.m.Length = 0
		}
		if err := r.storeHeader(); err != nil {
			return err
		}
	default:
		if err := r.m.CheckEnd(); err != nil {
			return err
		}
	}
	r.ex.wbuf = r.m.AppendEnd(r.ex.wbuf)
	r.m.Finish()
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
	ex := r.ex
	var head []byte
	if r.m.Fixed() {
		head = append(head, ex.wbuf[r.headAt:]...)
		ex.wbuf = ex.wbuf[:r.headAt]
	}
	b, err := outgoing.AppendInformation(ex.wbuf, code, pairs)
	if err != nil {
		ex.wbuf = append(ex.wbuf, head...)
		return err
	}
	ex.wbuf = b
	if head == nil {
		return r.flushLocked()
	}
	r.c.writing.Store(true)
	_, err = r.c.nc.Write(ex.wbuf)
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
