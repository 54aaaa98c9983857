package hostd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"

	"github.com/hostd/hostd/framework/config"
	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/framework/route"
	"github.com/hostd/hostd/protocol"
)

// spec turns a [plugins.NAME] table into what pluginhost runs.
func (h *Host) spec(cfg *config.Config, name string, pc config.Plugin) pluginhost.Spec {
	s := pluginhost.Spec{
		Name:                        name,
		Cmd:                         pc.Cmd,
		Args:                        pc.Args,
		Config:                      pc.Config,
		SHA256:                      pc.SHA256,
		RequestTimeout:              pc.RequestTimeout,
		MaxConcurrent:               pc.MaxConcurrent,
		RelaySockets:                pc.RelaySockets,
		RejectNonStandardBodyWrites: cfg.Server.RejectNonStandardBodyWrites,
		JoinDuplicateHeaders:        cfg.Server.JoinDuplicateHeaders,
		StartTimeout:                pc.StartTimeout,
		DrainTimeout:                pc.DrainTimeout,
	}
	keys := make([]string, 0, len(pc.Env))
	for k := range pc.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Env = append(s.Env, k+"="+pc.Env[k])
	}
	if _, set := pc.Env["GOMAXPROCS"]; !set && pc.MaxProcs > 0 {
		s.Env = append(s.Env, "GOMAXPROCS="+strconv.Itoa(pc.MaxProcs))
	}
	if pc.Builtin != "" {
		s.Cmd = h.opts.Executable
		s.Env = append(s.Env, EnvBuiltin+"="+pc.Builtin)
	}
	return s
}

// stamp identifies the version of a plugin's executable on disk, so that
// a reload swaps a plugin whose binary was rebuilt even if its
// configuration is the same.
func (h *Host) stamp(pc config.Plugin) string {
	if pc.Builtin != "" {
		return "builtin"
	}
	fi, err := os.Stat(pc.Cmd)
	if err != nil {
		return "missing"
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

// buildRouting resolves the routes of cfg to the current plugins.
func (h *Host) buildRouting(cfg *config.Config) *routing {
	routes := make([]route.Route, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		routes = append(routes, route.Route{
			Path:      r.Path,
			Host:      r.Host,
			Methods:   r.Methods,
			Events:    r.EventSet,
			Authority: r.Authority,
		})
		rr := &routes[len(routes)-1]
		rr.Target = &target{plugin: h.plugins[r.Plugin], metrics: h.metrics.Route(routeLabel(rr), r.Plugin, r.EventSet.Events()...)}
	}
	rt := &routing{table: route.New(routes), access: h.accessLogger(cfg.Log.Access)}
	if h.metrics != nil {
		rt.none = h.metrics.Route("", "", protocol.EventRequest)
	}
	if cfg.Server.ClientError != "" {
		rt.clientError = h.plugins[cfg.Server.ClientError]
	}
	if cfg.Server.TimeoutPlugin != "" {
		rt.timeout = h.plugins[cfg.Server.TimeoutPlugin]
	}
	return rt
}

// Reload reads the configuration again and applies it: new plugins start,
// changed ones (configuration or executable) get a new generation,
// removed ones drain and stop, and the routes switch at once. It is all or
// nothing: if the file is invalid or a plugin fails to start or to answer
// its health check, the running configuration stays, and the error says
// why.
func (h *Host) Reload(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("hostd is shutting down")
	}
	cfg, err := h.load()
	if err != nil {
		h.log.Error("new configuration refused; keeping the running one", "error", err)
		return err
	}
	if !reflect.DeepEqual(cfg.Server, h.cfg.Server) {
		h.log.Warn("[server] changed: listeners and server options apply at the next start; the rest is reloaded")
	}
	// The certificate files are read again whatever changed: a renewed
	// certificate keeps its file names. It is used from the commit on.
	cert, err := h.certs.read(cfg)
	if err != nil {
		h.log.Error("new configuration refused; keeping the running one", "error", err)
		return err
	}
	prepared := map[string]*pluginhost.Instance{}
	added := map[string]*pluginhost.Plugin{}
	stamps := map[string]string{}
	abort := func(err error) error {
		for name, in := range prepared {
			h.plugins[name].Discard(in)
		}
		for _, p := range added {
			p.Stop(ctx)
		}
		h.log.Error("new configuration refused; keeping the running one", "error", err)
		return err
	}
	for name, pc := range cfg.Plugins {
		spec := h.spec(cfg, name, pc)
		stamps[name] = h.stamp(pc)
		old, ok := h.plugins[name]
		if !ok {
			p := h.newPlugin(name, spec)
			if err := p.Start(ctx); err != nil {
				return abort(pluginError(cfg, name, err))
			}
			added[name] = p
			continue
		}
		if reflect.DeepEqual(old.Spec(), spec) && stamps[name] == h.stamps[name] && old.Current() != nil {
			continue
		}
		in, err := old.Prepare(ctx, spec)
		if err != nil {
			return abort(pluginError(cfg, name, err))
		}
		prepared[name] = in
	}
	// Commit: publish every new generation, switch the routes, retire
	// what is gone.
	for name, in := range prepared {
		h.plugins[name].Publish(in)
	}
	for name, p := range added {
		h.plugins[name] = p
	}
	var removed []*pluginhost.Plugin
	for name, p := range h.plugins {
		if _, ok := cfg.Plugins[name]; !ok {
			removed = append(removed, p)
			delete(h.plugins, name)
		}
	}
	h.routing.Store(h.buildRouting(cfg))
	h.certs.use(cert)
	for _, p := range removed {
		go p.Stop(context.Background())
	}
	h.cfg, h.stamps = cfg, stamps
	if h.watcher != nil {
		h.watcher.update(cfg)
	}
	h.log.Info("configuration reloaded", "file", cfg.File, "plugins", len(h.plugins), "routes", len(cfg.Routes),
		"swapped", len(prepared), "added", len(added), "removed", len(removed))
	return nil
}

// RestartPlugin replaces a plugin's generation with a fresh one, with the
// same configuration (after rebuilding it, say).
func (h *Host) RestartPlugin(ctx context.Context, name string) error {
	h.mu.Lock()
	p, ok := h.plugins[name]
	h.mu.Unlock()
	if !ok {
		return fmt.Errorf("no plugin %q", name)
	}
	return p.Swap(ctx, p.Spec())
}

// pluginError reports a plugin that failed to start; a refusal of one key
// of its config table is a configuration error naming
// plugins.NAME.config.KEY.
func pluginError(cfg *config.Config, name string, err error) error {
	var ce *pluginhost.ConfigError
	if errors.As(err, &ce) && ce.Key != "" {
		return &config.Error{File: cfg.File, Key: "plugins." + name + ".config." + ce.Key, Reason: ce.Reason}
	}
	return fmt.Errorf("plugin %s: %w", name, err)
}
