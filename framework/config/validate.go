package config

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/knadh/koanf/v2"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/protocol"
)

// routeEvents are the events a route may take, named in the error for one
// it may not; clientError and timeout are not routed but set in [server].
var routeEvents = protocol.EventSetOf(protocol.EventRequest, protocol.EventCheckContinue,
	protocol.EventCheckExpectation, protocol.EventUpgrade, protocol.EventConnect, protocol.EventDropRequest).Names()

// keysOf lists the koanf keys of a struct type.
func keysOf(v any) []string {
	t := reflect.TypeOf(v)
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("koanf"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// checkKeys refuses keys hostd does not know, so that a typo is an error
// rather than a setting silently ignored.
func checkKeys(k *koanf.Koanf, file string) error {
	known := map[string][]string{
		"server": keysOf(Server{}),
		"admin":  keysOf(Admin{}),
		"log":    keysOf(Log{}),
	}
	pluginKeys := keysOf(Plugin{})
	raw := k.Raw()
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, top := range names {
		switch top {
		case "server", "admin", "log":
			if err := checkTable(raw[top], top, known[top], file); err != nil {
				return err
			}
			if t, ok := raw[top].(map[string]any)["tls"]; ok && top == "server" {
				if err := checkTable(t, "server.tls", keysOf(TLS{}), file); err != nil {
					return err
				}
			}
		case "plugins":
			plugins, ok := raw[top].(map[string]any)
			if !ok {
				return &Error{File: file, Key: top, Reason: "must be a table of plugins"}
			}
			for name, p := range plugins {
				if err := checkTable(p, "plugins."+name, pluginKeys, file); err != nil {
					return err
				}
			}
		case "routes":
			list, ok := raw[top].([]any)
			if !ok {
				return &Error{File: file, Key: top, Reason: "must be an array of tables ([[routes]])"}
			}
			for i, r := range list {
				if err := checkTable(r, fmt.Sprintf("routes[%d]", i), keysOf(Route{}), file); err != nil {
					return err
				}
			}
		default:
			return &Error{File: file, Key: top, Reason: "unknown key (expected server, admin, log, plugins or routes)"}
		}
	}
	return nil
}

func checkTable(v any, at string, keys []string, file string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return &Error{File: file, Key: at, Reason: "must be a table"}
	}
	for key := range m {
		if !slices.Contains(keys, key) {
			return &Error{File: file, Key: at + "." + key, Reason: "unknown key (known: " + strings.Join(keys, ", ") + ")"}
		}
	}
	return nil
}

// validate checks what decoding cannot: references, ranges and formats.
// It also resolves plugin paths and encodes plugin config tables.
func (c *Config) validate(opts Options) error {
	bad := func(key, format string, args ...any) error {
		return &Error{File: c.File, Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	s := &c.Server
	if len(s.Listen) == 0 {
		return bad("server.listen", "at least one address is needed")
	}
	tlsListeners := 0
	for i, addr := range s.Listen {
		if rest, ok := strings.CutPrefix(addr, TLSPrefix); ok {
			tlsListeners++
			if strings.HasPrefix(rest, "unix:") {
				return bad(fmt.Sprintf("server.listen[%d]", i), "%q: TLS is served on TCP addresses only", addr)
			}
			addr = rest
		}
		if err := checkAddr(addr); err != nil {
			return bad(fmt.Sprintf("server.listen[%d]", i), "%v", err)
		}
	}
	if err := c.validateTLS(tlsListeners); err != nil {
		return err
	}
	for key, d := range map[string]int64{
		"server.headers_timeout":          int64(s.HeadersTimeout),
		"server.request_timeout":          int64(s.RequestTimeout),
		"server.keep_alive_timeout":       int64(s.KeepAliveTimeout),
		"server.timeout":                  int64(s.Timeout),
		"server.keep_alive_initial_delay": int64(s.KeepAliveInitialDelay),
		"server.shutdown_timeout":         int64(s.ShutdownTimeout),
	} {
		if d < 0 {
			return bad(key, "must not be negative")
		}
	}
	if s.RequestTimeout > 0 && s.HeadersTimeout > s.RequestTimeout {
		return bad("server.headers_timeout", "must not exceed request_timeout (%v), as in Node", s.RequestTimeout)
	}
	for key, n := range map[string]int{
		"server.max_header_size":         s.MaxHeaderSize,
		"server.max_headers_count":       s.MaxHeadersCount,
		"server.max_requests_per_socket": s.MaxRequestsPerSocket,
	} {
		if n < 0 {
			return bad(key, "must not be negative")
		}
	}
	for i, h := range s.UniqueHeaders {
		if !httpspec.IsToken(h) {
			return bad(fmt.Sprintf("server.unique_headers[%d]", i), "%q is not a header name", h)
		}
	}
	if s.ClientError != "" {
		if _, ok := c.Plugins[s.ClientError]; !ok {
			return bad("server.client_error", "%q is not a configured plugin", s.ClientError)
		}
	}
	if s.TimeoutPlugin != "" {
		if _, ok := c.Plugins[s.TimeoutPlugin]; !ok {
			return bad("server.timeout_plugin", "%q is not a configured plugin", s.TimeoutPlugin)
		}
		if s.Timeout <= 0 {
			return bad("server.timeout_plugin", "the timeout event never fires while server.timeout is 0: set it")
		}
	}
	if err := c.validateAdmin(); err != nil {
		return err
	}
	if err := c.checkCollisions(); err != nil {
		return err
	}
	for name, p := range c.Plugins {
		if err := c.validatePlugin(name, &p, opts); err != nil {
			return err
		}
		c.Plugins[name] = p
	}
	for i := range c.Routes {
		if err := c.validateRoute(i, &c.Routes[i]); err != nil {
			return err
		}
	}
	return nil
}

// validateTLS checks [server.tls] against the "tls://" listeners: each
// needs the other, so that a forgotten prefix does not serve in the clear
// what was meant to be encrypted.
func (c *Config) validateTLS(listeners int) error {
	t := &c.Server.TLS
	switch {
	case listeners > 0 && (t.CertFile == "" || t.KeyFile == ""):
		return &Error{File: c.File, Key: "server.tls", Reason: "a tls:// listener needs cert_file and key_file"}
	case listeners == 0 && (t.CertFile != "" || t.KeyFile != ""):
		return &Error{File: c.File, Key: "server.tls", Reason: "no listener uses it: prefix the addresses to serve with tls://"}
	case listeners == 0:
		return nil
	}
	for key, path := range map[string]*string{"server.tls.cert_file": &t.CertFile, "server.tls.key_file": &t.KeyFile} {
		if !filepath.IsAbs(*path) {
			*path = filepath.Join(c.Dir, *path)
		}
		if _, err := os.Stat(*path); err != nil {
			return &Error{File: c.File, Key: key, Reason: err.Error()}
		}
	}
	return nil
}

func checkAddr(addr string) error {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if p == "" {
			return fmt.Errorf("%q: a Unix socket needs a path", addr)
		}
		return nil
	}
	i := strings.LastIndex(addr, ":")
	port := addr[i+1:]
	if i < 0 || port == "" {
		return fmt.Errorf("%q is not host:port or unix:/path", addr)
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return fmt.Errorf("%q: port %q is not a number", addr, port)
		}
	}
	return nil
}

func (c *Config) validatePlugin(name string, p *Plugin, opts Options) error {
	key := "plugins." + name
	bad := func(sub, format string, args ...any) error {
		return &Error{File: c.File, Key: key + sub, Reason: fmt.Sprintf(format, args...)}
	}
	if !httpspec.IsToken(name) {
		return bad("", "a plugin name must be a token (letters, digits, - _ .)")
	}
	switch {
	case p.Cmd == "" && p.Builtin == "":
		return bad("", "set cmd (the plugin executable) or builtin")
	case p.Cmd != "" && p.Builtin != "":
		return bad("", "set cmd or builtin, not both")
	case p.Builtin != "":
		if !slices.Contains(opts.Builtins, p.Builtin) {
			return bad(".builtin", "%q is not a built-in plugin (built in: %s)", p.Builtin, strings.Join(opts.Builtins, ", "))
		}
	default:
		if !filepath.IsAbs(p.Cmd) {
			p.Cmd = filepath.Join(c.Dir, p.Cmd)
		}
		fi, err := os.Stat(p.Cmd)
		switch {
		case err != nil:
			return bad(".cmd", "%v", err)
		case fi.IsDir() || fi.Mode()&0o111 == 0:
			return bad(".cmd", "%s is not an executable file", p.Cmd)
		}
	}
	if p.SHA256 != "" {
		if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != 32 {
			return bad(".sha256", "must be 64 hexadecimal digits")
		}
	}
	if p.RequestTimeout < 0 || p.StartTimeout < 0 || p.DrainTimeout < 0 {
		return bad("", "timeouts must not be negative")
	}
	if p.MaxConcurrent < 0 {
		return bad(".max_concurrent", "must not be negative")
	}
	if p.MaxProcs < 0 {
		return bad(".max_procs", "must not be negative")
	}
	cfg := p.RawConfig
	if cfg == nil {
		cfg = map[string]any{}
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return bad(".config", "cannot be encoded as JSON: %v", err)
	}
	p.Config = data
	return nil
}

func (c *Config) validateRoute(i int, r *Route) error {
	key := fmt.Sprintf("routes[%d]", i)
	bad := func(sub, format string, args ...any) error {
		return &Error{File: c.File, Key: key + sub, Reason: fmt.Sprintf(format, args...)}
	}
	if r.Plugin == "" {
		return bad(".plugin", "every route needs a plugin")
	}
	if _, ok := c.Plugins[r.Plugin]; !ok {
		return bad(".plugin", "%q is not a configured plugin", r.Plugin)
	}
	if len(r.Events) == 0 {
		r.Events = []string{protocol.EventRequest.String()}
	}
	r.EventSet = 0
	for j, name := range r.Events {
		ev, err := protocol.ParseEvent(name)
		if err == nil && ev == protocol.EventClientError {
			return bad(fmt.Sprintf(".events[%d]", j), "clientError is not a route event: name its plugin in server.client_error")
		}
		if err == nil && ev == protocol.EventTimeout {
			return bad(fmt.Sprintf(".events[%d]", j), "timeout is not a route event: name its plugin in server.timeout_plugin")
		}
		if err != nil {
			return bad(fmt.Sprintf(".events[%d]", j), "%q is not an event (%s)", name, strings.Join(routeEvents, ", "))
		}
		r.EventSet |= protocol.EventSetOf(ev)
	}
	connect := r.EventSet.Has(protocol.EventConnect)
	other := r.EventSet&^protocol.EventSetOf(protocol.EventConnect) != 0
	if connect {
		if r.Authority == "" {
			return bad(".authority", "a connect route needs authority, a glob on host:port such as \"*\" or \"127.0.0.1:*\"")
		}
	} else if r.Authority != "" {
		return bad(".authority", "only connect routes take an authority")
	}
	if other {
		if r.Path == "" {
			r.Path = "/"
		}
		if !strings.HasPrefix(r.Path, "/") {
			return bad(".path", "%q must start with /", r.Path)
		}
	}
	for j, m := range r.Methods {
		if _, ok := httpspec.LookupMethod([]byte(m)); !ok {
			return bad(fmt.Sprintf(".methods[%d]", j), "%q is not an HTTP method Node knows", m)
		}
	}
	return nil
}
