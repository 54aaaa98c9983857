package server

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendAddrFormatsAsString(t *testing.T) {
	for _, a := range []net.Addr{
		&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080},
		&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}, // 16-byte IPv4, as accept may give it
		&net.TCPAddr{IP: net.ParseIP("::1"), Port: 443},
		&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"},
		&net.UnixAddr{Name: "/run/hostd.sock", Net: "unix"},
	} {
		require.Equal(t, a.String(), string(appendAddr(nil, a)))
	}
	require.Empty(t, appendAddr(nil, nil))
	tcp := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	buf := make([]byte, 0, 64)
	require.Zero(t, testing.AllocsPerRun(100, func() { buf = appendAddr(buf[:0], tcp) }))
}
