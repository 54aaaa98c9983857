package server

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"
)

// slimServer runs a hello-world server whose idle connections slim down
// after slim, and replaces freeOSMemory with a counter.
func slimServer(t *testing.T, slim time.Duration, o Options) (*Server, string, *atomic.Int32) {
	t.Helper()
	o.Logger = hclog.NewNullLogger()
	o.Handlers.Request = func(_ *IncomingMessage, res *ServerResponse) { _ = res.EndString("hello world") }
	srv := New(o)
	var released atomic.Int32
	srv.sweeper.slimAfter = slim
	srv.sweeper.freeOSMemory = func() { released.Add(1) }
	l, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = srv.Close()
		srv.CloseAllConnections()
		select {
		case <-srv.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("%d connections left", srv.ConnectionCount())
		}
	})
	return srv, l.Addr().String(), &released
}

// slimClient is a keep-alive connection that sends GET / and checks the
// answer.
type slimClient struct {
	net.Conn
	r *bufio.Reader
}

func dialSlim(t *testing.T, addr string) *slimClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(30*time.Second)))
	return &slimClient{Conn: nc, r: bufio.NewReaderSize(nc, 512)}
}

func (c *slimClient) get() error {
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	if err == nil && string(body) != "hello world" {
		err = fmt.Errorf("answered %d %q", res.StatusCode, body)
	}
	return err
}

func allSlim(s *Server, n int) bool {
	cs := s.snapshot()
	if len(cs) != n {
		return false
	}
	for _, c := range cs {
		if !c.slim.Load() {
			return false
		}
	}
	return true
}

func TestIdleConnectionsSlimDownAndServeOn(t *testing.T) {
	srv, addr, released := slimServer(t, 20*time.Millisecond, Options{KeepAliveTimeout: time.Minute})
	const n = releaseBatch + 44
	clients := make([]*slimClient, n)
	for i := range clients {
		clients[i] = dialSlim(t, addr)
		require.NoError(t, clients[i].get())
	}
	require.Eventually(t, func() bool { return allSlim(srv, n) }, 10*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return released.Load() == 1 }, 10*time.Second, 5*time.Millisecond,
		"memory returned once %d connections gave up their stacks", releaseBatch)

	for round := range 2 { // the fresh goroutines serve, then slim down again
		for i, c := range clients {
			require.NoError(t, c.get(), "round %d, connection %d", round, i)
		}
		require.Eventually(t, func() bool { return allSlim(srv, n) }, 10*time.Second, 5*time.Millisecond)
	}
	require.EqualValues(t, 1, released.Load(), "at most once per %v", releaseEvery)
}

func TestSlimConnectionsStillTimeOutAndClose(t *testing.T) {
	srv, addr, _ := slimServer(t, 10*time.Millisecond, Options{KeepAliveTimeout: 400 * time.Millisecond})
	a, b := dialSlim(t, addr), dialSlim(t, addr)
	require.NoError(t, a.get())
	require.NoError(t, b.get())
	require.Eventually(t, func() bool { return allSlim(srv, 2) }, 10*time.Second, 5*time.Millisecond)

	// The client leaves: the fresh goroutine sees the end of file.
	require.NoError(t, b.Close())
	require.Eventually(t, func() bool { return srv.ConnectionCount() == 1 }, 10*time.Second, 5*time.Millisecond)

	// The keep-alive timeout still counts from the end of the response.
	_, err := a.r.ReadByte()
	require.ErrorIs(t, err, io.EOF)
	require.Eventually(t, func() bool { return srv.ConnectionCount() == 0 }, 10*time.Second, 5*time.Millisecond)

	c := dialSlim(t, addr)
	require.NoError(t, c.get())
	require.Eventually(t, func() bool { return allSlim(srv, 1) }, 10*time.Second, 5*time.Millisecond)
	srv.CloseIdleConnections()
	_, err = c.r.ReadByte()
	require.ErrorIs(t, err, io.EOF)
	require.Eventually(t, func() bool { return srv.ConnectionCount() == 0 }, 10*time.Second, 5*time.Millisecond)
}

// Requests that arrive while the sweeper wakes their connection's
// goroutine must be served, whichever side of the wake-up they land on.
func TestRequestsRacingTheSlimDownAreServed(t *testing.T) {
	// A tiny slimAfter slims every idle connection at every tick, and the
	// headers timeout makes the tick the shortest there is.
	_, addr, _ := slimServer(t, time.Nanosecond, Options{KeepAliveTimeout: time.Minute, HeadersTimeout: 40 * time.Millisecond})
	const clients, requests = 16, 150
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		c := dialSlim(t, addr)
		wg.Go(func() {
			for range requests {
				if err := c.get(); err != nil {
					errs <- err
					return
				}
				time.Sleep(rand.N(8 * time.Millisecond))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestMemoryIsReleasedOnceAWaveOfSlimmingHasPassed(t *testing.T) {
	w := &sweeper{}
	due := func(now time.Duration) bool { return w.releaseDue(int64(now)) }
	tick := 250 * time.Millisecond
	now := time.Hour // a clock well past zero, as the real one is

	// A few idle connections: never worth a collection.
	w.released.Add(releaseBatch - 1)
	for range 3 {
		require.False(t, due(now))
		now += tick
	}
	// A wave: nothing while it goes on, one release once it has passed.
	for range 4 {
		w.released.Add(100)
		require.False(t, due(now), "the wave is still coming")
		now += tick
	}
	require.True(t, due(now), "the wave has passed")
	require.Zero(t, w.released.Load())

	// Another wave soon after waits for releaseEvery since the last one.
	w.released.Add(2 * releaseBatch)
	now += tick
	require.False(t, due(now))
	now += tick
	require.False(t, due(now), "settled, but released %v ago", 2*tick)
	now += releaseEvery
	require.True(t, due(now))

	// Slimming that never stops is released releaseEvery after it began.
	began := now + tick
	for now = began; now-began < releaseEvery; now += tick {
		w.released.Add(releaseBatch)
		require.False(t, due(now), "at %v", now-began)
	}
	w.released.Add(releaseBatch)
	require.True(t, due(now))
}

// A slimDown that lands after the read of the next request, before the
// connection leaves stateIdle, must not leave its past deadline behind:
// the request goes on, and the reads of the rest of its head succeed.
func TestASlimDownRacingTheNextRequestIsUndone(t *testing.T) {
	srv := New(Options{Logger: hclog.NewNullLogger()})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	nc, err := l.Accept()
	require.NoError(t, err)
	defer nc.Close()
	c := newConn(srv, nc)
	c.ex = acquireExchange()
	defer func() { c.ex.release() }()

	c.state.Store(stateIdle)
	c.slimDown() // the sweeper, between the read and startHead
	require.Equal(t, stateSlimming, c.state.Load())
	require.True(t, c.startHead())
	require.Equal(t, stateHead, c.state.Load())

	_, err = io.WriteString(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, c.fill(), "a read after the undone slimDown")
}
