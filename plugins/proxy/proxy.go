// Package proxy is the proxy plugin: a reverse proxy in front of one
// upstream, built on the SDK's client (sdk/client) and its Agent. Each
// request is passed on with its method, target and fields as they came,
// less the hop-by-hop ones; bodies, 1xx answers, trailers and upgrades
// cross it both ways, with back-pressure, and a failing upstream gives
// 502 or 504, or a cut connection once the answer has begun.
package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/client"
)

// Config is the plugin's [plugins.NAME.config] table.
type Config struct {
	// Upstream is "http://host:port" or "unix:/path/to.sock".
	Upstream string `json:"upstream"`
	// MaxSockets caps the keep-alive pool of connections to the upstream;
	// requests past it wait for one. Default 64.
	MaxSockets int `json:"max_sockets"`
	// Timeout is how long, in milliseconds, an exchange may go without a
	// byte from or to the upstream (while it is not waiting for the
	// client) before it fails: 504 before the answer began, a cut
	// connection after. Default 30000.
	Timeout int `json:"timeout"`
	// PreserveHost sends the client's Host upstream; otherwise the
	// upstream's host:port.
	PreserveHost bool `json:"preserve_host"`
}

// Defaults of Config.
const (
	DefaultMaxSockets = 64
	DefaultTimeout    = 30000
)

// Proxy is the plugin.
type Proxy struct {
	// st is set by Configure, on a goroutine of the control plane, and
	// read by the handlers: the atomic pointer orders the two.
	st atomic.Pointer[state]
}

// state is what the configuration makes; immutable once stored.
type state struct {
	cfg     Config
	target  upstream
	agent   *client.Agent
	timeout time.Duration
	log     hclog.Logger
}

var (
	_ sdk.RequestHandler = (*Proxy)(nil)
	_ sdk.UpgradeHandler = (*Proxy)(nil)
	_ sdk.Configurer     = (*Proxy)(nil)
)

// upstream is where requests go, as the client's options take it.
type upstream struct {
	name       string // as configured, for the log
	host       string
	port       int
	socketPath string
	hostHeader string // Host when it is not the client's
}

// New returns the plugin, which needs its configuration before a request.
func New() *Proxy { return &Proxy{} }

// Configure reads the config table.
func (px *Proxy) Configure(c *sdk.Config) error {
	cfg := Config{MaxSockets: DefaultMaxSockets, Timeout: DefaultTimeout}
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	if cfg.MaxSockets <= 0 {
		return errors.New("max_sockets must be positive")
	}
	if cfg.Timeout <= 0 {
		return errors.New("timeout must be positive")
	}
	target, err := parseUpstream(cfg.Upstream)
	if err != nil {
		return err
	}
	s := &state{cfg: cfg, target: target, timeout: time.Duration(cfg.Timeout) * time.Millisecond}
	s.agent = client.NewAgent(client.AgentOptions{
		KeepAlive:  true,
		MaxSockets: cfg.MaxSockets,
		Timeout:    s.timeout, // an idle pooled connection is closed after it
	})
	s.log = sdk.Logger().With("upstream", target.name)
	px.st.Store(s)
	return nil
}

// parseUpstream reads "http://host:port" or "unix:/path".
func parseUpstream(s string) (upstream, error) {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		if path == "" {
			return upstream{}, errors.New("upstream: unix: needs a socket path")
		}
		return upstream{name: s, socketPath: path, hostHeader: "localhost"}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return upstream{}, fmt.Errorf("upstream: %w", err)
	}
	// https would need settings to trust the upstream's certificate:
	// not yet.
	if u.Scheme != "http" {
		return upstream{}, fmt.Errorf("upstream %q: want http://host:port or unix:/path", s)
	}
	const def = 80
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return upstream{}, fmt.Errorf("upstream %q: want http://host:port, without path, query or user", s)
	}
	port := def
	if ps := u.Port(); ps != "" {
		port, err = strconv.Atoi(ps)
		if err != nil || port <= 0 || port > 65535 {
			return upstream{}, fmt.Errorf("upstream %q: bad port", s)
		}
	}
	return upstream{
		name: s, host: u.Hostname(), port: port,
		hostHeader: hostHeader(u.Hostname(), port, def),
	}, nil
}

// options are the client options of a request to the upstream.
func (s *state) options(method, path string, fields []string, ev client.Events) client.Options {
	noChunking := false // the fields say how the body is framed
	return client.Options{
		Method: method, Path: path, RawHeaders: fields,
		Host: s.target.host, Port: s.target.port, SocketPath: s.target.socketPath,
		Agent: s.agent, ChunkedEncoding: &noChunking,
		Events: ev,
	}
}

// fields builds the upstream request's fields for req.
func (s *state) fields(req *sdk.Request, upgrade bool) outgoing {
	proto := "http"
	if req.Encrypted() {
		proto = "https"
	}
	return requestFields(req.RawHeaders(), s.target.hostHeader, s.cfg.PreserveHost, upgrade,
		forwardedFor{clientIP: clientIP(req.RemoteAddr()), proto: proto})
}
