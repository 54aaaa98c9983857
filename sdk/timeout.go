package sdk

import "github.com/hostd/hostd/protocol"

// Timeout describes the connection of a timeout event (TimeoutHandler):
// what a Node listener learns from its socket.
type Timeout struct {
	// RemoteAddr is the client's address; LocalAddr the one it connected
	// to.
	RemoteAddr, LocalAddr string
	// HeadersSent reports that the response to the request in flight had
	// begun when the event was raised (Node:
	// socket._httpMessage.headersSent): the socket then refuses writes
	// (ErrResponseBegun), so that no bytes land in the middle of it.
	HeadersSent bool
}

// runTimeout runs the timeout handler with a socket that only writes, and
// tells hostd how the handler left it.
func (rt *runtime) runTimeout(st *stream) {
	ev := &Timeout{
		RemoteAddr:  string(st.head.RemoteAddr),
		LocalAddr:   string(st.head.LocalAddr),
		HeadersSent: st.head.Flags&protocol.ReqHeadersSent != 0,
	}
	rt.p.(TimeoutHandler).HandleTimeout(ev, st.sock)
	st.sock.leave()
}

// leave ends a timeout handler's hold on its socket, once it returns. A
// socket it ended is closed; one it left open is handed back to hostd
// with an empty End, and refuses the writes of a handler that kept it.
func (c *relayConn) leave() {
	c.mu.Lock()
	closed, ended := c.closed, c.wroteEnd
	c.mu.Unlock()
	switch {
	case closed: // by the handler, or by hostd
	case ended:
		_ = c.Close()
	default:
		_ = c.st.send(protocol.TypeEnd, nil)
		c.closeFromHost()
	}
}
