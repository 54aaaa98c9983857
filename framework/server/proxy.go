package server

import (
	"net"
	"net/netip"

	"github.com/hostd/hostd/internal/http1"
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

// AppendRemoteAddress appends the client's address, "ip:port", to dst.
// It keeps nothing per connection and allocates nothing for TCP.
func (m *IncomingMessage) AppendRemoteAddress(dst []byte) []byte {
	return appendAddr(dst, m.c.nc.RemoteAddr())
}

// AppendLocalAddress appends the address the request arrived on.
func (m *IncomingMessage) AppendLocalAddress(dst []byte) []byte {
	return appendAddr(dst, m.c.nc.LocalAddr())
}

// appendAddr formats a as net.Addr.String does, without allocating for
// a TCP address.
func appendAddr(dst []byte, a net.Addr) []byte {
	switch a := a.(type) {
	case nil:
		return dst
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).AppendTo(dst)
	}
	return append(dst, a.String()...)
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
