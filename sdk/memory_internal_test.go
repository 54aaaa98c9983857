package sdk

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeTimer is a timer the test fires.
type fakeTimer struct {
	d      time.Duration
	f      func()
	resets int
}

func (t *fakeTimer) Reset(d time.Duration) bool { t.d = d; t.resets++; return true }

// fakeTimers replaces afterFunc for the test and lists the timers made.
func fakeTimers(t *testing.T) *[]*fakeTimer {
	var made []*fakeTimer
	afterFunc = func(d time.Duration, f func()) timer {
		ft := &fakeTimer{d: d, f: f}
		made = append(made, ft)
		return ft
	}
	t.Cleanup(func() { afterFunc = defaultAfterFunc })
	return &made
}

func TestAnIdlePluginReleasesItsMemoryOnce(t *testing.T) {
	var calls atomic.Int32
	freeOSMemory = func() { calls.Add(1) }
	t.Cleanup(func() { freeOSMemory = defaultFreeOSMemory })
	timers := fakeTimers(t)

	m := memoryRelease{enabled: true}
	for range 5 { // a burst: each request ends while the wait is on
		m.idle()
	}
	require.Len(t, *timers, 1, "one timer for the plugin")
	ft := (*timers)[0]
	require.Equal(t, idleRelease, ft.d)
	require.Equal(t, 4, ft.resets, "each later idle starts the wait again")
	require.Zero(t, calls.Load(), "nothing is released before the wait ends")

	ft.f() // the plugin stayed idle for idleRelease
	require.EqualValues(t, 1, calls.Load(), "once per idle period")

	m.idle() // served again, idle again
	require.Len(t, *timers, 1)
	require.Equal(t, 5, ft.resets)
	ft.f()
	require.EqualValues(t, 2, calls.Load())

	off := memoryRelease{}
	off.idle()
	require.Len(t, *timers, 1, "not in a program that serves a connection itself")
}

// The real timer fires: the seam above replaces only time.AfterFunc.
func TestMemoryReleaseFiresWithTheRealClock(t *testing.T) {
	released := make(chan struct{}, 1)
	freeOSMemory = func() { released <- struct{}{} }
	t.Cleanup(func() { freeOSMemory = defaultFreeOSMemory })
	m := memoryRelease{enabled: true}
	m.idle()
	select {
	case <-released:
	case <-time.After(10 * idleRelease):
		t.Fatal("no release after the idle period")
	}
}
