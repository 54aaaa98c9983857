package server

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// An idle keep-alive connection costs little more than the stack of the
// goroutine waiting on it, and that stack has grown to fit the deepest
// request the goroutine served (4 KiB or more) while the wait itself needs
// a few hundred bytes. The runtime does not give a waiting goroutine's
// stack back: a collection only halves a stack that is three quarters
// unused, counting a guard of 800 bytes. So a connection idle for
// slimAfter hands its wait over to a fresh goroutine, which starts on the
// smallest stack (2 KiB) and keeps it until the next request arrives.
// Busy connections never pay for this: the sweeper picks the ones that
// stayed idle, and each pays once per idle period.
const slimAfter = time.Second

// The stacks given up go back to the runtime, which returns free memory
// to the system only after a collection has freed their spans, and an
// idle server may not collect for minutes. So once at least releaseBatch
// connections have slimmed down, the sweeper runs a collection and
// returns free memory at once: when a sweep finds that no more have
// slimmed down since the previous one (the wave has passed), or
// releaseEvery after the first of them if they keep coming; and never
// twice within releaseEvery.
const (
	releaseBatch = 256 // about 1 MiB of stacks
	releaseEvery = 10 * time.Second
)

// slimDown asks the goroutine of a connection idle for slimAfter to hand
// over to a fresh one, from the sweeper. A past read deadline wakes the
// goroutine; it takes mu before clearing the deadline (slimmed), so the
// deadline is set by then. TryLock: the sweeper never waits on a
// connection.
func (c *conn) slimDown() {
	if c.rc == nil || c.slim.Load() || !c.mu.TryLock() {
		return
	}
	if c.state.CompareAndSwap(stateIdle, stateSlimming) {
		_ = c.nc.SetReadDeadline(time.Unix(1, 0))
	}
	c.mu.Unlock()
}

// slimmed settles a slimDown once the waiting goroutine woke, with err
// from its read. It reports whether the goroutine should hand over: the
// deadline woke it, rather than the next request or a close.
func (c *conn) slimmed(err error) bool {
	c.mu.Lock()
	_ = c.nc.SetReadDeadline(time.Time{})
	idle := c.state.CompareAndSwap(stateSlimming, stateIdle) // or the server closed it
	c.mu.Unlock()
	return idle && errors.Is(err, os.ErrDeadlineExceeded)
}

// serveSlim is the fresh goroutine of a slimmed-down connection. It waits
// until the socket is readable, reading nothing and holding no buffer,
// then serves the connection as before; its stack grows back as the
// request needs.
func (c *conn) serveSlim() {
	_ = c.rc.Read(func(fd uintptr) bool {
		_, err := peek(fd)
		return err != syscall.EAGAIN
	})
	// Readable, at end of file or closed: serve tells which.
	c.slim.Store(false)
	c.serve(nil)
}

// peek reads one byte of fd without consuming it, without blocking. It
// returns 0 and no error at end of file, and syscall.EAGAIN when there is
// nothing to read yet.
func peek(fd uintptr) (int, error) {
	var b [1]byte
	for {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// releaseStacks returns free memory to the system, from the sweeper, when
// enough idle connections have given up their stacks.
func (w *sweeper) releaseStacks(now int64) {
	if w.releaseDue(now) {
		go w.freeOSMemory()
	}
}

// releaseDue applies the policy above at a sweep; when it says yes, the
// connections counted so far are taken as released.
func (w *sweeper) releaseDue(now int64) bool {
	n := w.released.Load()
	settled := n == w.releasedBefore
	w.releasedBefore = n
	if n == 0 {
		return false
	}
	if w.pendingSince == 0 {
		w.pendingSince = now
	}
	if n < releaseBatch || now-w.lastRelease < int64(releaseEvery) || !settled && now-w.pendingSince < int64(releaseEvery) {
		return false
	}
	w.released.Add(-n)
	w.releasedBefore -= n
	w.pendingSince = 0
	w.lastRelease = now
	return true
}
