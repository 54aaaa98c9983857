package server

import (
	"sync"
	"time"
)

// OnCloseWatch has f told, from the watch's goroutine, when a close watch
// of srv parks on its socket ("parked") and when it sees the client's next
// request rather than a departure ("data").
func OnCloseWatch(srv *Server, f func(event string)) { srv.sweeper.onWatch.Store(&f) }

// Clock is a manual clock for a server's timeouts. Once a test has made
// one (before the server listens), the sweeper no longer ticks on its own:
// time moves only with Advance, and timeouts are checked only by Tick, so
// a test decides exactly how much time passes between two of its steps.
type Clock struct {
	srv *Server
	mu  sync.Mutex
	now int64
}

// ManualClock gives srv a manual clock, starting at the current time.
func ManualClock(srv *Server) *Clock {
	c := &Clock{srv: srv, now: time.Now().UnixNano()}
	srv.sweeper.timeNow = c.read
	srv.sweeper.manual = true
	srv.sweeper.clock.Store(c.now)
	return c
}

func (c *Clock) read() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d without a tick, as time passes between
// two ticks of the sweeper (or before the server starts).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now += int64(d)
	c.mu.Unlock()
}

// Tick runs one tick of the sweeper at the clock's time, in the calling
// goroutine: what a tick decides is decided when Tick returns (what it
// starts, such as writing a 408, runs on).
func (c *Clock) Tick() { c.srv.sweeper.tickAt(c.read()) }

// Receiving reports whether a connection of srv has read the first bytes
// of a request head it has not finished, so that its request clock runs.
func Receiving(srv *Server) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		if c.state.Load() == stateHead && c.received.Load() {
			return true
		}
	}
	return false
}

// Idle reports whether a connection of srv is between requests.
func Idle(srv *Server) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		if c.state.Load() == stateIdle {
			return true
		}
	}
	return false
}

// Expired reports whether a tick has acted on a timeout of a connection
// of srv: a 408 or destroy under way, a timeout event, or an idle
// connection closed. A tick decides this before it returns, so a test can
// assert that a timeout has not fired yet.
func Expired(srv *Server) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		if c.expiring.Load() || c.timedOut.Load() || c.state.Load() == stateClosed {
			return true
		}
	}
	return false
}
