package sdk

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hostd/hostd/protocol"
)

// runSocket runs an upgrade or CONNECT handler with the client's socket:
// the descriptor hostd passed, or a connection relayed over the stream.
// hostd counts the socket as open, for draining, until the handler
// returns.
func (rt *runtime) runSocket(st *stream) {
	var conn net.Conn
	if st.fd >= 0 {
		f := os.NewFile(uintptr(st.fd), "hostd-client")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			rt.log.Error("cannot use the client socket", "error", err)
			st.finish()
			return
		}
		conn = c
		// hostd forgot the socket when it passed it: no frame will come.
		st.finish()
	} else {
		conn = st.sock
	}
	rt.sockets.Add(1)
	defer rt.sockets.Add(-1)
	head := st.head.Data
	if st.head.Event == protocol.EventUpgrade {
		rt.p.(UpgradeHandler).HandleUpgrade(&st.req, conn, head)
	} else {
		rt.p.(ConnectHandler).HandleConnect(&st.req, conn, head)
	}
}

// runClientError runs the clientError handler with a socket that only
// writes; hostd closes the connection when the handler returns.
func (rt *runtime) runClientError(st *stream) {
	err := &ClientError{
		Code:        string(st.head.ErrCode),
		BytesParsed: int(st.head.BytesParsed),
		RawPacket:   st.head.Data,
		RemoteAddr:  string(st.head.RemoteAddr),
		HeadersSent: st.head.Flags&protocol.ReqHeadersSent != 0,
	}
	rt.p.(ClientErrorHandler).HandleClientError(err, st.sock)
	st.sock.Close()
}

// relayConn is a client socket whose bytes hostd relays as SockData
// frames, for when the descriptor itself cannot be passed. Reads come
// from the stream's inbox, writes go out under the stream's credit.
type relayConn struct {
	st        *stream
	writeOnly bool
	// begun: a clientError or timeout socket whose response had begun
	// refuses writes.
	begun bool

	mu            sync.Mutex
	closed        bool
	wroteEnd      bool
	readDeadline  time.Time
	writeDeadline time.Time
}

var _ net.Conn = (*relayConn)(nil)

// errDeadline is returned past a deadline; it is a net.Error timeout.
var errDeadline = os.ErrDeadlineExceeded

// deliver applies a socket frame from hostd.
func (c *relayConn) deliver(f protocol.Frame) {
	st := c.st
	switch f.Type {
	case protocol.TypeSockData:
		st.mu.Lock()
		st.appendBody(f.Payload)
		st.mu.Unlock()
		st.wakeBody()
	case protocol.TypeSockEnd:
		st.mu.Lock()
		st.bodyDone = true
		st.mu.Unlock()
		st.wakeBody()
	case protocol.TypeSockClose:
		c.closeFromHost()
	}
}

// closeFromHost marks the socket closed by the client or by hostd.
func (c *relayConn) closeFromHost() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	st := c.st
	st.mu.Lock()
	st.aborted = true
	st.mu.Unlock()
	st.wakeBody()
	st.wakeSend()
	st.rt.forget(st)
}

func (c *relayConn) Read(p []byte) (int, error) {
	if c.writeOnly {
		return 0, errors.New("sdk: a clientError or timeout socket cannot be read: hostd reads the connection")
	}
	c.mu.Lock()
	closed, dl := c.closed, c.readDeadline
	c.mu.Unlock()
	switch {
	case closed:
		return 0, net.ErrClosed
	case !dl.IsZero() && !time.Now().Before(dl):
		return 0, errDeadline // as a net.Conn: past its deadline, no I/O
	}
	n, err := c.st.readBodyUntil(p, c.deadline(&c.readDeadline))
	if err == ErrAborted {
		return n, net.ErrClosed
	}
	return n, err
}

func (c *relayConn) Write(p []byte) (int, error) {
	if c.begun {
		return 0, ErrResponseBegun
	}
	c.mu.Lock()
	closed, dl := c.closed || c.wroteEnd, c.writeDeadline
	c.mu.Unlock()
	switch {
	case closed:
		return 0, net.ErrClosed
	case !dl.IsZero() && !time.Now().Before(dl):
		return 0, errDeadline
	}
	written := 0
	for written < len(p) {
		n, err := c.st.takeCreditUntil(len(p)-written, c.deadline(&c.writeDeadline))
		if err != nil {
			if err == ErrAborted {
				err = net.ErrClosed
			}
			return written, err
		}
		if err := c.st.send(protocol.TypeSockData, p[written:written+n]); err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

// deadline returns a function that reads *t, one of the deadlines, under
// mu: a deadline set while a Read or Write waits applies to it.
func (c *relayConn) deadline(t *time.Time) func() time.Time {
	return func() time.Time {
		c.mu.Lock()
		defer c.mu.Unlock()
		return *t
	}
}

// CloseWrite half-closes the socket: the client reads end of file.
func (c *relayConn) CloseWrite() error {
	c.mu.Lock()
	if c.closed || c.wroteEnd {
		c.mu.Unlock()
		return nil
	}
	c.wroteEnd = true
	c.mu.Unlock()
	return c.st.send(protocol.TypeSockEnd, nil)
}

func (c *relayConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.st.send(protocol.TypeSockClose, nil)
	st := c.st
	st.mu.Lock()
	st.aborted = true
	st.mu.Unlock()
	st.wakeBody()
	st.wakeSend()
	st.rt.forget(st)
	return err
}

func (c *relayConn) LocalAddr() net.Addr  { return addr(c.st.head.LocalAddr) }
func (c *relayConn) RemoteAddr() net.Addr { return addr(c.st.head.RemoteAddr) }

func (c *relayConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *relayConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	c.st.wakeBody() // a waiting Read waits again, until t
	return nil
}

func (c *relayConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	c.st.wakeSend()
	return nil
}

// addr is a client address as hostd reported it.
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }
