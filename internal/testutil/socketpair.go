package testutil

import (
	"net"
	"testing"

	"github.com/hostd/hostd/internal/socketpair"
)

// SocketPair returns both ends of a Unix stream socketpair, as hostd makes
// its data plane; both close when the test ends.
func SocketPair(t testing.TB) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	a, b, err := socketpair.Conns()
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}
