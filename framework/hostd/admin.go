package hostd

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hostd/hostd/framework/pluginhost"
)

// adminServer is the admin API: a small net/http server, off the hot
// path, bound to the address in [admin] listen.
type adminServer struct {
	srv  *http.Server
	addr net.Addr
}

func startAdmin(h *Host, addr string) (*adminServer, error) {
	var l net.Listener
	var err error
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		_ = os.Remove(path)
		l, err = net.Listen("unix", path)
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
	if h.registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{}))
	}
	a := &adminServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, addr: l.Addr()}
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
