package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hostd/hostd/protocol"
)

// Plugin holds the children of one plugin's metrics, resolved when its
// supervisor is created; they outlive its generations.
type Plugin struct {
	m        *Metrics
	name     string
	hop      prometheus.Observer
	inFlight prometheus.Gauge
	restarts prometheus.Counter
	swaps    prometheus.Counter
	drain    prometheus.Observer
	// sockets are resolved at the first socket of each event, since most
	// plugins take none: [0] upgrade, [1] connect.
	sockets [2]atomic.Pointer[Sockets]
}

// Plugin resolves the children of the plugin name.
func (m *Metrics) Plugin(name string) *Plugin {
	if m == nil {
		return nil
	}
	return &Plugin{
		m:        m,
		name:     name,
		hop:      m.hop.WithLabelValues(name),
		inFlight: m.inFlight.WithLabelValues(name),
		restarts: m.restarts.WithLabelValues(name),
		swaps:    m.swaps.WithLabelValues(name),
		drain:    m.drain.WithLabelValues(name),
	}
}

// Hop records the time from a request sent to the plugin to its first
// answer.
func (p *Plugin) Hop(d time.Duration) {
	if p != nil {
		p.hop.Observe(seconds(d))
	}
}

// Begin and End count a request handed to the plugin, and its end.
func (p *Plugin) Begin() {
	if p != nil {
		p.inFlight.Inc()
	}
}

// End: see Begin.
func (p *Plugin) End() {
	if p != nil {
		p.inFlight.Dec()
	}
}

// Restarted counts a generation started after a crash.
func (p *Plugin) Restarted() {
	if p != nil {
		p.restarts.Inc()
	}
}

// Swapped counts a generation published in place of another.
func (p *Plugin) Swapped() {
	if p != nil {
		p.swaps.Inc()
	}
}

// Drained records how long a retired generation took to drain.
func (p *Plugin) Drained(d time.Duration) {
	if p != nil {
		p.drain.Observe(seconds(d))
	}
}

// Sockets holds the socket metrics of one plugin and event.
type Sockets struct {
	passed, relayed prometheus.Counter
	open            prometheus.Gauge
	in, out         prometheus.Counter
}

// Sockets returns the socket metrics for event (protocol.EventUpgrade or
// protocol.EventConnect), or nil.
func (p *Plugin) Sockets(event protocol.Event) *Sockets {
	if p == nil || event != protocol.EventUpgrade && event != protocol.EventConnect {
		return nil
	}
	i := int(event - protocol.EventUpgrade)
	if s := p.sockets[i].Load(); s != nil {
		return s
	}
	name := event.String()
	s := &Sockets{
		passed:  p.m.sockets.WithLabelValues(p.name, name, "passed"),
		relayed: p.m.sockets.WithLabelValues(p.name, name, "relayed"),
		open:    p.m.socketsOpen.WithLabelValues(p.name, name),
		in:      p.m.relayed.WithLabelValues(p.name, name, "in"),
		out:     p.m.relayed.WithLabelValues(p.name, name, "out"),
	}
	if !p.sockets[i].CompareAndSwap(nil, s) {
		return p.sockets[i].Load()
	}
	return s
}

// Passed counts a socket whose descriptor went to the plugin. hostd
// forgets it: what flows through it afterwards is not counted.
func (s *Sockets) Passed() {
	if s != nil {
		s.passed.Inc()
	}
}

// Relaying counts a socket whose bytes hostd relays, open until Closed.
func (s *Sockets) Relaying() {
	if s != nil {
		s.relayed.Inc()
		s.open.Inc()
	}
}

// Closed ends a relayed socket.
func (s *Sockets) Closed() {
	if s != nil {
		s.open.Dec()
	}
}

// In counts bytes relayed from the client to the plugin.
func (s *Sockets) In(n int) {
	if s != nil {
		s.in.Add(float64(n))
	}
}

// Out counts bytes relayed from the plugin to the client.
func (s *Sockets) Out(n int) {
	if s != nil {
		s.out.Add(float64(n))
	}
}
