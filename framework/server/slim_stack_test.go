//go:build !race

package server

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Without -race: the race detector makes every frame larger.
func TestSlimConnectionsHoldTheSmallestStack(t *testing.T) {
	srv, addr, _ := slimServer(t, 20*time.Millisecond, Options{KeepAliveTimeout: time.Minute})
	stacks := func() uint64 {
		// Stacks freed into a per-P cache reach the pool at one
		// collection and leave it at the next.
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.StackInuse
	}
	before := stacks()
	const n = 400
	for range n {
		require.NoError(t, dialSlim(t, addr).get())
	}
	require.Eventually(t, func() bool { return allSlim(srv, n) }, 10*time.Second, 5*time.Millisecond)
	// The goroutine that served a request has a 4 KiB stack or more.
	perConn := float64(stacks()-before) / n
	require.LessOrEqual(t, perConn, 2.5*1024, "stack bytes per idle connection")
}
