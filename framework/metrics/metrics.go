// Package metrics holds hostd's Prometheus metrics: their names, labels
// and buckets, and the hooks the engine's assembly (framework/hostd) and
// the plugin host (framework/pluginhost) call.
//
// The hot path stays cheap: the label children of a route or a plugin are
// resolved once, when the route table or the plugin is built, and a
// request only adds to counters and observes histograms it already holds.
// A nil *Metrics, *Route or *Plugin records nothing, so that hostd without
// metrics pays one comparison per hook.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hostd/hostd/protocol"
)

// Namespace prefixes every metric name.
const Namespace = "hostd"

// latencyBuckets, in seconds, span a plugin hop on a quiet machine
// (about 100 µs) to a slow handler (10 s).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// drainBuckets, in seconds, span an idle generation (a few ms) to the
// default drain_timeout (30 s).
var drainBuckets = []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60}

// Metrics is the set of hostd's metrics, registered on one registry.
type Metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	hop          *prometheus.HistogramVec
	inFlight     *prometheus.GaugeVec
	accepted     prometheus.Counter
	sockets      *prometheus.CounterVec
	socketsOpen  *prometheus.GaugeVec
	relayed      *prometheus.CounterVec
	restarts     *prometheus.CounterVec
	swaps        *prometheus.CounterVec
	drain        *prometheus.HistogramVec
	clientErrors *prometheus.CounterVec
	timeouts     *prometheus.CounterVec
	reg          prometheus.Registerer
}

// New creates hostd's metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "requests_total",
		Help: "Requests answered, by route, plugin, event and status class (1xx … 5xx). Upgrades and CONNECTs count here only when hostd answered them itself.",
	}, []string{"route", "plugin", "event", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "request_duration_seconds",
		Help:    "Time from a parsed request head to the end of its response.",
		Buckets: latencyBuckets,
	}, []string{"route", "plugin", "event"})
	m.hop = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "plugin_hop_seconds",
		Help:    "Time from a request's frame sent to the plugin to the plugin's first answer frame.",
		Buckets: latencyBuckets,
	}, []string{"plugin"})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "requests_in_flight",
		Help: "Requests handed to a plugin and not yet answered.",
	}, []string{"plugin"})
	m.accepted = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "connections_accepted_total",
		Help: "Client connections accepted by the server's listeners.",
	})
	m.sockets = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "sockets_total",
		Help: "Upgraded and CONNECT sockets handed to a plugin, by how: passed (the descriptor) or relayed (bytes as frames).",
	}, []string{"plugin", "event", "mode"})
	m.socketsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "relayed_sockets_open",
		Help: "Upgraded and CONNECT sockets hostd relays now. Passed sockets belong to their plugin and are not counted.",
	}, []string{"plugin", "event"})
	m.relayed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "relayed_bytes_total",
		Help: "Bytes hostd relayed between clients and plugins on upgraded and CONNECT sockets: in from the client, out to it.",
	}, []string{"plugin", "event", "direction"})
	m.restarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "plugin_restarts_total",
		Help: "Generations started after the previous one exited on its own.",
	}, []string{"plugin"})
	m.swaps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "plugin_swaps_total",
		Help: "Generations published in place of a running one (reload, restart, new executable).",
	}, []string{"plugin"})
	m.drain = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "plugin_drain_seconds",
		Help:    "How long a replaced generation took to finish its work (capped by drain_timeout).",
		Buckets: drainBuckets,
	}, []string{"plugin"})
	m.clientErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "client_errors_total",
		Help: "Requests refused before any plugin saw them (clientError), by Node's error code: HPE_* from the parser, ERR_HTTP_REQUEST_TIMEOUT, ECONNRESET.",
	}, []string{"reason"})
	m.timeouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "timeouts_total",
		Help: "Sockets inactive for [server] timeout (Node's server 'timeout' event), by the timeout_plugin told (\"\" when none: the socket is destroyed unless its response set a timeout of its own).",
	}, []string{"plugin"})
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.hop, m.inFlight, m.accepted,
		m.sockets, m.socketsOpen, m.relayed, m.restarts, m.swaps, m.drain, m.clientErrors, m.timeouts} {
		f(c)
	}
	return m
}

// ObserveOpenConnections registers a gauge of the connections the server
// holds open, read from count at each scrape.
func (m *Metrics) ObserveOpenConnections(count func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "connections_open",
		Help: "Client connections open now, upgraded and CONNECT sockets excepted.",
	}, func() float64 { return float64(count()) }))
}

// Accepted counts a new client connection.
func (m *Metrics) Accepted() {
	if m != nil {
		m.accepted.Inc()
	}
}

// ClientError counts a request refused before routing, by its code.
func (m *Metrics) ClientError(code string) {
	if m != nil {
		m.clientErrors.WithLabelValues(code).Inc()
	}
}

// Timeout counts a timeout event, by the plugin told ("" for none).
func (m *Metrics) Timeout(plugin string) {
	if m != nil {
		m.timeouts.WithLabelValues(plugin).Inc()
	}
}

// eventSlots sizes the arrays indexed by protocol.Event, whose last
// value is EventTimeout. An event's label value is its String.
const eventSlots = int(protocol.EventTimeout) + 1

// seconds converts for Observe.
func seconds(d time.Duration) float64 { return d.Seconds() }
