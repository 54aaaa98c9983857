package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hostd/hostd/internal/sysmon"
)

// The servers of the side-by-side comparison, in their first-round order.
const (
	srvHostd   = "hostd"
	srvEngine  = "engine"
	srvRelay   = "relay"
	srvNetHTTP = "net/http"
	srvNode    = "node"
)

// describe names each server in the report.
var describe = map[string]string{
	srvHostd:   "hostd, handler in a plugin process",
	srvEngine:  "hostd engine, handler in-process",
	srvRelay:   "hostd engine relaying 32 bytes to a second process and back (the hop's floor)",
	srvNetHTTP: "Go net/http, in-process",
	srvNode:    "Node.js http.createServer",
}

// server is a running server under test.
type server struct {
	name string
	addr string // 127.0.0.1:port
	path string // what the load asks for; "" is "/"
	proc *proc
}

// target is the request-target the load asks s for.
func (s *server) target() string {
	if s.path == "" {
		return "/"
	}
	return s.path
}

// build compiles hostd, the plugins the bench uses and its stream plugin
// into dir.
func build(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator),
		"./cmd/hostd", "./plugins/echo/cmd/echo", "./plugins/tunnel/cmd/tunnel",
		"./plugins/proxy/cmd/proxy", "./examples/hello", "./bench/plugins/stream")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// moduleRoot is the folder of the go.mod the bench belongs to.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the bench from within the hostd module (go run ./bench)")
	}
	return filepath.Dir(gomod), nil
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// helloConfig is hostd's configuration for the hello-world comparison.
func (b *bench) helloConfig(addr string) string {
	return fmt.Sprintf(`[server]
listen = [%q]
keep_alive_timeout = 600000

[plugins.hello]
cmd = %q

[[routes]]
path = "/"
plugin = "hello"
`, addr, filepath.Join(b.bin, "hello"))
}

// streamConfig is hostd's configuration for the byte-moving figures: the
// echo plugin (upload, upgrade), the tunnel plugin (CONNECT) and the
// bench's stream plugin (download).
func (b *bench) streamConfig(addr string) string {
	return fmt.Sprintf(`[server]
listen = [%q]
keep_alive_timeout = 600000

[plugins.echo]
cmd = %q
[plugins.echo.config]
max_body = 1024

[plugins.tunnel]
cmd = %q
[plugins.tunnel.config]
allow = ["127.0.0.1:*"]

[plugins.stream]
cmd = %q

[[routes]]
path = "/echo"
events = ["request", "upgrade"]
plugin = "echo"

[[routes]]
path = "/stream"
plugin = "stream"

[[routes]]
authority = "*"
events = ["connect"]
plugin = "tunnel"
`, addr, filepath.Join(b.bin, "echo"), filepath.Join(b.bin, "tunnel"), filepath.Join(b.bin, "stream"))
}

// startHostd starts hostd with config and waits until readyPath answers
// 200.
func (b *bench) startHostd(ctx context.Context, name, addr, config, readyPath string) (*server, error) {
	file := filepath.Join(b.dir, name+".toml")
	if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
		return nil, err
	}
	p, err := b.procs.start(name, nil, filepath.Join(b.bin, "hostd"), "-config", file, "-watch=false", "-log-level", "warn")
	if err != nil {
		return nil, err
	}
	s := &server{name: srvHostd, addr: addr, proc: p}
	return s, b.waitHTTP(ctx, s, readyPath)
}

// startServer starts one of the hello-world servers on a fresh port.
func (b *bench) startServer(ctx context.Context, name string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var p *proc
	switch name {
	case srvHostd:
		return b.startHostd(ctx, "hostd-hello", addr, b.helloConfig(addr), "/")
	case srvEngine:
		p, err = b.procs.start("engine", []string{envHelper + "=engine", envAddr + "=" + addr}, b.self)
	case srvRelay:
		// With hostd's runtime setting (internal/sysmon), as hostd and
		// its plugins run.
		p, err = b.procs.start("relay", []string{envHelper + "=relay", envAddr + "=" + addr, "GODEBUG=" + sysmon.Setting}, b.self)
	case srvNetHTTP:
		p, err = b.procs.start("nethttp", []string{envHelper + "=nethttp", envAddr + "=" + addr}, b.self)
	case srvNode:
		host, port, _ := net.SplitHostPort(addr)
		p, err = b.procs.start("node", nil, b.node, filepath.Join(b.dir, "server.js"), host, port)
	default:
		return nil, fmt.Errorf("unknown server %q", name)
	}
	if err != nil {
		return nil, err
	}
	s := &server{name: name, addr: addr, proc: p}
	return s, b.waitHTTP(ctx, s, "/")
}

// startTCPHelper starts the echo or forward helper.
func (b *bench) startTCPHelper(ctx context.Context, mode, target string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := b.procs.start(mode, []string{envHelper + "=" + mode, envAddr + "=" + addr, envTarget + "=" + target}, b.self)
	if err != nil {
		return nil, err
	}
	s := &server{name: mode, addr: addr, proc: p}
	return s, b.wait(ctx, s, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// waitHTTP waits until GET path answers 200.
func (b *bench) waitHTTP(ctx context.Context, s *server, path string) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return b.wait(ctx, s, func() bool {
		resp, err := client.Get("http://" + s.addr + path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// wait polls ready for up to 30 s, failing early if the process exits.
func (b *bench) wait(ctx context.Context, s *server, ready func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		switch {
		case s.proc.exited():
			return fmt.Errorf("%s exited during start\n%s", s.proc.name, s.proc.tail())
		case time.Now().After(deadline):
			return fmt.Errorf("%s not ready after 30s\n%s", s.proc.name, s.proc.tail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// alive fails with the server's last output if its process has exited.
func (s *server) alive() error {
	if s.proc.exited() {
		return fmt.Errorf("%s exited\n%s", s.proc.name, s.proc.tail())
	}
	return nil
}
