//go:build !race

package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/metrics"
	"github.com/hostd/hostd/protocol"
)

// The per-request hooks allocate nothing: their children are resolved
// beforehand.
func TestPerRequestHooksDoNotAllocate(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	r := m.Route("/echo", "echo", protocol.EventRequest)
	p := m.Plugin("echo")
	allocs := testing.AllocsPerRun(100, func() {
		p.Begin()
		p.Hop(150 * time.Microsecond)
		p.End()
		r.Done(protocol.EventRequest, 200, 300*time.Microsecond)
		m.Accepted()
	})
	require.Zero(t, allocs)
}
