package server

import (
	"net"
	"time"
)

// TimeoutSocket is the connection a Timeout handler gets: Node's socket
// in server.on('timeout', socket => …). The server keeps serving it, so
// the handler cannot read from it. The handler may keep it after it
// returns.
//
// Unlike Node, writing to it claims the connection: the response in
// flight, if it has not begun, can no longer begin, and no later request
// is answered, so that the client never reads HTTP after the handler's
// bytes. A handler that writes must therefore Close the socket when it is
// done (Node's socket.end), or the connection lingers answering nothing.
// If the response in flight has begun, Write refuses (ErrResponseBegun)
// rather than write into its middle.
type TimeoutSocket struct {
	c     *conn
	after time.Duration
}

// After returns the inactivity that raised the event: Options.Timeout, or
// the response's SetTimeout.
func (s *TimeoutSocket) After() time.Duration { return s.after }

// RemoteAddr returns the client's address.
func (s *TimeoutSocket) RemoteAddr() net.Addr { return s.c.nc.RemoteAddr() }

// LocalAddr returns the address the client connected to.
func (s *TimeoutSocket) LocalAddr() net.Addr { return s.c.nc.LocalAddr() }

// HeadersSent reports whether the response to the request in flight has
// begun (Node's socket._httpMessage.headersSent): a handler that sees it
// may still Close the socket but cannot write to it.
func (s *TimeoutSocket) HeadersSent() bool {
	c := s.c
	if c.writing.Load() {
		return true // a write holds mu: the response has begun
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight != nil && c.inflight.res.headerSent
}

// Write claims the connection (see TimeoutSocket) and writes p to it.
func (s *TimeoutSocket) Write(p []byte) (int, error) {
	c := s.c
	if c.writing.Load() {
		// A response write holds mu, maybe blocked on a client that
		// does not read: waiting for it would wait for that client.
		return 0, ErrResponseBegun
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.state.Load(); st == stateClosed || st == stateHijacked {
		return 0, net.ErrClosed
	}
	if ex := c.inflight; ex != nil && !c.claimed.Load() {
		if ex.res.headerSent {
			return 0, ErrResponseBegun
		}
		ex.res.destroyed = true
	}
	c.claimed.Store(true)
	c.writing.Store(true)
	n, err := c.nc.Write(p)
	c.writing.Store(false)
	if err != nil {
		c.closeLocked()
	}
	return n, err
}

// Close destroys the connection, aborting the request in flight if its
// response is not finished (Node's socket.destroy; as the server does
// not read after a handler's bytes, also what socket.end comes to).
func (s *TimeoutSocket) Close() error {
	s.c.destroy()
	return nil
}
