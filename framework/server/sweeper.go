package server

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Resolution bounds of the sweeper's tick.
const (
	minTick = 5 * time.Millisecond
	maxTick = 250 * time.Millisecond
)

// sweeper enforces the timeouts of all of a server's connections from one
// goroutine. Connections stamp their state changes with its coarse clock
// (an atomic load), so a request costs no timer operation; the sweeper
// compares the stamps with the limits every tick. Timeouts therefore fire
// up to one tick late; the tick is an eighth of the shortest timeout in
// use, between 5 ms and 250 ms.
type sweeper struct {
	srv   *Server
	clock atomic.Int64 // Unix ns, refreshed every tick
	tick  atomic.Int64 // ns
	once  sync.Once
	quit  chan struct{}
	kick  chan struct{}
	stopO sync.Once
	list  []*conn // reused snapshot

	// Connections slimmed down since the last release of memory, and
	// what releaseStacks keeps (owned by run): the count at the previous
	// sweep, when the first came, when memory was last released.
	released       atomic.Int64
	releasedBefore int64
	pendingSince   int64
	lastRelease    int64

	// slimAfter and freeOSMemory are those of slim.go; tests change them
	// before the server starts.
	slimAfter    time.Duration
	freeOSMemory func()
	// timeNow is the time source, in Unix ns. A test may replace it with
	// a clock it moves, and set manual so that the sweeper never ticks on
	// its own: the test then calls tickAt (export_test.go's Clock).
	timeNow func() int64
	manual  bool

	// onWatch, set by tests, is told what the close watches do, so that
	// a test can act once a watch is parked rather than guess when.
	onWatch atomic.Pointer[func(event string)]
}

// watchEvent tells a test's hook what a close watch did.
func (w *sweeper) watchEvent(event string) {
	if f := w.onWatch.Load(); f != nil {
		(*f)(event)
	}
}

func (w *sweeper) init(s *Server) {
	w.srv = s
	w.quit = make(chan struct{})
	w.kick = make(chan struct{}, 1)
	w.timeNow = func() int64 { return time.Now().UnixNano() }
	w.clock.Store(w.timeNow())
	w.slimAfter, w.freeOSMemory = slimAfter, debug.FreeOSMemory
	cfg := s.cfg
	w.tick.Store(int64(maxTick))
	for _, d := range []time.Duration{cfg.headersTimeout, cfg.requestTimeout, cfg.keepAliveTimeout, cfg.Timeout} {
		w.wantResolution(d)
	}
}

// now returns the sweeper's clock.
func (w *sweeper) now() int64 { return w.clock.Load() }

// wantResolution makes the tick fine enough for a timeout of d.
func (w *sweeper) wantResolution(d time.Duration) {
	if d <= 0 {
		return
	}
	t := int64(min(max(d/8, minTick), maxTick))
	for {
		cur := w.tick.Load()
		if t >= cur {
			return
		}
		if w.tick.CompareAndSwap(cur, t) {
			select {
			case w.kick <- struct{}{}:
			default:
			}
			return
		}
	}
}

// start runs the sweeper. It refreshes the clock first: connections
// stamp it before the first tick, and the server may have been created
// long before it serves.
func (w *sweeper) start() {
	w.once.Do(func() {
		w.clock.Store(w.timeNow())
		if !w.manual {
			go w.run()
		}
	})
}

func (w *sweeper) stop() { w.stopO.Do(func() { close(w.quit) }) }

func (w *sweeper) run() {
	t := time.NewTimer(time.Duration(w.tick.Load()))
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-w.kick:
		case <-t.C:
		}
		w.tickAt(w.timeNow())
		t.Reset(time.Duration(w.tick.Load()))
	}
}

// tickAt is one tick: the clock moves to now, and every connection is
// checked against it.
func (w *sweeper) tickAt(now int64) {
	w.clock.Store(now)
	w.sweep(now)
}

// sweep checks every connection once.
func (w *sweeper) sweep(now int64) {
	s := w.srv
	s.mu.Lock()
	w.list = w.list[:0]
	for c := range s.conns {
		w.list = append(w.list, c)
	}
	s.mu.Unlock()
	for i, c := range w.list {
		w.check(c, now)
		w.list[i] = nil
	}
	w.releaseStacks(now)
}

func (w *sweeper) check(c *conn, now int64) {
	cfg := w.srv.cfg
	expired := func(since int64, limit time.Duration) bool {
		return limit > 0 && now-since >= int64(limit)
	}
	switch s := c.state.Load(); s {
	case stateIdle, stateSlimming:
		// Between requests the keep-alive timeout replaces the socket
		// timeout, as in Node; with no keep-alive timeout the socket
		// timeout goes on applying.
		idle := c.since.Load()
		if cfg.keepAliveTimeout > 0 && expired(idle, cfg.keepAliveTimeout) {
			c.closeIfIdle()
			return
		}
		if s == stateIdle && expired(idle, w.slimAfter) {
			c.slimDown()
		}
		if cfg.keepAliveTimeout > 0 {
			return
		}
	case stateHead:
		start := c.msgStart.Load()
		if expired(start, cfg.headersTimeout) || expired(start, cfg.requestTimeout) {
			if c.expiring.CompareAndSwap(false, true) {
				go c.expire(ErrRequestTimeout)
			}
			return
		}
	case stateActive:
		if !c.complete.Load() {
			if expired(c.msgStart.Load(), cfg.requestTimeout) {
				if c.expiring.CompareAndSwap(false, true) {
					go c.expire(ErrRequestTimeout)
				}
				return
			}
		} else if expired(c.since.Load(), time.Duration(w.tick.Load())) {
			c.watch.arm(c)
		}
	default:
		return
	}
	limit := time.Duration(c.timeoutAt.Load())
	if limit == 0 {
		limit = cfg.Timeout
	}
	if expired(c.lastActive.Load(), limit) && c.timedOut.CompareAndSwap(false, true) {
		go c.inactive(limit)
	}
}
