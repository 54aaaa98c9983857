package hostdtest

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TCPEcho starts a TCP echo server on 127.0.0.1 and returns its address.
// It half-closes each connection when the client does, so a client that
// ends its writes reads everything back and then the end.
func TCPEcho(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				_ = c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return l.Addr().String()
}
