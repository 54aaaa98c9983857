package hostd_test

import (
	"bytes"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

// BenchmarkPluginHop measures a keep-alive hello-world request through a
// plugin process, from a raw client that allocates nothing, so allocs/op
// are the host's own.
func BenchmarkPluginHop(b *testing.B) {
	h := hostdtest.Start(b, `
[server]
listen = ["127.0.0.1:0"]
keep_alive_timeout = 60000
[plugins.gen]
builtin = "gen"
[plugins.gen.config]
name = "Hello, World!"
[[routes]]
path = "/"
plugin = "gen"
`)
	c, err := net.Dial("tcp", h.Addr)
	require.NoError(b, err)
	defer c.Close()
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	roundTrip := func() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		n := 0
		for !bytes.HasSuffix(buf[:n], []byte("Hello, World!")) {
			m, err := c.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
	}
	for range 1000 {
		roundTrip()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		roundTrip()
	}
}
