package sdk

import (
	"runtime/debug"
	"sync"
	"time"
)

// idleRelease is how long a plugin stays without a request in flight
// before it gives its free memory back.
const idleRelease = 500 * time.Millisecond

// freeOSMemory is debug.FreeOSMemory, and afterFunc time.AfterFunc;
// tests replace them, the latter with timers they fire themselves.
var (
	freeOSMemory        = debug.FreeOSMemory
	defaultFreeOSMemory = debug.FreeOSMemory
	afterFunc           = func(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }
	defaultAfterFunc    = afterFunc
)

// timer is the part of *time.Timer memoryRelease uses.
type timer interface{ Reset(time.Duration) bool }

// memoryRelease returns a plugin's free memory to the system once it goes
// idle after serving requests. A burst leaves the heap at the garbage
// collector's goal, megabytes that the runtime otherwise returns only
// slowly; hostd may run many plugins, most of them idle most of the time.
type memoryRelease struct {
	enabled bool // immutable

	mu    sync.Mutex
	timer timer
}

// idle is called when the last request in flight ends.
func (m *memoryRelease) idle() {
	if !m.enabled {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer == nil {
		m.timer = afterFunc(idleRelease, func() { freeOSMemory() })
		return
	}
	// Another request since: start the wait again.
	m.timer.Reset(idleRelease)
}
