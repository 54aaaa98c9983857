package sdk

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAnIdlePluginReleasesItsMemoryOnce(t *testing.T) {
	var calls atomic.Int32
	freeOSMemory = func() { calls.Add(1) }
	t.Cleanup(func() { freeOSMemory = defaultFreeOSMemory })

	m := memoryRelease{enabled: true}
	last := time.Now()
	longestGap := time.Duration(0)
	for range 5 { // a burst: each request ends while the wait is on
		m.idle()
		now := time.Now()
		longestGap = max(longestGap, now.Sub(last))
		last = now
		time.Sleep(idleRelease / 10)
	}
	fired := calls.Load()
	longestGap = max(longestGap, time.Since(last))
	if longestGap < idleRelease { // a stalled machine may have let it fire
		require.Zero(t, fired, "not while requests keep coming")
	}
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*idleRelease, 10*time.Millisecond)
	time.Sleep(2 * idleRelease)
	require.EqualValues(t, 1, calls.Load(), "once per idle period")

	off := memoryRelease{}
	off.idle()
	time.Sleep(2 * idleRelease)
	require.EqualValues(t, 1, calls.Load(), "not in a program that serves a connection itself")
}
