package sdk

import (
	"runtime/debug"
	"sync"
	"time"
)

// idleRelease is how long a plugin stays without a request in flight
// before it gives its free memory back.
const idleRelease = 500 * time.Millisecond

// freeOSMemory is debug.FreeOSMemory, replaced in tests.
var (
	freeOSMemory        = debug.FreeOSMemory
	defaultFreeOSMemory = debug.FreeOSMemory
)

// memoryRelease returns a plugin's free memory to the system once it goes
// idle after serving requests. A burst leaves the heap at the garbage
// collector's goal, megabytes that the runtime otherwise returns only
// slowly; hostd may run many plugins, most of them idle most of the time.
type memoryRelease struct {
	enabled bool // immutable

	mu    sync.Mutex
	timer *time.Timer
}

// idle is called when the last request in flight ends.
func (m *memoryRelease) idle() {
	if !m.enabled {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer == nil {
		m.timer = time.AfterFunc(idleRelease, func() { freeOSMemory() })
		return
	}
	// Another request since: start the wait again.
	m.timer.Reset(idleRelease)
}
