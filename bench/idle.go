package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// idleResult is the memory figure of one server: the resident set of its
// process tree before and after the idle connections were opened, and the
// growth of its child processes (hostd's plugins) alone.
type idleResult struct {
	conns           int
	baseKiB, nowKiB int64
	childGrowthKiB  int64
}

// perConnKiB is the RSS growth per idle connection.
func (m idleResult) perConnKiB() float64 {
	return float64(m.nowKiB-m.baseKiB) / float64(m.conns)
}

// childPerConnKiB is the part of perConnKiB in child processes.
func (m idleResult) childPerConnKiB() float64 {
	return float64(m.childGrowthKiB) / float64(m.conns)
}

// idleSettle is how long the connections stay idle before the second
// reading. A server may free memory some time after a connection goes
// idle: hostd gives an idle connection's goroutine stack back after a
// second, and its plugins their heap after half a second without requests.
const idleSettle = 3 * time.Second

// runIdle measures, on a fresh instance of each server, the memory that
// -idle-conns idle keep-alive connections cost. hostd and Node are the
// figures of the issue; the engine and net/http come along for context.
func (b *bench) runIdle(ctx context.Context, res *results) error {
	res.idle = make(map[string]idleResult)
	for _, name := range res.servers {
		s, err := b.startServer(ctx, name)
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		m, err := b.idle(ctx, s, b.opts.idleConns)
		b.procs.stop(s.proc)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res.idle[name] = m
		b.logf("idle: %-8s %d connections: RSS %d → %d KiB, %.2f KiB each (%.2f KiB in child processes)",
			name, m.conns, m.baseKiB, m.nowKiB, m.perConnKiB(), m.childPerConnKiB())
	}
	return nil
}

// idle opens n connections to s that each complete one request and then
// stay open, and reads the RSS of s before and after.
func (b *bench) idle(ctx context.Context, s *server, n int) (idleResult, error) {
	// Let the server reach its steady state: a few requests, then quiet.
	warm, err := openIdle(ctx, s.addr, 16)
	closeAll(warm)
	if err != nil {
		return idleResult{}, err
	}
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return idleResult{}, err
	}
	base, baseChildren, err := treeRSS(s.proc.pid())
	if err != nil {
		return idleResult{}, err
	}
	conns, err := openIdle(ctx, s.addr, n)
	defer closeAll(conns)
	if err != nil {
		return idleResult{}, err
	}
	if err := sleep(ctx, idleSettle); err != nil {
		return idleResult{}, err
	}
	now, nowChildren, err := treeRSS(s.proc.pid())
	if err != nil {
		return idleResult{}, err
	}
	// Every connection must still be open: a server that closed them
	// would look cheap.
	if closed := countClosed(conns); closed > 0 {
		return idleResult{}, fmt.Errorf("%d of %d idle connections were closed by the server", closed, n)
	}
	return idleResult{conns: n, baseKiB: base, nowKiB: now, childGrowthKiB: nowChildren - baseChildren}, s.alive()
}

// openIdle opens n keep-alive connections to addr, 64 at a time, and
// completes one GET / on each.
func openIdle(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range min(n, 64) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				c, err := oneRequest(addr)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("connection %d of %d: %w", i+1, n, err) })
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return conns, firstErr
}

// oneRequest dials addr and completes one GET / on the connection, which
// it returns open.
func oneRequest(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := func() (*http.Response, error) {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
			return nil, err
		}
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 1024), nil)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return resp, err
	}()
	if err == nil && (resp.StatusCode != 200 || resp.Close) {
		err = fmt.Errorf("status %d, close %v", resp.StatusCode, resp.Close)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// countClosed counts the connections the server has closed (or reset):
// a peek that finds the end of the stream instead of nothing to read.
func countClosed(conns []net.Conn) int {
	closed := 0
	var b [1]byte
	for _, c := range conns {
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			closed++
			continue
		}
		var n int
		var rerr error
		_ = raw.Control(func(fd uintptr) {
			n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		})
		if rerr == nil && n == 0 || rerr != nil && rerr != syscall.EAGAIN {
			closed++
		}
	}
	return closed
}

// closeAll closes the connections with a reset, so that thousands of them
// leave no TIME_WAIT behind.
func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c == nil {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
