package server

import (
	"net"

	"github.com/hostd/hostd/framework/http1"
)

// Accessors for handlers that forward requests elsewhere, such as the
// plugin host: zero-copy views and the few controls Node keeps private.

// Head returns the parsed request head. Its byte slices point into the
// connection's buffer: valid until the handler returns and the response is
// finished, and not to be modified.
func (m *IncomingMessage) Head() *http1.Head { return m.head }

// RawFields returns the header fields as received, at most
// MaxHeadersCount of them, as zero-copy views valid like Head's.
func (m *IncomingMessage) RawFields() []http1.Field {
	f := m.head.Fields
	if max := m.c.srv.cfg.maxHeadersCount; max > 0 && len(f) > max {
		f = f[:max]
	}
	return f
}

// SetAbortHook sets f to be called, synchronously and with the
// connection's lock held, when the request is aborted; nil removes it. It
// is for proxies that must signal their own goroutines without a delay or
// a goroutine: f must only signal, never block or call the request or
// response. A proxy removes its hook before reusing what f refers to; from
// then on f is never called.
func (m *IncomingMessage) SetAbortHook(f func()) {
	m.c.mu.Lock()
	m.abortHook = f
	m.c.mu.Unlock()
}

// RemoteAddress returns the client's address as "ip:port", computed once
// per connection.
func (m *IncomingMessage) RemoteAddress() string { return m.c.addrs().remote }

// LocalAddress returns the address the request arrived on, as "ip:port".
func (m *IncomingMessage) LocalAddress() string { return m.c.addrs().local }

// connAddrs caches a connection's addresses as strings.
type connAddrs struct{ remote, local string }

func (c *conn) addrs() *connAddrs {
	if a := c.addrCache.Load(); a != nil {
		return a
	}
	a := &connAddrs{remote: addrString(c.nc.RemoteAddr()), local: addrString(c.nc.LocalAddr())}
	c.addrCache.Store(a)
	return a
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// SetBodyLength declares that the body will be n bytes written in pieces,
// so that an implicit head gets the Content-Length that End(data) would
// have given it (unlike a Content-Length set with SetHeader, it does not
// count as the handler's own header). It has no effect once the head is
// written.
func (r *ServerResponse) SetBodyLength(n int64) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if !r.headerWritten {
		r.contentLength = n
		r.declaredLength = true
	}
}

// Flush writes what the response has buffered now, even after End (which
// otherwise leaves the write to the connection).
func (r *ServerResponse) Flush() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.destroyed {
		return errDestroyed
	}
	return r.flushLocked()
}

// DefaultResponse returns the bytes Node's default clientError handler
// writes for e: a status line and "Connection: close".
func (e *ClientError) DefaultResponse() []byte { return defaultClientErrorResponse(e.StatusCode()) }

// ContinueSent reports whether "100 Continue" was sent, by WriteContinue
// or by the first read of a body the client holds back.
func (r *ServerResponse) ContinueSent() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.sent100
}
