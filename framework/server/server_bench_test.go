package server_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// helloBody is the 13-byte body both servers send.
const helloBody = "Hello, World!"

// BenchmarkHelloWorld drives a keep-alive hello-world server with N
// concurrent raw keep-alive clients over loopback: our engine and Go's
// net/http in the same run. It reports each one's requests per second and
// their ratio (engine / net/http; above 1 means we are faster); ns/op is
// our engine's time per request.
func BenchmarkHelloWorld(b *testing.B) {
	_, ours := start(b, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
		_ = res.SetHeader("Content-Type", "text/plain")
		_ = res.EndString(helloBody)
	}}})
	std := startNetHTTP(b)

	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			b.StopTimer() // measureRate times only the requests
			oursRate := measureRate(b, ours, clients, b.N)
			stdRate := measureRate(b, std, clients, b.N)
			b.ReportMetric(1e9/oursRate, "ns/op")
			b.ReportMetric(oursRate, "req/s")
			b.ReportMetric(stdRate, "nethttp-req/s")
			b.ReportMetric(oursRate/stdRate, "ratio")
		})
	}
}

// startNetHTTP runs a net/http hello-world server and returns its address.
func startNetHTTP(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, helloBody)
		}),
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.Serve(l) }()
	b.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// measureRate sends total keep-alive requests to addr from clients
// connections at once and returns the requests per second. The benchmark
// timer runs only while the requests are in flight.
func measureRate(b *testing.B, addr string, clients, total int) float64 {
	request := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	conns := make([]net.Conn, clients)
	var respLen int
	for i := range conns {
		c := dial(b, addr)
		// The first response tells the length of all of them: the Date
		// value has a fixed width.
		c.send(string(request))
		r := c.read()
		require.Equal(b, helloBody, r.body)
		respLen = len(r.raw)
		require.NoError(b, c.nc.SetDeadline(time.Time{}))
		conns[i] = c.nc
	}
	per := max(total/clients, 1)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	b.StartTimer()
	began := time.Now()
	for _, nc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, respLen)
			for range per {
				if _, err := nc.Write(request); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(nc, buf); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	close(errs)
	for err := range errs {
		if !errors.Is(err, net.ErrClosed) {
			require.NoError(b, err)
		}
	}
	for _, nc := range conns {
		nc.Close()
	}
	return float64(per*clients) / elapsed.Seconds()
}
