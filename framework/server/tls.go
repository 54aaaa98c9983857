package server

import (
	"crypto/tls"
	"net"
)

// ListenTLS is Listen for a listener whose connections speak TLS with
// cfg. A TLS connection has no descriptor a handler could take over:
// an upgrade or CONNECT handler gets the *tls.Conn, whose bytes it must
// copy itself.
func (s *Server) ListenTLS(addr string, cfg *tls.Config) (net.Listener, error) {
	l, err := s.listen(addr)
	if err != nil {
		return nil, err
	}
	tl := &tlsListener{Listener: l, cfg: cfg, noDelay: !s.cfg.DisableNoDelay}
	if err := s.track(tl); err != nil {
		return nil, err
	}
	go s.serve(tl) //nolint:errcheck // serve's error is the listener closing
	return tl, nil
}

// tlsListener is tls.NewListener with the server's TCP options applied
// to the connection underneath. The handshake runs on the connection's
// first read, on its own goroutine, bounded by HeadersTimeout.
type tlsListener struct {
	net.Listener
	cfg     *tls.Config
	noDelay bool
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok && !l.noDelay {
		_ = tc.SetNoDelay(false)
	}
	return tls.Server(c, l.cfg), nil
}
