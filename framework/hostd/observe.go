package hostd

import (
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hostd/hostd/framework/metrics"
	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/framework/route"
	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

// target is what a route leads to: its plugin and its metrics' children.
type target struct {
	plugin  *pluginhost.Plugin
	metrics *metrics.Route
}

// newMetrics creates the metrics when the admin API, which serves them,
// is configured: on opts.Registry, or on a registry of their own with Go's
// and the process's collectors.
func (h *Host) newMetrics() {
	reg := h.opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	h.registry = reg
	h.metrics = metrics.New(reg)
}

// newPlugin creates a plugin's supervisor, recording into its metrics.
func (h *Host) newPlugin(cfgName string, spec pluginhost.Spec) *pluginhost.Plugin {
	p := pluginhost.New(spec, h.log)
	p.SetMetrics(h.metrics.Plugin(cfgName))
	return p
}

// routeLabel names a route in metrics: its Host and path prefix, or its
// CONNECT authority.
func routeLabel(r *route.Route) string {
	if r.Events == protocol.EventSetOf(protocol.EventConnect) {
		return r.Authority
	}
	return r.Host + r.Path
}

// observed reports whether requests are measured: metrics or the access
// log. Without either, a request costs no clock reading.
func (rt *routing) observed() bool { return rt.none != nil || rt.access != nil }

// start returns the clock of a request that is observed.
func (rt *routing) start() time.Time {
	if !rt.observed() {
		return time.Time{}
	}
	return time.Now()
}

// done records a request answered by hostd or by a plugin (gen > 0).
func (rt *routing) done(t *target, ev protocol.Event, gen uint64, req *server.IncomingMessage, res *server.ServerResponse, start time.Time) {
	if !rt.observed() {
		return
	}
	d := time.Since(start)
	m := rt.none
	if t != nil {
		m = t.metrics
	}
	m.Done(ev, res.StatusCode, d)
	if rt.access != nil {
		rt.logAccess(t, ev, gen, req, res.StatusCode, res.BodyBytes(), d)
	}
}

// doneSocket records an upgrade or CONNECT: answered by hostd (status),
// or handed to a plugin (status 0: the plugin writes its own answer).
func (rt *routing) doneSocket(t *target, ev protocol.Event, gen uint64, req *server.IncomingMessage, status int, start time.Time) {
	if !rt.observed() {
		return
	}
	d := time.Since(start)
	if status != 0 {
		m := rt.none
		if t != nil {
			m = t.metrics
		}
		m.Done(ev, status, d)
	}
	if rt.access != nil {
		rt.logAccess(t, ev, gen, req, status, 0, d)
	}
}

// logAccess writes the access log line of a request.
func (rt *routing) logAccess(t *target, ev protocol.Event, gen uint64, req *server.IncomingMessage, status int, bytes int64, d time.Duration) {
	plugin := ""
	if t != nil {
		plugin = t.plugin.Name()
	}
	head := req.Head()
	args := []any{
		"method", head.Method,
		"target", string(head.Target),
		"status", status,
		"bytes", bytes,
		"duration_ms", float64(d.Microseconds()) / 1000,
		"event", ev.String(),
		"plugin", plugin,
		"generation", gen,
		"remote", req.RemoteAddr().String(),
	}
	if id := req.RequestID(); id != nil {
		args = append(args, "request_id", string(id))
	}
	rt.access.Info("request", args...)
}

// accessLogger returns the access log's logger when [log] access is on.
func (h *Host) accessLogger(on bool) hclog.Logger {
	if !on {
		return nil
	}
	return h.log.Named("access")
}
