package hostd

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hostd/hostd/framework/pluginhost"
)

// adminServer is the admin API: a small net/http server, off the hot
// path, bound to the address in [admin] listen. Its guard (adminguard.go)
// refuses what a web page or another machine could send it.
type adminServer struct {
	srv   *http.Server
	addr  net.Addr
	names adminNames
}

func startAdmin(h *Host, addr string) (*adminServer, error) {
	var l net.Listener
	var err error
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		l, err = listenPrivateUnix(path)
	} else {
		l, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", h.adminStatus)
	mux.HandleFunc("POST /reload", h.adminReload)
	mux.HandleFunc("POST /plugins/{name}/restart", h.adminRestart)
	mux.HandleFunc("GET /healthz", h.adminHealthz)
	mux.HandleFunc("GET /readyz", h.adminReadyz)
	if h.registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{}))
	}
	a := &adminServer{addr: l.Addr(), names: namesOf(addr, l.Addr())}
	a.srv = &http.Server{Handler: a.guard(h, mux), ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(l) //nolint:errcheck // ends with close
	return a, nil
}

func (a *adminServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// PluginStatus is one plugin in the admin API's status.
type PluginStatus struct {
	Generation uint64 `json:"generation"`
	Pid        int    `json:"pid"`
	Up         bool   `json:"up"`
	InFlight   uint64 `json:"in_flight"`
	Sockets    uint64 `json:"open_sockets"`
	Requests   uint64 `json:"requests_total"`
}

// Status is the admin API's GET /status.
type Status struct {
	Config  string                  `json:"config"`
	Listen  []string                `json:"listen"`
	Plugins map[string]PluginStatus `json:"plugins"`
	Routes  int                     `json:"routes"`
}

// Status reports the running configuration and plugins.
func (h *Host) Status(ctx context.Context) Status {
	h.mu.Lock()
	st := Status{Config: h.cfg.File, Plugins: map[string]PluginStatus{}, Routes: len(h.cfg.Routes)}
	for _, l := range h.listeners {
		st.Listen = append(st.Listen, l.Addr().String())
	}
	current := make(map[string]*pluginhost.Instance, len(h.plugins))
	for name, p := range h.plugins {
		current[name] = p.Current()
	}
	h.mu.Unlock()
	for name, in := range current {
		ps := PluginStatus{}
		if in != nil {
			ps.Up, ps.Generation, ps.Pid = true, in.Generation(), in.Pid()
			if s, err := in.Stats(ctx); err == nil {
				ps.InFlight, ps.Sockets, ps.Requests = s.InFlight, s.OpenSockets, s.RequestsTotal
			}
		}
		st.Plugins[name] = ps
	}
	return st
}

func (h *Host) adminStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(h.Status(r.Context()))
}

func (h *Host) adminReload(w http.ResponseWriter, r *http.Request) {
	if err := h.Reload(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = w.Write([]byte("reloaded\n"))
}

func (h *Host) adminRestart(w http.ResponseWriter, r *http.Request) {
	if err := h.RestartPlugin(r.Context(), r.PathValue("name")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = w.Write([]byte("restarted\n"))
}

// adminHealthz answers 200 while hostd runs: a liveness probe.
func (h *Host) adminHealthz(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok\n"))
}

// adminReadyz answers 200 when every plugin a route (or client_error, or
// timeout_plugin)
// sends events to has a current generation that passes its health check,
// else 503 naming those that do not: a readiness probe.
func (h *Host) adminReadyz(w http.ResponseWriter, r *http.Request) {
	notReady := h.NotReady(r.Context())
	if len(notReady) == 0 {
		_, _ = w.Write([]byte("ready\n"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	names := make([]string, 0, len(notReady))
	for name := range notReady {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "%s: %s\n", name, notReady[name])
	}
}

// NotReady returns the routed plugins that cannot take requests now, with
// the reason; empty means ready.
func (h *Host) NotReady(ctx context.Context) map[string]string {
	h.mu.Lock()
	routed := map[string]*pluginhost.Plugin{}
	for _, r := range h.cfg.Routes {
		routed[r.Plugin] = h.plugins[r.Plugin]
	}
	for _, name := range []string{h.cfg.Server.ClientError, h.cfg.Server.TimeoutPlugin} {
		if name != "" {
			routed[name] = h.plugins[name]
		}
	}
	closed := h.closed
	h.mu.Unlock()
	out := map[string]string{}
	for name, p := range routed {
		switch in := (*pluginhost.Instance)(nil); {
		case closed:
			out[name] = "hostd is shutting down"
		case p == nil:
			out[name] = "not started"
		default:
			if in = p.Current(); in == nil {
				out[name] = "down, restarting"
			} else if err := healthCheck(ctx, in); err != nil {
				out[name] = err.Error()
			}
		}
	}
	return out
}

func healthCheck(ctx context.Context, in *pluginhost.Instance) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return in.Healthy(ctx)
}
