// Package hostd assembles the host: it loads the configuration, starts
// the plugins, routes the engine's events to them, and applies a new
// configuration while running (Reload), whether it comes from an edit of
// the file, a new plugin executable, SIGHUP or the admin API.
package hostd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hostd/hostd/framework/config"
	"github.com/hostd/hostd/framework/metrics"
	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/framework/route"
	"github.com/hostd/hostd/framework/server"
)

// EnvBuiltin is set, in the environment of a process the host starts, to
// the name of the built-in plugin the process must serve. The host's
// executable checks it first thing (cmd/hostd does).
const EnvBuiltin = "HOSTD_BUILTIN_PLUGIN"

// Options configures a Host.
type Options struct {
	// ConfigFile is the configuration's path. When empty, Config holds the
	// configuration itself and ConfigName names it in errors.
	ConfigFile string
	Config     []byte
	ConfigName string
	// Builtins lists the plugins compiled into the executable.
	Builtins []string
	// Executable runs the built-in plugins; empty means os.Executable().
	Executable string
	// Watch reloads when the configuration file or a plugin executable
	// changes.
	Watch bool
	// Logger receives the host's log; nil means hclog's default.
	Logger hclog.Logger
	// Environ overrides the environment the configuration takes HOSTD_
	// overrides from; nil means os.Environ().
	Environ []string
	// Registry receives the metrics, which exist when the admin API is
	// configured; nil means a registry of the host's own.
	Registry *prometheus.Registry
}

// Host is a running hostd.
type Host struct {
	opts Options
	log  hclog.Logger

	routing atomic.Pointer[routing]
	own     atomic.Pointer[ownPorts] // hostd's listening ports, refused as CONNECT targets

	mu        sync.Mutex // serializes Start, Reload and Shutdown
	cfg       *config.Config
	plugins   map[string]*pluginhost.Plugin
	stamps    map[string]string // executable stamps, to notice a new binary
	srv       *server.Server
	listeners []net.Listener
	admin     *adminServer
	watcher   *watcher
	closed    bool

	metrics  *metrics.Metrics     // nil without the admin API; immutable after Start
	registry *prometheus.Registry // where metrics are registered; immutable after Start
	certs    certificates         // of the tls:// listeners
}

// routing is what the request path reads: the route table and the
// clientError and timeout plugins. It is replaced whole on reload.
type routing struct {
	table       *route.Table
	clientError *pluginhost.Plugin
	timeout     *pluginhost.Plugin
	none        *metrics.Route // requests no route takes; nil without metrics
	access      hclog.Logger   // nil unless [log] access
}

// New loads and validates the configuration.
func New(opts Options) (*Host, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "hostd", Level: hclog.Info})
	}
	if opts.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding hostd's executable: %w", err)
		}
		opts.Executable = exe
	}
	h := &Host{opts: opts, log: opts.Logger, plugins: map[string]*pluginhost.Plugin{}, stamps: map[string]string{}}
	cfg, err := h.load()
	if err != nil {
		return nil, err
	}
	h.cfg = cfg
	return h, nil
}

func (h *Host) load() (*config.Config, error) {
	opts := config.Options{Builtins: h.opts.Builtins, Environ: h.opts.Environ}
	if h.opts.ConfigFile != "" {
		return config.LoadFile(h.opts.ConfigFile, opts)
	}
	name := h.opts.ConfigName
	if name == "" {
		name = "config"
	}
	wd, _ := os.Getwd()
	return config.Load(h.opts.Config, name, wd, opts)
}

// Config returns the configuration in force.
func (h *Host) Config() *config.Config {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cfg
}

// Start launches the plugins, then listens. If a plugin cannot start,
// nothing is left running and the error says which.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	cfg := h.cfg
	if cfg.Admin.Listen != "" {
		h.newMetrics()
	}
	if err := h.certs.load(cfg); err != nil {
		return err
	}
	for name, pc := range cfg.Plugins {
		p := h.newPlugin(name, h.spec(cfg, name, pc))
		if err := p.Start(ctx); err != nil {
			h.stopPlugins(ctx)
			return pluginError(cfg, name, err)
		}
		h.plugins[name] = p
		h.stamps[name] = h.stamp(pc)
	}
	h.routing.Store(h.buildRouting(cfg))
	for _, addr := range cfg.Server.Listen {
		h.addOwn(addr)
	}
	h.addOwn(cfg.Admin.Listen)
	h.srv = server.New(h.serverOptions(cfg))
	srv := h.srv
	h.metrics.ObserveOpenConnections(srv.ConnectionCount)
	for _, addr := range cfg.Server.Listen {
		var l net.Listener
		var err error
		if tcp, ok := strings.CutPrefix(addr, config.TLSPrefix); ok {
			l, err = h.srv.ListenTLS(tcp, h.certs.tlsConfig())
		} else {
			l, err = h.srv.Listen(addr)
		}
		if err != nil {
			h.srv.Close()
			h.stopPlugins(ctx)
			return fmt.Errorf("%s: server.listen: %w", cfg.File, err)
		}
		h.listeners = append(h.listeners, l)
		h.addOwn(l.Addr().String())
		h.log.Info("listening", "addr", l.Addr().String())
	}
	if cfg.Admin.Listen != "" {
		a, err := startAdmin(h, cfg.Admin.Listen)
		if err != nil {
			h.srv.Close()
			h.stopPlugins(ctx)
			return fmt.Errorf("%s: admin.listen: %w", cfg.File, err)
		}
		h.admin = a
		h.addOwn(a.addr.String())
		h.log.Info("admin API listening", "addr", a.addr.String())
	}
	if h.opts.Watch {
		w, err := newWatcher(h)
		if err != nil {
			h.log.Warn("cannot watch files; reload with SIGHUP or the admin API", "error", err)
		} else {
			h.watcher = w
			w.update(cfg)
		}
	}
	return nil
}

// Addrs returns the addresses the server listens on.
func (h *Host) Addrs() []net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	addrs := make([]net.Addr, len(h.listeners))
	for i, l := range h.listeners {
		addrs[i] = l.Addr()
	}
	return addrs
}

// AdminAddr returns the admin API's address, or nil.
func (h *Host) AdminAddr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.admin == nil {
		return nil
	}
	return h.admin.addr
}

// Plugin returns the supervisor of a plugin, or nil.
func (h *Host) Plugin(name string) *pluginhost.Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.plugins[name]
}

// Shutdown stops gracefully: no new connections, in-flight requests
// finish, then the plugins drain and stop. ctx bounds it all; past it
// connections are closed and plugins killed.
func (h *Host) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if h.watcher != nil {
		h.watcher.close()
	}
	if h.admin != nil {
		h.admin.close()
	}
	var err error
	if h.srv != nil {
		if e := h.srv.Shutdown(ctx); e != nil && !errors.Is(e, context.DeadlineExceeded) {
			err = e
		}
	}
	h.stopPlugins(ctx)
	return err
}

// stopPlugins drains and stops every plugin, in parallel.
func (h *Host) stopPlugins(ctx context.Context) {
	var wg sync.WaitGroup
	for name, p := range h.plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Stop(ctx)
		}()
		delete(h.plugins, name)
	}
	wg.Wait()
}

// serverOptions maps [server] to the engine's options. In the
// configuration, as in Node, 0 disables a timeout or a count limit.
func (h *Host) serverOptions(cfg *config.Config) server.Options {
	s := &cfg.Server
	disabled := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	count := func(n int) int {
		if n == 0 {
			return -1
		}
		return n
	}
	return server.Options{
		HeadersTimeout:              disabled(s.HeadersTimeout),
		RequestTimeout:              disabled(s.RequestTimeout),
		KeepAliveTimeout:            disabled(s.KeepAliveTimeout),
		Timeout:                     s.Timeout,
		MaxHeaderSize:               s.MaxHeaderSize,
		MaxHeadersCount:             count(s.MaxHeadersCount),
		MaxRequestsPerSocket:        s.MaxRequestsPerSocket,
		DisableHostHeaderCheck:      !s.RequireHostHeader,
		JoinDuplicateHeaders:        s.JoinDuplicateHeaders,
		UniqueHeaders:               s.UniqueHeaders,
		RejectNonStandardBodyWrites: s.RejectNonStandardBodyWrites,
		DisableNoDelay:              !s.NoDelay,
		KeepAlive:                   s.KeepAlive,
		KeepAliveInitialDelay:       s.KeepAliveInitialDelay,
		RequestID:                   s.RequestID,
		Handlers:                    h.handlers(),
		Logger:                      h.log.Named("server"),
	}
}
