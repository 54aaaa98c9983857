package server

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server is an HTTP/1.1 server with the semantics of Node's http.Server.
type Server struct {
	cfg *config

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool // Close was called: no new connections
	// closingFlag mirrors closing for the per-request check, without mu.
	closingFlag atomic.Bool
	closed      chan struct{} // closed once closing and the last connection is gone
	closeOnce   sync.Once

	sweeper sweeper
	ids     idSource
}

// New returns a server with the given options.
func New(o Options) *Server {
	s := &Server{
		cfg:       newConfig(o),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		closed:    make(chan struct{}),
	}
	s.sweeper.init(s)
	s.ids.init()
	return s
}

// Listen starts listening on addr, a TCP "host:port" (IPv4 or IPv6) or
// "unix:/path" for a Unix socket, and serves it in the background. It
// returns the listener so that callers can learn the bound address.
func (s *Server) Listen(addr string) (net.Listener, error) {
	l, err := s.listen(addr)
	if err != nil {
		return nil, err
	}
	// The listener is registered before Listen returns, so that Listening
	// reports it and Close closes it.
	if err := s.track(l); err != nil {
		return nil, err
	}
	go s.serve(l) //nolint:errcheck // serve's error is the listener closing
	return l, nil
}

func (s *Server) listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		// A stale socket file from a previous run would make bind fail.
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(path)
		}
		return net.Listen("unix", path)
	}
	lc := net.ListenConfig{KeepAlive: -1} // Node: no TCP keep-alive unless asked
	if s.cfg.KeepAlive {
		lc.KeepAlive = 0
		lc.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: s.cfg.KeepAliveInitialDelay}
		if lc.KeepAliveConfig.Idle == 0 {
			lc.KeepAliveConfig.Idle = -1 // the OS default
		}
		lc.KeepAliveConfig.Interval, lc.KeepAliveConfig.Count = -1, -1
	}
	return lc.Listen(context.Background(), "tcp", addr)
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("server: closed")

// Serve accepts connections on l until the server is closed.
func (s *Server) Serve(l net.Listener) error {
	if err := s.track(l); err != nil {
		return err
	}
	return s.serve(l)
}

// track registers l, or closes it when the server is closing.
func (s *Server) track(l net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	return nil
}

// serve is Serve's accept loop for a tracked listener.
func (s *Server) serve(l net.Listener) error {
	s.sweeper.start()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors or a transient error: wait and retry,
				// as net/http does, rather than spin or give up.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Logger.Warn("accept failed; retrying", "error", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := s.newConn(nc)
		if c == nil {
			continue
		}
		go c.serve(s.cfg.Handlers.Connection)
	}
}

// newConn registers a new connection, or closes it when the server is
// closing.
func (s *Server) newConn(nc net.Conn) *conn {
	if tc, ok := nc.(*net.TCPConn); ok && s.cfg.DisableNoDelay {
		_ = tc.SetNoDelay(false)
	}
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	return c
}

// forget removes a connection that has ended or was handed to an upgrade
// or CONNECT handler.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	last := s.closing && len(s.conns) == 0
	s.mu.Unlock()
	if last {
		s.finishClose()
	}
}

func (s *Server) finishClose() {
	s.closeOnce.Do(func() {
		s.sweeper.stop()
		if h := s.cfg.Handlers.Close; h != nil {
			h()
		}
		close(s.closed)
	})
}

// Close stops accepting connections and closes every connection that is
// idle, as Node's server.close() does. Connections with a request in
// flight finish it and then close. Close returns at once; Done tells when
// the last connection has ended.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.closingFlag.Store(true)
	var err error
	for l := range s.listeners {
		if e := l.Close(); e != nil && err == nil {
			err = e
		}
	}
	empty := len(s.conns) == 0
	s.mu.Unlock()
	s.CloseIdleConnections()
	if empty {
		s.finishClose()
	}
	return err
}

// Done returns a channel that is closed when the server has been closed
// and its last connection has ended, after the close event has run.
func (s *Server) Done() <-chan struct{} { return s.closed }

// Shutdown closes the server gracefully: it stops accepting, closes idle
// connections, lets in-flight requests finish, and returns when the last
// connection has ended and the close event has run. If ctx ends first it
// closes every connection and returns ctx's error. Because it waits for the
// close event, the Close handler must not call Shutdown (it would wait for
// itself); Close is safe there.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.Close()
	select {
	case <-s.closed:
		return err
	case <-ctx.Done():
		s.CloseAllConnections()
		<-s.closed
		return ctx.Err()
	}
}

// CloseIdleConnections closes every connection that is not receiving a
// request or waiting for its response.
func (s *Server) CloseIdleConnections() {
	for _, c := range s.snapshot() {
		c.closeIfIdle()
	}
}

// CloseAllConnections closes every connection at once, in-flight requests
// included. Connections handed to upgrade and CONNECT handlers are theirs
// and are not closed.
func (s *Server) CloseAllConnections() {
	for _, c := range s.snapshot() {
		c.destroy()
	}
}

func (s *Server) snapshot() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c)
	}
	return list
}

// Listening reports whether the server has a listener open.
func (s *Server) Listening() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closing && len(s.listeners) > 0
}

// ConnectionCount returns the number of open connections.
func (s *Server) ConnectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
