package client

import (
	"strconv"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// chunkedByDefault is Node's useChunkedEncodingByDefault for a request: a
// body written without a Content-Length is chunked, except for these
// methods, whose bodies are rare.
func chunkedByDefault(method string) bool {
	switch method {
	case "GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT":
		return false
	}
	return true
}

// SetHeader sets a header (req.setHeader), keeping the name's casing;
// several values are sent as several lines. It fails with Node's codes:
// ERR_HTTP_HEADERS_SENT once the head is fixed, ERR_INVALID_HTTP_TOKEN,
// ERR_INVALID_CHAR or ERR_HTTP_INVALID_HEADER_VALUE for a bad header.
func (r *ClientRequest) SetHeader(name string, values ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fromSpec(r.msg.SetHeader(name, values...))
}

// AppendHeader adds values to a header (req.appendHeader).
func (r *ClientRequest) AppendHeader(name string, values ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fromSpec(r.msg.AppendHeader(name, values...))
}

// GetHeader returns the values of a header (any case), or nil.
func (r *ClientRequest) GetHeader(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg.Header.Get(name)
}

// GetHeaders returns the headers by lower-case name.
func (r *ClientRequest) GetHeaders() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg.Header.Map()
}

// GetHeaderNames returns the header names in lower case, in order.
func (r *ClientRequest) GetHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg.Header.Names()
}

// GetRawHeaderNames returns the header names as set, in order.
func (r *ClientRequest) GetRawHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg.Header.RawNames()
}

// HasHeader reports whether a header is set (any case).
func (r *ClientRequest) HasHeader(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg.Header.Has(name)
}

// RemoveHeader removes a header; ERR_HTTP_HEADERS_SENT once the head is
// fixed. Removing Connection, Content-Length or Transfer-Encoding stops
// the request from getting its own.
func (r *ClientRequest) RemoveHeader(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fromSpec(r.msg.RemoveHeader(name))
}

// HeadersSent reports whether the head is fixed (req.headersSent).
func (r *ClientRequest) HeadersSent() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.msg.Fixed() }

// SetStrictContentLength makes the body length be checked against the
// Content-Length header (req.strictContentLength): a Write past it or an
// End short of it fails with ERR_HTTP_CONTENT_LENGTH_MISMATCH.
func (r *ClientRequest) SetStrictContentLength(strict bool) {
	r.mu.Lock()
	r.msg.StrictContentLength = strict
	r.mu.Unlock()
}

// SetChunkedEncoding is Electron's request.chunkedEncoding: true sends
// the body chunked, false keeps it until End and sends it with a
// Content-Length. It fails with ERR_HTTP_HEADERS_SENT after the first
// write.
func (r *ClientRequest) SetChunkedEncoding(chunked bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msg.Fixed() || len(r.held) > 0 {
		return fromSpec(httpspec.HeadersSentError("set"))
	}
	r.forceChunked = &chunked
	return nil
}

// ChunkedEncoding reports whether the body is (or will be) sent chunked.
func (r *ClientRequest) ChunkedEncoding() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msg.Fixed() {
		return r.msg.Chunked()
	}
	if r.forceChunked != nil {
		return *r.forceChunked
	}
	return chunkedByDefault(r.method) && !r.msg.Header.Has("content-length") && !r.msg.Header.Has("transfer-encoding")
}

// AddTrailers sets the trailer fields (req.addTrailers), a flat name,
// value list sent after a chunked body, replacing those set before; they
// are dropped when the body is not chunked, as in Node.
func (r *ClientRequest) AddTrailers(pairs ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fromSpec(r.msg.AddTrailers(pairs...))
}

// WritableEnded reports whether End was called; WritableFinished whether
// everything was written to the connection.
func (r *ClientRequest) WritableEnded() bool    { r.mu.Lock(); defer r.mu.Unlock(); return r.ended }
func (r *ClientRequest) WritableFinished() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.finished }

// UploadProgress is Electron's request.getUploadProgress().
type UploadProgress struct {
	Active  bool  // the request is in progress
	Started bool  // the body started going out
	Current int64 // body bytes written to the connection
	Total   int64 // the body's length when known (Content-Length), else -1
}

// GetUploadProgress reports how much of the body went out.
func (r *ClientRequest) GetUploadProgress() UploadProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := UploadProgress{Active: r.stage != stageDone}
	if !p.Active {
		return p
	}
	p.Started = r.connected && r.msg.Fixed()
	if p.Started {
		p.Current, p.Total = r.uploaded, -1
		if v, ok := r.msg.Header.First("content-length"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.Total = n
			}
		}
	}
	return p
}

// FlushHeaders fixes the head and sends it without waiting for the body
// (req.flushHeaders). It fails only if the head is invalid (a bad
// Content-Length value, a Trailer header on a body that is not chunked).
func (r *ClientRequest) FlushHeaders() error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if !r.msg.Fixed() && r.stage != stageDone {
		if err := r.fixHeadLocked(-1); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	return r.flushLocked()
}

// Cork keeps writes in memory until as many Uncork calls (or End).
func (r *ClientRequest) Cork() { r.mu.Lock(); r.corked++; r.mu.Unlock() }

// Uncork undoes one Cork, sending what was kept after the last one.
func (r *ClientRequest) Uncork() {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if r.corked > 0 {
		r.corked--
	}
	r.flushLocked()
}

// fixHeadLocked fixes and serialises the head, given the body's length
// when End comes before it (-1 otherwise). Caller holds mu.
func (r *ClientRequest) fixHeadLocked(length int64) error {
	if r.forceChunked != nil {
		r.msg.ChunkedByDefault = *r.forceChunked
	}
	r.msg.Length = length
	head := append(make([]byte, 0, 256), r.method...)
	head = append(head, ' ')
	head = append(head, r.path...)
	head = append(head, " HTTP/1.1\r\n"...)
	head, err := r.msg.AppendHead(head, &outgoing.Conn{Agent: true, Unique: r.unique})
	if err != nil {
		return fromSpec(err)
	}
	r.pending = append(r.pending, head...)
	return nil
}

// Write sends a piece of the body (req.write); the first Write fixes the
// head, chunked unless a Content-Length was set (or the method's body is
// not chunked by default). Before the connection exists the bytes are
// kept and sent when it does; afterwards Write returns once they are on
// the connection.
func (r *ClientRequest) Write(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if err := r.writableLocked(); err != nil {
		r.mu.Unlock()
		return err
	}
	if r.holding() {
		r.held = append(r.held, p...)
		r.mu.Unlock()
		return nil
	}
	if err := r.bodyLocked(p, false); err != nil {
		r.mu.Unlock()
		return err
	}
	if !r.connected && r.corked == 0 && len(r.pending) > highWaterMark {
		return r.awaitConnectionLocked()
	}
	return r.flushLocked()
}

// highWaterMark is Node's default for a request (v20): beyond it,
// req.write returns false until 'drain'. Write waits instead, so that a
// body written before the connection exists is not held whole in memory.
const highWaterMark = 16 << 10

// writeWaits is called when a Write starts waiting for the connection;
// tests set it.
var writeWaits = func() {}

// awaitConnectionLocked waits until what Write queued goes to the
// connection, or the request ends without one. Caller holds writeMu and
// mu; it releases both while it waits (run needs them to connect and
// send what is queued) and returns with writeMu held, once the bytes are
// written.
func (r *ClientRequest) awaitConnectionLocked() error {
	if r.sendable == nil {
		r.sendable = make(chan struct{}) // only for a request that waits
	}
	sendable := r.sendable
	r.mu.Unlock()
	r.writeMu.Unlock()
	writeWaits()
	<-sendable
	r.writeMu.Lock() // run holds it while it sends what was queued
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.connected && !r.destroyed {
		return nil
	}
	if err := r.writableLocked(); err != nil {
		return err // destroyed, or failed before or while sending
	}
	return ErrSocketHangUp
}

// releaseWritersLocked ends the wait of Writes beyond the high-water mark.
// None waits afterwards: the request is connected, or done. Caller holds
// mu.
func (r *ClientRequest) releaseWritersLocked() {
	if r.sendable != nil {
		close(r.sendable)
		r.sendable = nil
	}
}

// End sends the last piece of the body (possibly none) and ends the
// request (req.end). Before the head is fixed the whole body is known:
// a method whose body is chunked by default, or any body that is not
// empty, gets a Content-Length instead of chunks.
func (r *ClientRequest) End(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return fromSpec(r.msg.CheckEnd())
	}
	if err := r.writableLocked(); err != nil {
		r.mu.Unlock()
		return err
	}
	if r.holding() {
		p = append(r.held, p...)
		r.held = nil
	}
	if !r.msg.Fixed() {
		length := int64(-1)
		if len(p) > 0 || r.msg.ChunkedByDefault || r.forceChunked != nil && !*r.forceChunked {
			length = int64(len(p))
		}
		if r.forceChunked != nil && *r.forceChunked {
			length = -1
		}
		if err := r.fixHeadLocked(length); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	if err := r.bodyLocked(p, true); err != nil {
		r.mu.Unlock()
		return err
	}
	if err := r.msg.CheckEnd(); err != nil {
		r.mu.Unlock()
		return fromSpec(err)
	}
	r.msg.Finish()
	r.pending = r.msg.AppendEnd(r.pending)
	r.ended = true
	r.corked = 0
	return r.flushLocked()
}

// holding reports whether the body is kept until End (Electron's
// chunkedEncoding false). Caller holds mu.
func (r *ClientRequest) holding() bool {
	return !r.msg.Fixed() && r.forceChunked != nil && !*r.forceChunked
}

func (r *ClientRequest) writableLocked() error {
	switch {
	case r.ended:
		return specError(httpspec.CodeStreamWriteAfterEnd, "write after end")
	case r.destroyed || r.stage == stageDone:
		return specError(httpspec.CodeStreamDestroyed, "Cannot call write after a stream was destroyed")
	}
	return nil
}

// bodyLocked accounts for p, frames it and adds it to pending. Caller
// holds mu.
func (r *ClientRequest) bodyLocked(p []byte, end bool) error {
	if !r.msg.Fixed() {
		if err := r.fixHeadLocked(-1); err != nil {
			return err
		}
	}
	keep, err := r.msg.Body(len(p), end)
	if err != nil {
		return fromSpec(err)
	}
	if keep == 0 {
		return nil
	}
	p = p[:keep]
	r.pendingBody += int64(keep)
	if r.keepReplay {
		r.replay = append(r.replay, p...)
	}
	r.pending = r.msg.AppendChunk(r.pending, keep)
	r.pending = append(r.pending, p...)
	r.pending = append(r.pending, r.msg.ChunkEnd()...)
	return nil
}

// smallWrite is the size of a write that a connection's send buffer takes
// without waiting for the peer.
const smallWrite = 64 << 10

// flushLocked writes pending to the connection when it is connected and
// not corked, and reports 'finish' once everything is written. Caller
// holds writeMu and mu; flushLocked unlocks mu.
func (r *ClientRequest) flushLocked() error {
	if !r.connected || r.corked > 0 || r.stage == stageDone {
		r.mu.Unlock()
		return nil
	}
	data, s := r.pending, r.socket
	r.pending = nil
	body := r.pendingBody
	r.pendingBody = 0
	finish := r.ended && !r.finished
	var flushed chan struct{}
	if finish && len(data) <= smallWrite {
		// The response cannot come before these bytes are sent, so
		// 'finish' must come before 'response': readResponse waits for
		// it. Only for a write the kernel takes at once, so that a server
		// answering early without reading cannot hold its response.
		flushed = make(chan struct{})
		r.flushing = flushed
	}
	r.mu.Unlock()
	if flushed != nil {
		defer close(flushed)
	}
	if len(data) > 0 {
		if _, err := s.Write(data); err != nil {
			// The reader sees the connection fail too and reports it;
			// the writer learns it here.
			return netError(err)
		}
	}
	r.mu.Lock()
	r.uploaded += body
	after := r.afterFinish
	if finish {
		r.finished = true
		r.afterFinish = nil
	}
	r.mu.Unlock()
	if finish {
		r.emit(func() {
			if r.ev.OnFinish != nil {
				r.ev.OnFinish()
			}
		})
		if after != nil {
			after()
		}
	}
	return nil
}
