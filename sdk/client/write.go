package client

import (
	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// SetHeader sets a header (req.setHeader), keeping the name's casing;
// several values are sent as several lines. It fails with Node's codes:
// ERR_HTTP_HEADERS_SENT once the head is fixed, ERR_INVALID_HTTP_TOKEN,
// ERR_INVALID_CHAR or ERR_HTTP_INVALID_HEADER_VALUE for a bad header.
func (r *ClientRequest) SetHeader(name string, values ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headerSent {
		return fromSpec(httpspec.HeadersSentError("set"))
	}
	return fromSpec(r.headers.Set(name, values...))
}

// AppendHeader adds values to a header (req.appendHeader).
func (r *ClientRequest) AppendHeader(name string, values ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headerSent {
		return fromSpec(httpspec.HeadersSentError("append"))
	}
	return fromSpec(r.headers.Append(name, values...))
}

// GetHeader returns the values of a header (any case), or nil.
func (r *ClientRequest) GetHeader(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.headers.Get(name)...)
}

// GetHeaders returns the headers by lower-case name.
func (r *ClientRequest) GetHeaders() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers.Map()
}

// GetHeaderNames returns the header names in lower case, in order.
func (r *ClientRequest) GetHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers.Names()
}

// GetRawHeaderNames returns the header names as set, in order.
func (r *ClientRequest) GetRawHeaderNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers.RawNames()
}

// HasHeader reports whether a header is set (any case).
func (r *ClientRequest) HasHeader(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers.Has(name)
}

// RemoveHeader removes a header; ERR_HTTP_HEADERS_SENT once the head is
// fixed.
func (r *ClientRequest) RemoveHeader(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headerSent {
		return fromSpec(httpspec.HeadersSentError("remove"))
	}
	r.headers.Remove(name)
	return nil
}

// HeadersSent reports whether the head is fixed (req.headersSent).
func (r *ClientRequest) HeadersSent() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.headerSent }

// SetStrictContentLength makes the body length be checked against the
// Content-Length header (req.strictContentLength): a Write past it or an
// End short of it fails with ERR_HTTP_CONTENT_LENGTH_MISMATCH.
func (r *ClientRequest) SetStrictContentLength(strict bool) {
	r.mu.Lock()
	r.strict = strict
	r.mu.Unlock()
}

// SetChunkedEncoding is Electron's request.chunkedEncoding: true sends
// the body chunked, false keeps it until End and sends it with a
// Content-Length. It fails with ERR_HTTP_HEADERS_SENT after the first
// write.
func (r *ClientRequest) SetChunkedEncoding(chunked bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headerSent || r.written > 0 || len(r.held) > 0 {
		return fromSpec(httpspec.HeadersSentError("set"))
	}
	r.forceChunked = &chunked
	return nil
}

// ChunkedEncoding reports whether the body is (or will be) sent chunked.
func (r *ClientRequest) ChunkedEncoding() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headerSent {
		return r.fr.chunked
	}
	if r.forceChunked != nil {
		return *r.forceChunked
	}
	return chunkedByDefault(r.method) && !r.headers.Has("content-length")
}

// AddTrailers sets trailer fields (req.addTrailers), a flat name, value
// list sent after a chunked body; they are dropped when the body is not
// chunked, as in Node.
func (r *ClientRequest) AddTrailers(pairs ...string) error {
	if len(pairs)%2 != 0 {
		return specError(httpspec.ErrInvalidArgValue, "The argument 'headers' is invalid")
	}
	for i := 0; i < len(pairs); i += 2 {
		if !httpspec.IsToken(pairs[i]) {
			return specError(httpspec.ErrInvalidHTTPToken, "Trailer name must be a valid HTTP token [%q]", pairs[i])
		}
		if !httpspec.ValidFieldValue(pairs[i+1]) {
			return specError(httpspec.ErrInvalidChar, "Invalid character in trailer content [%q]", pairs[i])
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trailers = append(r.trailers, pairs...)
	return nil
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
	p.Started = r.connected && r.headerSent
	if p.Started {
		p.Current, p.Total = r.uploaded, r.fr.contentLength
	}
	return p
}

// FlushHeaders fixes the head and sends it without waiting for the body
// (req.flushHeaders).
func (r *ClientRequest) FlushHeaders() {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if !r.headerSent && r.stage != stageDone {
		r.fixHeadLocked(false, 0)
	}
	r.flushLocked()
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

// fixHeadLocked builds the head from the headers. Caller holds mu.
func (r *ClientRequest) fixHeadLocked(final bool, bodyLen int64) {
	fields := r.opts.RawHeaders
	if fields == nil {
		fields = storeFields(&r.headers, r.unique)
	}
	r.head, r.fr = buildHead(fields, headSpec{
		method: r.method, path: r.path, shouldKeepAlive: r.shouldKeepAlive,
		final: final, bodyLen: bodyLen, forceChunked: r.forceChunked,
		hasTrailers: len(r.trailers) > 0, unique: r.unique,
	})
	r.headerSent = true
	r.pending = append(r.pending, r.head...)
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
	if err := r.bodyLocked(p); err != nil {
		r.mu.Unlock()
		return err
	}
	return r.flushLocked()
}

// End sends the last piece of the body (possibly none) and ends the
// request (req.end). Before the head is fixed, a method whose body is
// chunked by default gets a Content-Length of the whole body instead.
func (r *ClientRequest) End(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return specError(httpspec.ErrStreamAlreadyFinished, "Cannot call end after a stream was finished")
	}
	if err := r.writableLocked(); err != nil {
		r.mu.Unlock()
		return err
	}
	if !r.headerSent {
		if r.forceChunked != nil && !*r.forceChunked {
			p = append(r.held, p...)
			r.held = nil
		}
		r.fixHeadLocked(true, int64(len(p)))
	}
	if r.strict && r.fr.contentLength >= 0 && r.written+int64(len(p)) != r.fr.contentLength {
		err := mismatch(r.written+int64(len(p)), r.fr.contentLength)
		r.mu.Unlock()
		return err
	}
	if err := r.bodyLocked(p); err != nil {
		r.mu.Unlock()
		return err
	}
	if r.fr.chunked {
		r.pending = appendLastChunk(r.pending, r.trailers)
	}
	r.ended = true
	r.corked = 0
	return r.flushLocked()
}

func (r *ClientRequest) writableLocked() error {
	switch {
	case r.ended:
		return specError(httpspec.ErrStreamWriteAfterEnd, "write after end")
	case r.destroyed || r.stage == stageDone:
		return specError(httpspec.ErrStreamDestroyed, "Cannot call write after a stream was destroyed")
	}
	return nil
}

// bodyLocked frames p and adds it to pending. Caller holds mu.
func (r *ClientRequest) bodyLocked(p []byte) error {
	if !r.headerSent {
		if r.forceChunked != nil && !*r.forceChunked {
			r.held = append(r.held, p...)
			return nil
		}
		r.fixHeadLocked(false, 0)
	}
	if len(p) == 0 {
		return nil
	}
	if r.strict && r.fr.contentLength >= 0 && r.written+int64(len(p)) > r.fr.contentLength {
		return mismatch(r.written+int64(len(p)), r.fr.contentLength)
	}
	r.written += int64(len(p))
	r.pendingBody += int64(len(p))
	if r.keepReplay {
		r.replay = append(r.replay, p...)
	}
	if r.fr.chunked {
		r.pending = http1.AppendChunkHeader(r.pending, len(p))
		r.pending = append(r.pending, p...)
		r.pending = append(r.pending, "\r\n"...)
	} else {
		r.pending = append(r.pending, p...)
	}
	return nil
}

// smallWrite is the size of a write that a connection's send buffer takes
// without waiting for the peer.
const smallWrite = 64 << 10

func mismatch(got, want int64) error {
	return specError(httpspec.ErrContentLengthMismatch,
		"Request body length does not match content-length header: %d bytes written, %d declared", got, want)
}

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
