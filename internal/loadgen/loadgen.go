// Package loadgen is an HTTP/1.1 keep-alive load generator: a fixed number
// of connections, each sending its next GET as soon as the previous
// response has been read (a closed loop, as wrk does), with every
// request's latency kept in a Histogram. The bench program uses it when
// wrk is not installed.
package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a run. Addr and one of Duration or Requests are
// required.
type Options struct {
	// Addr is the server's "host:port".
	Addr string
	// Path is the request-target. Default "/".
	Path string
	// Host is the Host header. Default Addr.
	Host string
	// Connections is the number of keep-alive connections, each with one
	// request in flight at a time. Default 1.
	Connections int
	// Duration stops the run once it has passed: requests in flight are
	// finished, no new ones start. Zero means no time limit.
	Duration time.Duration
	// Requests stops the run after this many requests in all, whatever
	// their outcome. Zero means no limit.
	Requests int64
	// Timeout bounds each connect and each request. Default 10 s.
	Timeout time.Duration
}

// Result is what a run measured.
type Result struct {
	// Requests counts responses with a 2xx or 3xx status.
	Requests int64
	// Non2xx counts complete responses with any other status.
	Non2xx int64
	// Errors counts failed connects, writes, reads and malformed
	// responses. A connection that fails is replaced.
	Errors int64
	// Bytes counts response bytes read, heads included.
	Bytes int64
	// Elapsed runs from the start until the last connection finished.
	Elapsed time.Duration
	// Latency holds, for every complete response (whatever its status),
	// the time from the request's first byte written to the response's
	// last byte read.
	Latency *Histogram
}

// RequestsPerSec is Requests over Elapsed.
func (r *Result) RequestsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Errors returned by Run for options it cannot use.
var (
	ErrNoAddr  = errors.New("loadgen: Options.Addr is empty")
	ErrNoLimit = errors.New("loadgen: neither Options.Duration nor Options.Requests is set")
)

// Run opens the connections, drives them until the duration or the
// request count is reached or ctx ends, and returns what it measured.
// Failures of single requests are counted in the Result, not returned; the
// error is ctx's when it ended the run early.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Addr == "" {
		return nil, ErrNoAddr
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		return nil, ErrNoLimit
	}
	o.Path = cmpOr(o.Path, "/")
	o.Host = cmpOr(o.Host, o.Addr)
	o.Connections = max(o.Connections, 1)
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	r := &run{
		opts:      o,
		request:   fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", o.Path, o.Host),
		remaining: o.Requests,
	}
	if o.Duration > 0 {
		t := time.AfterFunc(o.Duration, func() { r.stop.Store(true) })
		defer t.Stop()
	}
	stopOnCancel := context.AfterFunc(ctx, func() { r.stop.Store(true) })
	defer stopOnCancel()

	workers := make([]worker, o.Connections)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { workers[i].loop(ctx, r) })
	}
	wg.Wait()
	res := &Result{Elapsed: time.Since(start), Latency: new(Histogram)}
	for i := range workers {
		w := &workers[i]
		res.Requests += w.ok
		res.Non2xx += w.non2xx
		res.Errors += w.errors
		res.Bytes += w.bytes
		res.Latency.Merge(&w.latency)
	}
	return res, ctx.Err()
}

// run is the state the connections share.
type run struct {
	opts      Options
	request   []byte
	stop      atomic.Bool
	remaining int64 // atomic; used only when opts.Requests > 0
}

// take reserves the next request, reporting false once the run is over.
func (r *run) take() bool {
	if r.stop.Load() {
		return false
	}
	if r.opts.Requests > 0 && atomic.AddInt64(&r.remaining, -1) < 0 {
		r.stop.Store(true)
		return false
	}
	return true
}

// worker is one connection's loop and its private counters.
type worker struct {
	ok, non2xx, errors, bytes int64
	latency                   Histogram
}

func (w *worker) loop(ctx context.Context, r *run) {
	dialer := net.Dialer{Timeout: r.opts.Timeout}
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for r.take() {
		if conn == nil {
			c, err := dialer.DialContext(ctx, "tcp", r.opts.Addr)
			if err != nil {
				w.errors++
				if ctx.Err() != nil {
					return
				}
				time.Sleep(10 * time.Millisecond) // the server may be down: do not spin
				continue
			}
			conn = c
			br = bufio.NewReaderSize(conn, 16<<10)
		}
		start := time.Now()
		_ = conn.SetDeadline(start.Add(r.opts.Timeout))
		_, err := conn.Write(r.request)
		var resp response
		if err == nil {
			err = resp.read(br)
		}
		if err != nil {
			w.errors++
			conn.Close()
			conn = nil
			continue
		}
		w.latency.Record(time.Since(start))
		w.bytes += resp.bytes
		if resp.status >= 200 && resp.status < 400 {
			w.ok++
		} else {
			w.non2xx++
		}
		if resp.close {
			conn.Close()
			conn = nil
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
