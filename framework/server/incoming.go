package server

import (
	"crypto/tls"
	"net"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// IncomingMessage is a request as Node's http.IncomingMessage shows it.
// Its body is read with Read. The strings it returns are computed on first
// use, so a handler pays only for what it looks at.
type IncomingMessage struct {
	c    *conn
	ex   *exchange
	head *http1.Head

	url        string
	urlSet     bool
	rawHeaders []string
	headers    httpspec.Headers
	distinct   map[string][]string
	rawTrail   []string
	trailers   httpspec.Headers

	body body
	id   requestID // see requestid.go

	aborted   bool
	onAborted []func()
	abortHook func() // guarded by c.mu; see SetAbortHook
}

// Method returns the request method, for example "GET".
func (m *IncomingMessage) Method() string { return m.head.Method }

// URL returns the request-target exactly as sent, for example "/a?b=c".
func (m *IncomingMessage) URL() string {
	if !m.urlSet {
		m.url, m.urlSet = string(m.head.Target), true
	}
	return m.url
}

// HTTPVersion returns "1.1", "1.0", "2.0" or "0.9".
func (m *IncomingMessage) HTTPVersion() string {
	switch {
	case m.head.Major == 1 && m.head.Minor == 1:
		return "1.1"
	case m.head.Major == 1:
		return "1.0"
	case m.head.Major == 2:
		return "2.0"
	}
	return "0.9"
}

// HTTPVersionMajor returns the major version number.
func (m *IncomingMessage) HTTPVersionMajor() int { return int(m.head.Major) }

// HTTPVersionMinor returns the minor version number.
func (m *IncomingMessage) HTTPVersionMinor() int { return int(m.head.Minor) }

// RawHeaders returns the header fields exactly as received, names and
// values alternating, as Node's message.rawHeaders.
func (m *IncomingMessage) RawHeaders() []string {
	if m.rawHeaders == nil {
		m.rawHeaders = rawFields(m.head.Fields, m.c.srv.cfg.maxHeadersCount)
	}
	return m.rawHeaders
}

func rawFields(fields []http1.Field, max int) []string {
	if max > 0 && len(fields) > max {
		fields = fields[:max]
	}
	raw := make([]string, 0, 2*len(fields))
	for _, f := range fields {
		raw = append(raw, string(f.Name), string(f.Value))
	}
	return raw
}

// Headers returns Node's message.headers: lower-case names; repeated
// fields joined with ", " (cookie with "; "), set-cookie as a list, and
// only the first of fields that cannot repeat (host, content-type, …)
// unless the server joins duplicate headers.
func (m *IncomingMessage) Headers() httpspec.Headers {
	if m.headers == nil {
		m.headers = httpspec.BuildHeaders(m.RawHeaders(), m.c.srv.cfg.JoinDuplicateHeaders, 0)
	}
	return m.headers
}

// HeadersDistinct returns Node's message.headersDistinct: every value of
// every field, by lower-case name.
func (m *IncomingMessage) HeadersDistinct() map[string][]string {
	if m.distinct == nil {
		m.distinct = httpspec.BuildHeadersDistinct(m.RawHeaders(), 0)
	}
	return m.distinct
}

// Header returns the value of one header as Headers would, without
// building the whole map: the cheap way to look at a single field.
func (m *IncomingMessage) Header(name string) string {
	if m.headers != nil {
		return m.headers.Get(name)
	}
	lname := httpspec.ToLower(name)
	var first []byte
	n := 0
	for _, f := range m.fields() {
		if httpspec.EqualFold(f.Name, lname) {
			if n == 0 {
				first = f.Value
			}
			n++
		}
	}
	if n <= 1 {
		return string(first)
	}
	return m.Headers().Get(name)
}

// fields returns the header fields that count: at most MaxHeadersCount;
// Node ignores the others.
func (m *IncomingMessage) fields() []http1.Field {
	f := m.head.Fields
	if max := m.c.srv.cfg.maxHeadersCount; max > 0 && len(f) > max {
		f = f[:max]
	}
	return f
}

// field returns the value of the first counted field named name (lower
// case), or nil.
func (m *IncomingMessage) field(name string) []byte {
	for _, f := range m.fields() {
		if httpspec.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return nil
}

// Trailers returns the trailer fields folded like Headers. They are known
// once the body has been read to its end (Complete).
func (m *IncomingMessage) Trailers() httpspec.Headers {
	if m.trailers == nil {
		m.trailers = httpspec.BuildHeaders(m.RawTrailers(), m.c.srv.cfg.JoinDuplicateHeaders, 0)
	}
	return m.trailers
}

// TrailersDistinct is HeadersDistinct for the trailers.
func (m *IncomingMessage) TrailersDistinct() map[string][]string {
	return httpspec.BuildHeadersDistinct(m.RawTrailers(), 0)
}

// RawTrailers returns the trailer fields as received, once Complete.
func (m *IncomingMessage) RawTrailers() []string {
	if m.rawTrail == nil && m.body.done && m.body.kind == http1.BodyChunked {
		// Node limits the header fields only, not the trailers.
		m.rawTrail = rawFields(m.ex.chunked.Trailers(), 0)
	}
	if m.rawTrail == nil {
		return []string{}
	}
	return m.rawTrail
}

// Complete reports whether the whole request, body included, has been
// received.
func (m *IncomingMessage) Complete() bool { return m.body.done }

// Received reports whether the whole request has arrived. Unlike Complete
// it may be called from any goroutine, such as a SetTimeout callback,
// while the response to m is in flight.
func (m *IncomingMessage) Received() bool { return m.c.complete.Load() }

// Aborted reports whether the client went away before the request was
// complete or its response finished.
func (m *IncomingMessage) Aborted() bool {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return m.aborted
}

// OnAborted registers f to run, once, if the client goes away before the
// response is finished: the place to cancel work done for it. f runs on
// another goroutine.
func (m *IncomingMessage) OnAborted(f func()) {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	if m.aborted {
		go f()
		return
	}
	m.onAborted = append(m.onAborted, f)
}

// abort marks the request aborted and runs the OnAborted callbacks.
// Called with c.mu held.
func (m *IncomingMessage) abortLocked() {
	if m.aborted {
		return
	}
	m.aborted = true
	if m.abortHook != nil {
		m.abortHook()
	}
	for _, f := range m.onAborted {
		go f()
	}
	m.onAborted = m.onAborted[:0]
}

// RemoteAddr returns the client's address.
func (m *IncomingMessage) RemoteAddr() net.Addr { return m.c.nc.RemoteAddr() }

// LocalAddr returns the address the request arrived on.
func (m *IncomingMessage) LocalAddr() net.Addr { return m.c.nc.LocalAddr() }

// Encrypted reports whether the client came over TLS (a listener of
// ListenTLS), Node's req.socket.encrypted.
func (m *IncomingMessage) Encrypted() bool {
	_, ok := m.c.nc.(*tls.Conn)
	return ok
}

// reset prepares m for the request whose head ex holds.
func (m *IncomingMessage) reset(c *conn, ex *exchange) {
	m.c, m.ex, m.head = c, ex, &ex.head
	m.url, m.urlSet = "", false
	m.rawHeaders, m.headers, m.distinct, m.rawTrail, m.trailers = nil, nil, nil, nil, nil
	m.aborted = false
	m.onAborted = m.onAborted[:0]
	m.abortHook = nil
}

// clear drops references before m is pooled.
func (m *IncomingMessage) clear() {
	m.c = nil
	m.rawHeaders, m.headers, m.distinct, m.rawTrail, m.trailers = nil, nil, nil, nil, nil
	m.url = ""
	m.abortHook = nil
	clear(m.onAborted)
	m.onAborted = m.onAborted[:0]
}
