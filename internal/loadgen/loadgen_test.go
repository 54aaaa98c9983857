package loadgen_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/loadgen"
)

// server is a real net/http server on 127.0.0.1:0 that counts what it
// answers. Every tenth request on "/" sleeps slowFor before answering.
func server(t *testing.T, slowFor time.Duration) (addr string, served *atomic.Int64) {
	t.Helper()
	served = new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if n := served.Add(1); n%10 == 0 {
			time.Sleep(slowFor)
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("Hello, World!"))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte("part one, "))
		w.(http.Flusher).Flush() // no Content-Length: chunked
		_, _ = w.Write([]byte("part two"))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		http.NotFound(w, r)
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte("bye"))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), served
}

func TestRun(t *testing.T) {
	t.Run("every request is answered once and timed once", func(t *testing.T) {
		const slow = 2 * time.Millisecond
		addr, served := server(t, slow)
		res, err := loadgen.Run(context.Background(), loadgen.Options{Addr: addr, Connections: 4, Requests: 400})
		require.NoError(t, err)
		require.EqualValues(t, 400, res.Requests)
		require.Zero(t, res.Errors)
		require.Zero(t, res.Non2xx)
		require.EqualValues(t, 400, served.Load())
		require.EqualValues(t, 400, res.Latency.Count())
		require.Positive(t, res.Bytes)
		require.Positive(t, res.RequestsPerSec())

		h := res.Latency
		p50, p99 := h.Quantile(0.5), h.Quantile(0.99)
		require.Positive(t, h.Min())
		require.LessOrEqual(t, h.Min(), p50)
		require.LessOrEqual(t, p50, p99)
		require.LessOrEqual(t, p99, h.Max())
		require.LessOrEqual(t, h.Mean(), h.Max())
		// A tenth of the requests sleep: the 99th percentile is one of them.
		require.GreaterOrEqual(t, p99, slow*98/100)
		require.LessOrEqual(t, res.Latency.Max(), res.Elapsed)
	})

	t.Run("chunked bodies, error statuses and Connection close are framed", func(t *testing.T) {
		addr, served := server(t, 0)
		for _, tc := range []struct {
			path            string
			wantOK, wantBad int64
		}{
			{path: "/chunked", wantOK: 50},
			{path: "/missing", wantBad: 50},
			{path: "/close", wantOK: 50},
		} {
			served.Store(0)
			res, err := loadgen.Run(context.Background(), loadgen.Options{Addr: addr, Path: tc.path, Connections: 2, Requests: 50})
			require.NoError(t, err, tc.path)
			require.Zero(t, res.Errors, tc.path)
			require.Equal(t, tc.wantOK, res.Requests, tc.path)
			require.Equal(t, tc.wantBad, res.Non2xx, tc.path)
			require.EqualValues(t, 50, served.Load(), tc.path)
			require.EqualValues(t, 50, res.Latency.Count(), tc.path)
		}
	})

	t.Run("a duration ends the run soon after it passes", func(t *testing.T) {
		addr, served := server(t, 0)
		res, err := loadgen.Run(context.Background(), loadgen.Options{Addr: addr, Connections: 2, Duration: 100 * time.Millisecond})
		require.NoError(t, err)
		require.Positive(t, res.Requests)
		require.Equal(t, res.Requests, served.Load())
		require.GreaterOrEqual(t, res.Elapsed, 100*time.Millisecond)
		require.Less(t, res.Elapsed, time.Second)
	})

	t.Run("a refused connection counts as an error", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		res, err := loadgen.Run(context.Background(), loadgen.Options{Addr: addr, Requests: 3})
		require.NoError(t, err)
		require.Zero(t, res.Requests)
		require.EqualValues(t, 3, res.Errors)
		require.Zero(t, res.Latency.Count())
	})

	t.Run("a cancelled context ends the run with its error", func(t *testing.T) {
		addr, _ := server(t, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		res, err := loadgen.Run(ctx, loadgen.Options{Addr: addr, Duration: time.Hour})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Positive(t, res.Requests)
	})

	t.Run("options without an address or a limit are refused", func(t *testing.T) {
		_, err := loadgen.Run(context.Background(), loadgen.Options{Requests: 1})
		require.ErrorIs(t, err, loadgen.ErrNoAddr)
		_, err = loadgen.Run(context.Background(), loadgen.Options{Addr: "127.0.0.1:1"})
		require.ErrorIs(t, err, loadgen.ErrNoLimit)
	})
}

func TestHistogram(t *testing.T) {
	t.Run("quantiles are within 1/64 of the exact ones", func(t *testing.T) {
		var h loadgen.Histogram
		for i := 1; i <= 10000; i++ {
			h.Record(time.Duration(i) * time.Microsecond)
		}
		require.EqualValues(t, 10000, h.Count())
		require.Equal(t, time.Microsecond, h.Min())
		require.Equal(t, 10*time.Millisecond, h.Max())
		require.InDelta(t, 5000.5*float64(time.Microsecond), float64(h.Mean()), 1)
		for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
			exact := q * 10000 * float64(time.Microsecond)
			require.InEpsilon(t, exact, float64(h.Quantile(q)), 1.0/64, "q=%v", q)
		}
	})

	t.Run("small values are exact", func(t *testing.T) {
		var h loadgen.Histogram
		for _, v := range []time.Duration{3, 3, 7, 100} {
			h.Record(v)
		}
		require.Equal(t, time.Duration(3), h.Quantile(0.5))
		require.Equal(t, time.Duration(7), h.Quantile(0.75))
		require.Equal(t, time.Duration(100), h.Quantile(1))
	})

	t.Run("merging equals recording everything in one", func(t *testing.T) {
		var a, b, all loadgen.Histogram
		for i := range 1000 {
			d := time.Duration(i*i) * time.Nanosecond
			all.Record(d)
			if i%2 == 0 {
				a.Record(d)
			} else {
				b.Record(d)
			}
		}
		var merged loadgen.Histogram
		merged.Merge(&a)
		merged.Merge(&b)
		require.Equal(t, all, merged)
	})

	t.Run("an empty histogram answers zero", func(t *testing.T) {
		var h loadgen.Histogram
		require.Zero(t, h.Quantile(0.5))
		require.Zero(t, h.Mean())
	})
}
