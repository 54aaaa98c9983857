package server

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// closeWatch notices a client that goes away while its response is still
// being produced, so that the request is aborted (OnAborted) instead of
// running on for nobody. Watching needs a goroutine parked on the socket,
// so it starts only for responses that take longer than a sweeper tick
// once the request is complete; fast responses never pay for it.
type closeWatch struct {
	mu      sync.Mutex
	running bool
	done    chan struct{}
	// sawData: the next request's bytes arrived, so there is nothing more
	// to learn until the response is done.
	sawData atomic.Bool
}

// arm starts watching c, from the sweeper.
func (w *closeWatch) arm(c *conn) {
	if c.rc == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running || w.sawData.Load() {
		return
	}
	w.running = true
	w.done = make(chan struct{})
	go c.watchClose(w.done)
}

// stop ends the watch before the connection reads again: a past read
// deadline wakes the parked goroutine.
func (w *closeWatch) stop(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sawData.Store(false)
	if !w.running {
		return
	}
	_ = c.nc.SetReadDeadline(time.Unix(1, 0))
	<-w.done
	_ = c.nc.SetReadDeadline(time.Time{})
	w.running = false
}

// watchClose peeks at the socket without consuming anything: end of file
// or an error means the client is gone.
func (c *conn) watchClose(done chan struct{}) {
	defer close(done)
	gone, data, parked := false, false, false
	err := c.rc.Read(func(fd uintptr) bool {
		n, err := peek(fd)
		switch {
		case err == syscall.EAGAIN:
			if !parked {
				parked = true
				c.srv.sweeper.watchEvent(watchParked)
			}
			return false
		case err != nil || n == 0:
			gone = true
		default:
			data = true
		}
		return true
	})
	if err != nil {
		return // stopped, or the socket closed
	}
	if data {
		c.watch.sawData.Store(true)
		c.srv.sweeper.watchEvent(watchSawData)
	}
	if gone {
		c.destroy()
	}
}

// What a close watch reports to a test's hook (sweeper.onWatch).
const (
	// watchParked: the watch waits on the socket for the client to leave.
	watchParked = "parked"
	// watchSawData: the client's next request arrived; the watch ends
	// without taking it for a departure.
	watchSawData = "data"
)
