package client

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostd/hostd/internal/http1"
)

// Socket is one connection of the client, a net.Conn. It exists from the
// moment the Agent assigns it (Node's 'socket' event), before it is
// connected: until then its methods wait for the connection, and fail
// with the dial error if it could not be made.
type Socket struct {
	ready   chan struct{} // closed once dialled, or once the dial failed
	dialErr error         // immutable after ready
	name    string        // the pool key; immutable

	mu     sync.Mutex
	nc     net.Conn // guarded by mu until ready, immutable after
	closed bool     // guarded by mu

	// The read buffer, buf[r:w] unread. Only the current reader (the
	// request reading its response, then the upgrade or CONNECT owner)
	// touches it.
	buf  []byte
	r, w int

	lastActive atomic.Int64 // unix nanoseconds of the last read or write

	// The pool's state, guarded by Agent.mu.
	idleDone  chan struct{} // closed when the idle watcher returns
	idleErr   error         // what the idle watcher's read returned
	reclaimed bool          // taken from the free list: the watcher was stopped on purpose
}

var _ net.Conn = (*Socket)(nil)

func newSocket(name string) *Socket {
	return &Socket{ready: make(chan struct{}), name: name}
}

// connect dials t and makes s ready.
func (s *Socket) connect(ctx context.Context, t *target, keepAlive time.Duration) {
	nc, err := dial(ctx, t, keepAlive)
	s.mu.Lock()
	if err == nil && s.closed {
		nc.Close()
		err = net.ErrClosed
	}
	if err == nil {
		s.nc = nc
		s.touch()
	}
	s.dialErr = err
	s.mu.Unlock()
	close(s.ready)
}

func dial(ctx context.Context, t *target, keepAlive time.Duration) (net.Conn, error) {
	if t.create != nil {
		nc, err := t.create(ctx)
		if err != nil {
			return nil, netError(err)
		}
		return nc, nil
	}
	d := net.Dialer{KeepAlive: keepAlive}
	if t.localAddress != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(t.localAddress)}
	}
	network, addr := "tcp", net.JoinHostPort(t.host, strconv.Itoa(t.port))
	switch t.family {
	case 4:
		network = "tcp4"
	case 6:
		network = "tcp6"
	}
	if t.socketPath != "" {
		network, addr, d.LocalAddr = "unix", t.socketPath, nil
	} else if t.lookup != nil {
		ip, err := t.lookup(ctx, t.host, t.family)
		if err != nil {
			return nil, netError(err)
		}
		addr = net.JoinHostPort(ip, strconv.Itoa(t.port))
	}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, netError(err)
	}
	if !t.tls {
		return nc, nil
	}
	cfg := &tls.Config{}
	if t.tlsConfig != nil {
		cfg = t.tlsConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.serverName()
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, &Error{Code: "ERR_TLS_HANDSHAKE", Message: err.Error(), Err: err}
	}
	return tc, nil
}

func (s *Socket) touch() { s.lastActive.Store(time.Now().UnixNano()) }

// idleFor returns how long s has been without reads or writes.
func (s *Socket) idleFor() time.Duration {
	return time.Duration(time.Now().UnixNano() - s.lastActive.Load())
}

func (s *Socket) conn() (net.Conn, error) {
	<-s.ready
	if s.dialErr != nil {
		return nil, s.dialErr
	}
	return s.nc, nil
}

// Read reads what the client buffered past a response head first, then
// from the connection.
func (s *Socket) Read(p []byte) (int, error) {
	nc, err := s.conn()
	if err != nil {
		return 0, err
	}
	if s.r < s.w {
		n := copy(p, s.buf[s.r:s.w])
		s.r += n
		return n, nil
	}
	n, err := nc.Read(p)
	s.touch()
	return n, err
}

func (s *Socket) Write(p []byte) (int, error) {
	nc, err := s.conn()
	if err != nil {
		return 0, err
	}
	n, err := nc.Write(p)
	s.touch()
	return n, err
}

// Close closes the connection, or makes it fail to connect.
func (s *Socket) Close() error {
	s.mu.Lock()
	s.closed = true
	nc := s.nc
	s.mu.Unlock()
	if nc != nil {
		return nc.Close()
	}
	return nil
}

// CloseWrite shuts the writing side of the connection (a half-close), so
// that the peer reads its end while it may still send: for a tunnel once
// an upgrade or CONNECT handed the connection over.
func (s *Socket) CloseWrite() error {
	nc, err := s.conn()
	if err != nil {
		return err
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return s.Close()
}

func (s *Socket) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Socket) LocalAddr() net.Addr {
	if nc, err := s.conn(); err == nil {
		return nc.LocalAddr()
	}
	return nil
}

func (s *Socket) RemoteAddr() net.Addr {
	if nc, err := s.conn(); err == nil {
		return nc.RemoteAddr()
	}
	return nil
}

func (s *Socket) SetDeadline(t time.Time) error {
	nc, err := s.conn()
	if err != nil {
		return err
	}
	return nc.SetDeadline(t)
}

func (s *Socket) SetReadDeadline(t time.Time) error {
	nc, err := s.conn()
	if err != nil {
		return err
	}
	return nc.SetReadDeadline(t)
}

func (s *Socket) SetWriteDeadline(t time.Time) error {
	nc, err := s.conn()
	if err != nil {
		return err
	}
	return nc.SetWriteDeadline(t)
}

// tcp returns the TCP connection under s, if there is one.
func (s *Socket) tcp() *net.TCPConn {
	nc, err := s.conn()
	if err != nil {
		return nil
	}
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	t, _ := nc.(*net.TCPConn)
	return t
}

// SetNoDelay is socket.setNoDelay.
func (s *Socket) SetNoDelay(noDelay bool) {
	if t := s.tcp(); t != nil {
		_ = t.SetNoDelay(noDelay)
	}
}

// SetKeepAlive is socket.setKeepAlive.
func (s *Socket) SetKeepAlive(enable bool, initialDelay time.Duration) {
	if t := s.tcp(); t != nil {
		_ = t.SetKeepAlive(enable)
		if enable && initialDelay > 0 {
			_ = t.SetKeepAlivePeriod(initialDelay)
		}
	}
}

// fill reads more bytes into the buffer, growing it up to limit bytes of
// unread data. It returns io.EOF when the peer closed the connection.
func (s *Socket) fill(limit int) error {
	if s.r == s.w {
		s.r, s.w = 0, 0
	}
	if s.w == len(s.buf) {
		if s.r > 0 {
			s.w = copy(s.buf, s.buf[s.r:s.w])
			s.r = 0
		} else if len(s.buf) < limit {
			nb := make([]byte, min(max(4096, 2*len(s.buf)), limit))
			s.w = copy(nb, s.buf[s.r:s.w])
			s.r = 0
			s.buf = nb
		}
	}
	if s.w == len(s.buf) {
		return errBufferFull
	}
	n, err := s.nc.Read(s.buf[s.w:])
	s.w += n
	s.touch()
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// headBuffer is the most unread bytes kept while a head is parsed: the
// parser refuses a longer head itself.
func headBuffer(maxHeaderSize int) int { return http1.RawHeadLimit(maxHeaderSize) + 1 }
