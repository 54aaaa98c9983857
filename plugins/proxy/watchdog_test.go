package proxy

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// The watchdog runs on synctest's clock: time passes only when every
// goroutine of the bubble waits, so these tests take no real time.

func (w *watchdog) hasFired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cause == errTimeout
}

func TestWatchdogFiresAfterTheTimeoutWithoutProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(time.Second)
		defer w.stop()
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		require.False(t, w.hasFired())
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		require.True(t, w.hasFired())
	})
}

func TestWatchdogProgressPutsItOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(time.Second)
		defer w.stop()
		for range 5 {
			time.Sleep(600 * time.Millisecond)
			w.kick()
		}
		synctest.Wait()
		require.False(t, w.hasFired(), "3 s with a byte every 600 ms")
		time.Sleep(1001 * time.Millisecond)
		synctest.Wait()
		require.True(t, w.hasFired())
	})
}

func TestWatchdogDoesNotCountTimeSpentWaitingForTheClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(time.Second)
		defer w.stop()
		done := w.waitClient()
		time.Sleep(10 * time.Second) // a slow client: back-pressure
		synctest.Wait()
		require.False(t, w.hasFired())
		done()
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		require.False(t, w.hasFired(), "the time counts from the client's answer")
		time.Sleep(1002 * time.Millisecond)
		synctest.Wait()
		require.True(t, w.hasFired())
	})
}

func TestWatchdogStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWatchdog(time.Second)
		w.stop()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.False(t, w.hasFired())
	})
}
