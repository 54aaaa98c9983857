package server

import (
	"time"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// Life of a response
//
// A ServerResponse collects headers locally (SetHeader and friends touch
// no socket). WriteHead, or the first Write or End, serializes the head
// into the exchange's write buffer (storeHeader, a port of Node's
// OutgoingMessage._storeHeader, which picks Content-Length, chunked or
// close-delimited framing and the Connection header). Write appends the
// framed chunk and flushes it to the socket unless the response is corked.
// End appends the last bytes and leaves the flush to the connection
// goroutine, which flushes at once, whatever it has read of the next
// request. 1xx responses are written and flushed at once.
//
// Everything that touches the socket holds conn.mu: a response may be
// finished from a goroutine other than the connection's, while the
// sweeper may answer a timeout.

// ServerResponse is the response to one request, with the API of Node's
// http.ServerResponse. Methods return Node's errors (*httpspec.Error, with
// codes such as ERR_HTTP_HEADERS_SENT) instead of throwing them. Node's
// OutgoingMessage rules (the header store, the head, the framing and the
// body's accounting) are internal/outgoing's; a ServerResponse adds the
// socket writes and the connection's lock.
type ServerResponse struct {
	c   *conn
	ex  *exchange
	req *IncomingMessage

	// StatusCode is the status sent by an implicit head (Write or End
	// without WriteHead). It defaults to 200.
	StatusCode int
	// StatusMessage is the reason phrase; empty means the standard one.
	StatusMessage string
	// SendDate adds a Date header unless the response has one. Default
	// true.
	SendDate bool
	// StrictContentLength makes a body that does not match a
	// Content-Length header fail with ERR_HTTP_CONTENT_LENGTH_MISMATCH.
	StrictContentLength bool

	m outgoing.Message

	headerSent       bool // the head has been written to the socket
	writableFinished bool // End's bytes reached the socket
	destroyed        bool
	closed           bool // the close event has been raised

	expectContinue bool
	sent100        bool
	headAt         int // where the stored head begins in the write buffer
	maxReached     bool
	corked         int

	onFinish, onClose, onTimeout []func()
}

// reset prepares r to answer req.
func (r *ServerResponse) reset(c *conn, ex *exchange, req *IncomingMessage) {
	r.c, r.ex, r.req = c, ex, req
	r.StatusCode, r.StatusMessage, r.SendDate, r.StrictContentLength = 200, "", true, false
	r.m.Reset()
	r.m.HasBody = req.head.Method != "HEAD"
	r.m.KeepAlive = req.head.KeepAlive
	// HTTP/1.0 (and 0.9, 2.0) clients get close-delimited bodies unless
	// they asked for chunked ones with TE.
	r.m.ChunkedByDefault = req.head.Major == 1 && req.head.Minor == 1 ||
		httpspec.ListContainsToken(string(req.field("te")), "chunked")
	r.headerSent, r.writableFinished, r.destroyed, r.closed = false, false, false, false
	r.expectContinue, r.sent100, r.maxReached = false, false, false
	r.corked = 0
	r.onFinish, r.onClose, r.onTimeout = r.onFinish[:0], r.onClose[:0], r.onTimeout[:0]
}

// clear drops references before r is pooled.
func (r *ServerResponse) clear() {
	r.c, r.req = nil, nil
	r.m.Reset()
	clear(r.onFinish)
	clear(r.onClose)
	clear(r.onTimeout)
}

// Req returns the request this response answers.
func (r *ServerResponse) Req() *IncomingMessage { return r.req }

// SetHeader sets a header, replacing any values it had. Give several
// values to send several field lines (Node's array form).
func (r *ServerResponse) SetHeader(name string, values ...string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.SetHeader(name, values...)
}

// AppendHeader adds values to a header, keeping those it had.
func (r *ServerResponse) AppendHeader(name string, values ...string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.AppendHeader(name, values...)
}

// SetHeaders sets several headers, as SetHeader does for each, in the
// order of their names.
func (r *ServerResponse) SetHeaders(headers map[string][]string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.SetHeaders(headers)
}

// GetHeader returns the first value of the header name (any case), or "".
func (r *ServerResponse) GetHeader(name string) string {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	v, _ := r.m.Header.First(name)
	return v
}

// GetHeaderValues returns the values of the header name, or nil.
func (r *ServerResponse) GetHeaderValues(name string) []string {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Header.Get(name)
}

// HasHeader reports whether the header name is set.
func (r *ServerResponse) HasHeader(name string) bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Header.Has(name)
}

// GetHeaders returns a copy of the headers set, by lower-case name.
func (r *ServerResponse) GetHeaders() map[string][]string {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Header.Map()
}

// GetHeaderNames returns the names of the headers set, in lower case, in
// the order they were first set.
func (r *ServerResponse) GetHeaderNames() []string {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Header.Names()
}

// GetRawHeaderNames returns the names of the headers set, as given.
func (r *ServerResponse) GetRawHeaderNames() []string {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Header.RawNames()
}

// RemoveHeader removes a header. Removing Content-Length,
// Transfer-Encoding, Connection or Date also stops the server from adding
// its own.
func (r *ServerResponse) RemoveHeader(name string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.m.Fixed() {
		return httpspec.HeadersSentError("remove")
	}
	if r.m.Header.Remove(name) {
		r.SendDate = false
	}
	return nil
}

// HeadersSent reports whether the head has been written.
func (r *ServerResponse) HeadersSent() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Fixed()
}

// WritableEnded reports whether End has been called.
func (r *ServerResponse) WritableEnded() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Finished()
}

// WritableFinished reports whether all of the response has been handed to
// the operating system.
func (r *ServerResponse) WritableFinished() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.writableFinished
}

// AddTrailers sets trailer fields, names and values alternating. They are
// sent only with a chunked body, and dropped otherwise.
func (r *ServerResponse) AddTrailers(fields ...string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.AddTrailers(fields...)
}

// OnFinish registers f to run when the response has been handed to the
// operating system (Node's finish event).
func (r *ServerResponse) OnFinish(f func()) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.onFinish = append(r.onFinish, f)
}

// OnClose registers f to run when the response is done, finished or not:
// after finish, or when the connection closes first (Node's close event).
func (r *ServerResponse) OnClose(f func()) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.onClose = append(r.onClose, f)
}

// SetTimeout sets the socket inactivity timeout while this response is in
// flight, and registers f to run when it passes. Without f (nil), a
// timeout destroys the socket, as when nobody listens in Node. A zero d
// turns the socket timeout off for this response.
func (r *ServerResponse) SetTimeout(d time.Duration, f func()) {
	r.c.mu.Lock()
	if f != nil {
		r.onTimeout = append(r.onTimeout, f)
		fs := append([]func(){}, r.onTimeout...)
		r.c.onTimeout.Store(&fs)
	}
	r.c.mu.Unlock()
	if d <= 0 {
		d = -1 // off, as Node's setTimeout(0), rather than "not set"
	}
	r.c.timeoutAt.Store(int64(d))
	r.c.srv.sweeper.wantResolution(d)
}

// Cork buffers writes until a matching Uncork or End.
func (r *ServerResponse) Cork() {
	r.c.mu.Lock()
	r.corked++
	r.c.mu.Unlock()
}

// Uncork undoes one Cork; the last one flushes what was buffered.
func (r *ServerResponse) Uncork() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.corked == 0 {
		return nil
	}
	r.corked--
	if r.corked == 0 && !r.m.Finished() {
		return r.flushLocked()
	}
	return nil
}

// Destroy closes the connection at once (Node's res.destroy()), even
// while another goroutine's write to it is blocked.
func (r *ServerResponse) Destroy() {
	r.c.destroy()
	r.c.mu.Lock()
	r.destroyed = true
	r.c.mu.Unlock()
}
