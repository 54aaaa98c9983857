package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/metrics"
	"github.com/hostd/hostd/protocol"
)

func TestARouteCountsByEventAndStatusClass(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	r := m.Route("/echo", "echo", protocol.EventRequest)
	r.Done(protocol.EventRequest, 200, time.Millisecond)
	r.Done(protocol.EventRequest, 204, time.Millisecond)
	r.Done(protocol.EventRequest, 503, time.Second)
	r.Done(protocol.EventCheckContinue, 100, time.Millisecond) // not prepared: resolved then
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP hostd_requests_total Requests answered, by route, plugin, event and status class (1xx … 5xx). Upgrades and CONNECTs count here only when hostd answered them itself.
# TYPE hostd_requests_total counter
hostd_requests_total{code="1xx",event="checkContinue",plugin="echo",route="/echo"} 1
hostd_requests_total{code="1xx",event="request",plugin="echo",route="/echo"} 0
hostd_requests_total{code="2xx",event="checkContinue",plugin="echo",route="/echo"} 0
hostd_requests_total{code="2xx",event="request",plugin="echo",route="/echo"} 2
hostd_requests_total{code="3xx",event="checkContinue",plugin="echo",route="/echo"} 0
hostd_requests_total{code="3xx",event="request",plugin="echo",route="/echo"} 0
hostd_requests_total{code="4xx",event="checkContinue",plugin="echo",route="/echo"} 0
hostd_requests_total{code="4xx",event="request",plugin="echo",route="/echo"} 0
hostd_requests_total{code="5xx",event="checkContinue",plugin="echo",route="/echo"} 0
hostd_requests_total{code="5xx",event="request",plugin="echo",route="/echo"} 1
`), "hostd_requests_total"))
}

// Nil metrics record nothing and do not panic: hostd without the admin
// API holds nil.
func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	m.Accepted()
	m.ClientError("HPE_X")
	m.Timeout("p")
	m.ObserveOpenConnections(func() int { return 1 })
	m.Route("/", "p", protocol.EventRequest).Done(protocol.EventRequest, 200, time.Second)
	p := m.Plugin("p")
	p.Begin()
	p.End()
	p.Hop(time.Second)
	p.Restarted()
	p.Swapped()
	p.Drained(time.Second)
	s := p.Sockets(protocol.EventUpgrade)
	s.Passed()
	s.Relaying()
	s.In(1)
	s.Out(1)
	s.Closed()
}
