package sdk_test

import (
	"testing"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
)

// BenchmarkRequest measures a small request through the SDK, from frame
// in to frame out, with a host side that allocates nothing: allocs/op are
// the SDK's own.
func BenchmarkRequest(b *testing.B) {
	host, plugin := testutil.SocketPair(b)
	go func() {
		_ = sdk.ServeConn(plugin, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			res.SetHeader("Content-Type", "text/plain")
			_ = res.End([]byte("Hello, World!"))
		}), sdk.ConnOptions{})
	}()
	w, r := protocol.NewWriter(host, nil), protocol.NewReader(host)
	head := protocol.RequestHead{Event: protocol.EventRequest, Major: 1, Minor: 1, Method: []byte("GET"), URL: []byte("/"),
		Fields: [][]byte{[]byte("Host"), []byte("x")}, RemoteAddr: []byte("127.0.0.1:1"), LocalAddr: []byte("127.0.0.1:2")}
	var frame []byte
	roundTrip := func(id uint32) {
		var off int
		frame, off = protocol.Begin(frame[:0], id, protocol.TypeRequest)
		frame = protocol.Finish(protocol.AppendRequestHead(frame, &head), off)
		if err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
		for {
			f, err := r.Next()
			if err != nil {
				b.Fatal(err)
			}
			if f.Type == protocol.TypeEnd {
				return
			}
		}
	}
	for i := range 1000 {
		roundTrip(uint32(i + 1))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		roundTrip(uint32(i + 1001))
	}
}
