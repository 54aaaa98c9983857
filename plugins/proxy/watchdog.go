package proxy

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostd/hostd/sdk/client"
)

// errTimeout ends an exchange whose upstream stayed silent for the
// configured timeout; errClientGone one whose client went away.
var (
	errTimeout    = errors.New("no byte from the upstream within the timeout")
	errClientGone = errors.New("the client went away")
)

// watchdog destroys the upstream request of an exchange that has moved no
// byte for its timeout while it was not waiting for the client: waiting
// in the pool, dialling, waiting for an answer or for more of its body,
// or writing to an upstream that does not read. Time spent blocked on
// the client (a slow upload, a slow reader) does not count: that is
// back-pressure, not a silent upstream. It also ends the exchange when
// the client goes away (end).
type watchdog struct {
	d    time.Duration // immutable
	last atomic.Int64  // unix nanoseconds of the last progress
	busy atomic.Int32  // calls blocked on the client

	mu    sync.Mutex
	timer *time.Timer           // guarded by mu
	creq  *client.ClientRequest // the attempt in flight; guarded by mu
	cause error                 // why the exchange ended early; guarded by mu
}

func newWatchdog(d time.Duration) *watchdog {
	w := &watchdog{d: d}
	w.kick()
	w.mu.Lock() // check may run before AfterFunc returns
	w.timer = time.AfterFunc(d, w.check)
	w.mu.Unlock()
	return w
}

// kick records progress.
func (w *watchdog) kick() { w.last.Store(time.Now().UnixNano()) }

// watch makes creq the request to destroy when the time is up, or
// destroys it if the exchange has ended already.
func (w *watchdog) watch(creq *client.ClientRequest) {
	w.mu.Lock()
	w.creq = creq
	cause := w.cause
	w.mu.Unlock()
	if cause != nil {
		creq.Destroy(cause)
	}
}

// end destroys the upstream request with cause, and any attempt after it.
func (w *watchdog) end(cause error) {
	w.mu.Lock()
	if w.cause != nil {
		w.mu.Unlock()
		return
	}
	w.cause = cause
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	creq := w.creq
	w.mu.Unlock()
	if creq != nil {
		creq.Destroy(cause)
	}
}

// waitClient brackets a call that waits for the client: waitClient()
// before, the returned function after.
func (w *watchdog) waitClient() func() {
	w.busy.Add(1)
	return func() { w.busy.Add(-1); w.kick() }
}

// check runs when the timer fires: it sleeps again if there was progress
// since, or if the exchange waits for the client, and otherwise destroys
// the upstream request.
func (w *watchdog) check() {
	w.mu.Lock()
	if w.timer == nil { // stopped
		w.mu.Unlock()
		return
	}
	wait := w.d - time.Duration(time.Now().UnixNano()-w.last.Load())
	if w.busy.Load() > 0 {
		wait = w.d
	}
	if wait > 0 {
		w.timer.Reset(wait)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	w.end(errTimeout)
}

// stop ends the watch.
func (w *watchdog) stop() {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
}
