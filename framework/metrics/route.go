package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hostd/hostd/protocol"
)

// statusClasses are the values of the code label.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// Route holds the children of one route's request metrics, resolved when
// the route table is built.
type Route struct {
	m             *Metrics
	route, plugin string
	events        [eventSlots]atomic.Pointer[routeEvent]
}

type routeEvent struct {
	codes    [len(statusClasses)]prometheus.Counter
	duration prometheus.Observer
}

// Route resolves the children of a route (its label: the path prefix with
// its Host, or the CONNECT authority; "" for requests no route takes)
// leading to plugin, for the events given. Upgrades and
// CONNECTs, which count here only when hostd answers them itself (a
// refusal), are resolved at their first count instead, so that their
// series appear only when there is something to see.
func (m *Metrics) Route(route, plugin string, events ...protocol.Event) *Route {
	if m == nil {
		return nil
	}
	r := &Route{m: m, route: route, plugin: plugin}
	for _, ev := range events {
		if ev.Valid() && ev != protocol.EventUpgrade && ev != protocol.EventConnect {
			r.events[ev].Store(m.routeEvent(route, plugin, ev))
		}
	}
	return r
}

func (m *Metrics) routeEvent(route, plugin string, ev protocol.Event) *routeEvent {
	name := ev.String()
	e := &routeEvent{duration: m.duration.WithLabelValues(route, plugin, name)}
	for i, class := range statusClasses {
		e.codes[i] = m.requests.WithLabelValues(route, plugin, name, class)
	}
	return e
}

// Done records an answered request: its event, its status and how long
// it took.
func (r *Route) Done(event protocol.Event, status int, d time.Duration) {
	if r == nil || !event.Valid() {
		return
	}
	e := r.events[event].Load()
	if e == nil {
		e = r.m.routeEvent(r.route, r.plugin, event)
		if !r.events[event].CompareAndSwap(nil, e) {
			e = r.events[event].Load()
		}
	}
	class := min(max(status/100, 1), len(statusClasses)) - 1
	e.codes[class].Inc()
	e.duration.Observe(seconds(d))
}
