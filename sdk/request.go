package sdk

import (
	"context"
	"sync"
	"time"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/protocol"
)

// Request is the request of an event, with the API of Node's
// http.IncomingMessage. Its body is read with Read.
type Request struct {
	st *stream

	once         sync.Once
	url          string
	rawHeaders   []string
	headersOnce  sync.Once
	headers      Headers
	distinctOnce sync.Once
	distinct     map[string][]string
}

// Method returns the request method, for example "GET".
func (r *Request) Method() string {
	if m, ok := httpspec.LookupMethod(r.st.head.Method); ok {
		return m
	}
	return string(r.st.head.Method)
}

// URL returns the request-target as sent, for example "/a?b=c".
func (r *Request) URL() string {
	r.once.Do(r.strings)
	return r.url
}

func (r *Request) strings() {
	h := &r.st.head
	r.url = string(h.URL)
	r.rawHeaders = make([]string, len(h.Fields))
	for i, f := range h.Fields {
		r.rawHeaders[i] = string(f)
	}
}

// HTTPVersion returns "1.1", "1.0", "2.0" or "0.9".
func (r *Request) HTTPVersion() string {
	switch h := &r.st.head; {
	case h.Major == 1 && h.Minor == 1:
		return "1.1"
	case h.Major == 1 && h.Minor == 0:
		return "1.0"
	case h.Major == 2:
		return "2.0"
	}
	return "0.9"
}

// HTTPVersionMajor returns the major version number.
func (r *Request) HTTPVersionMajor() int { return int(r.st.head.Major) }

// HTTPVersionMinor returns the minor version number.
func (r *Request) HTTPVersionMinor() int { return int(r.st.head.Minor) }

// RawHeaders returns the header fields exactly as received, names and
// values alternating (Node's message.rawHeaders).
func (r *Request) RawHeaders() []string {
	r.once.Do(r.strings)
	return r.rawHeaders
}

// Headers returns Node's message.headers. With hostd's
// join_duplicate_headers (Node's joinDuplicateHeaders) repeated fields
// that Node keeps the first of are joined with ", " instead.
func (r *Request) Headers() Headers {
	r.headersOnce.Do(func() { r.headers = buildHeaders(r.RawHeaders(), r.joinDuplicates()) })
	return r.headers
}

// HeadersDistinct returns Node's message.headersDistinct.
func (r *Request) HeadersDistinct() map[string][]string {
	r.distinctOnce.Do(func() { r.distinct = httpspec.BuildHeadersDistinct(r.RawHeaders(), 0) })
	return r.distinct
}

// Header returns one header's value as Headers would.
func (r *Request) Header(name string) string { return r.Headers().Get(name) }

// RawTrailers returns the trailer fields as received, names and values
// alternating, once the body has been read to its end.
func (r *Request) RawTrailers() []string {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]string, len(st.trailers))
	for i, f := range st.trailers {
		out[i] = string(f)
	}
	return out
}

// Trailers returns the trailers folded like Headers.
func (r *Request) Trailers() Headers {
	return buildHeaders(r.RawTrailers(), r.joinDuplicates())
}

func (r *Request) joinDuplicates() bool { return r.st.rt.settings.Load().joinDuplicates }

// TrailersDistinct is HeadersDistinct for the trailers.
func (r *Request) TrailersDistinct() map[string][]string {
	return httpspec.BuildHeadersDistinct(r.RawTrailers(), 0)
}

// Complete reports whether the whole body has been received.
func (r *Request) Complete() bool {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.bodyDone
}

// Aborted reports whether the client went away, or hostd gave up, before
// the response was finished.
func (r *Request) Aborted() bool {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	return r.st.aborted
}

// OnAborted registers f to run, on its own goroutine, when the request is
// aborted.
func (r *Request) OnAborted(f func()) {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.aborted {
		go f()
		return
	}
	st.onAbort = append(st.onAbort, f)
}

// Context returns a context canceled when the exchange is over: when
// hostd has written the response to the client's socket, or when the
// request is aborted. Pass it to the work done for the request.
func (r *Request) Context() context.Context { return r.st.context() }

// Destroy abandons the exchange (Node's req.destroy(err)), as
// Response.Destroy does: hostd answers 500 if the response has not begun,
// and otherwise closes the client's connection. err, if not nil, is
// logged.
func (r *Request) Destroy(err error) { r.st.res.Destroy(err) }

// OnClose registers f to run when the exchange is over (Node's request
// close event): once hostd has written the response to the client's
// socket, or the request was aborted.
func (r *Request) OnClose(f func()) {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.over {
		go f()
		return
	}
	st.onClose = append(st.onClose, f)
}

// RemoteAddr returns the client's address, "ip:port".
func (r *Request) RemoteAddr() string { return string(r.st.head.RemoteAddr) }

// LocalAddr returns the address the request arrived on.
func (r *Request) LocalAddr() string { return string(r.st.head.LocalAddr) }

// Encrypted reports whether the client came to hostd over TLS (a tls://
// listener), Node's req.socket.encrypted.
func (r *Request) Encrypted() bool { return r.st.head.Flags&protocol.ReqEncrypted != 0 }

// SetTimeout is Node's request.setTimeout: it sets the client socket's
// inactivity timeout to d, the one Response.SetTimeout sets (d of 0 turns
// it off), and registers f, if not nil, to run when the timeout passes
// while the request is still arriving. A timeout that neither a request's
// callback nor a response's hears closes the connection, as in Node.
func (r *Request) SetTimeout(d time.Duration, f func()) error {
	st := r.st
	if f != nil {
		st.mu.Lock()
		st.onReqTimeout = append(st.onReqTimeout, f)
		st.mu.Unlock()
	}
	return st.res.SetTimeout(d, nil)
}

// Read reads the request body. It returns io.EOF at its end, ErrAborted
// if the request was aborted first, and io.ErrUnexpectedEOF once the
// response has ended without the whole body read: hostd then stops
// sending it.
func (r *Request) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.st.readBody(p)
}
