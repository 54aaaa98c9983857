package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/plugins/proxy"
)

// bin holds the proxy plugin's own executable and hostd, built once.
var bin string

func TestMain(m *testing.M) {
	hostdtest.ServeBuiltin(map[string]func() any{"proxy": func() any { return proxy.New() }})
	hostdtest.Main(m, &bin, "github.com/hostd/hostd/plugins/proxy/cmd/proxy", "github.com/hostd/hostd/cmd/hostd")
}

//go:embed testdata/upstream.js
var upstreamJS string

// upstream is a Node v20 server started by a test.
type upstream struct {
	addr  string // host:port, or "" on a Unix socket
	stats func(t *testing.T) connStats
}

// startUpstream runs testdata/upstream.js, named name, on 127.0.0.1 or on
// socketPath when it is set.
func startUpstream(t *testing.T, name, socketPath string) upstream {
	t.Helper()
	statsPath := filepath.Join(t.TempDir(), "stats.sock")
	src := fmt.Sprintf("'use strict';\nconst name = %q, socketPath = %q, statsPath = %q;\n", name, socketPath, statsPath) + upstreamJS
	addr := testutil.StartNode(t, src)
	u := upstream{stats: func(t *testing.T) connStats { return readStats(t, statsPath) }}
	if socketPath == "" {
		u.addr = addr
	}
	return u
}

// connStats are the upstream's connections as it counted them.
type connStats struct {
	Open, Max, Total int
	Download         struct {
		Sent    int64
		Stalled bool
	}
}

func readStats(t *testing.T, path string) connStats {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	res, err := c.Get("http://upstream/")
	require.NoError(t, err)
	defer res.Body.Close()
	var s connStats
	require.NoError(t, json.NewDecoder(res.Body).Decode(&s))
	return s
}

// withLog sends hostd's log to b as well as to the test's log.
func withLog(t *testing.T, b *hostdtest.LogBuffer) hostdtest.Option {
	return func(o *hostd.Options) {
		o.Logger = hclog.New(&hclog.LoggerOptions{Name: "hostd", Output: io.MultiWriter(b, testLog{t}), Level: hclog.Debug})
	}
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// requireLogged waits until the log has a line with every part.
func requireLogged(t *testing.T, b *hostdtest.LogBuffer, parts ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(b.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no log line with %q in:\n%s", parts, b)
}

// proxyTOML is hostd with one proxy plugin, named proxy, routed at /app.
// table is the plugin's config table.
func proxyTOML(table string) string {
	return `
[server]
listen = ["127.0.0.1:0"]
[plugins.proxy]
builtin = "proxy"
[plugins.proxy.config]
` + table + `
[[routes]]
path = "/app"
events = ["request", "upgrade"]
plugin = "proxy"
`
}

// start runs hostd with the proxy in front of upstream, with extra keys
// in its config table.
func start(t *testing.T, upstreamURL, extra string, opts ...hostdtest.Option) *hostdtest.Host {
	t.Helper()
	return hostdtest.Start(t, proxyTOML(fmt.Sprintf("upstream = %q\n%s", upstreamURL, extra)),
		append([]hostdtest.Option{hostdtest.WithBuiltins("proxy")}, opts...)...)
}

// rawResponse is an answer read off a connection: the head's lines as
// sent, and the body decoded.
type rawResponse struct {
	status   string   // the status line
	lines    []string // the header lines, "Name: value"
	body     string
	trailers []string // the trailer lines of a chunked body
}

// header returns the values of the lines named name (any case).
func (r *rawResponse) header(name string) []string {
	var v []string
	for _, l := range r.lines {
		n, val, _ := strings.Cut(l, ": ")
		if strings.EqualFold(n, name) {
			v = append(v, val)
		}
	}
	return v
}

// readRaw reads one answer from br, for a request of method.
func readRaw(t *testing.T, br *bufio.Reader, method string) *rawResponse {
	t.Helper()
	r := &rawResponse{}
	for {
		l, err := br.ReadString('\n')
		require.NoError(t, err, "reading the head")
		l = strings.TrimRight(l, "\r\n")
		if r.status == "" {
			r.status = l
			continue
		}
		if l == "" {
			break
		}
		r.lines = append(r.lines, l)
	}
	code, _ := strconv.Atoi(strings.Fields(r.status)[1])
	switch {
	case code < 200:
		return r // a 1xx: the caller reads the next head
	case method == "HEAD" || code == 204 || code == 304:
	case len(r.header("transfer-encoding")) > 0:
		cr := httputil.NewChunkedReader(br)
		b, err := io.ReadAll(cr)
		require.NoError(t, err, "reading a chunked body")
		r.body = string(b)
		for {
			l, err := br.ReadString('\n')
			require.NoError(t, err, "reading the trailers")
			if l = strings.TrimRight(l, "\r\n"); l == "" {
				break
			}
			r.trailers = append(r.trailers, l)
		}
	case len(r.header("content-length")) > 0:
		n, err := strconv.Atoi(r.header("content-length")[0])
		require.NoError(t, err)
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		require.NoError(t, err, "reading the body")
		r.body = string(b)
	default:
		b, err := io.ReadAll(br)
		require.NoError(t, err)
		r.body = string(b)
	}
	return r
}

// exchange writes raw on a new connection to hostd and reads one answer.
func exchange(t *testing.T, h *hostdtest.Host, raw, method string) (*rawResponse, *bufio.Reader, net.Conn) {
	t.Helper()
	c := h.Dial(t)
	require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
	_, err := io.WriteString(c, raw)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	return readRaw(t, br, method), br, c
}

// rawUpstream is an HTTP upstream written by hand, for answers no real
// server gives: each connection is numbered from 1, and the last path
// segment of a request picks the bytes it gets back.
func rawUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			go serveRaw(c, n)
		}
	}()
	return ln.Addr().String()
}

func serveRaw(c net.Conn, n int32) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		target := strings.Fields(line)[1]
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if l == "\r\n" {
				break
			}
		}
		body := "conn=" + strconv.Itoa(int(n))
		switch target[strings.LastIndexByte(target, '/')+1:] {
		case "ok":
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		case "both":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
		case "badchunk":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
		case "badstatus":
			io.WriteString(c, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
		case "noframing":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Raw: 1\r\n\r\nread until the upstream closes")
			return
		}
	}
}

// pattern is an endless reader of the bytes the Node upstream checks and
// sends: a to z, over and over.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte('a' + (p.n+int64(i))%26)
	}
	p.n += int64(len(b))
	return len(b), nil
}

// hostdProcess is the hostd binary run by a test, listening on a Unix
// socket.
type hostdProcess struct {
	pid    int
	client *http.Client // any URL goes to hostd
}

// startHostdProcess runs bin/hostd with config, its listen address
// replaced by a Unix socket, and waits until it listens, which hostd
// does once its plugins have started.
func startHostdProcess(t *testing.T, config string) *hostdProcess {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "hostd.sock")
	file := filepath.Join(dir, "hostd.toml")
	config = strings.Replace(config, `listen = ["127.0.0.1:0"]`, fmt.Sprintf("listen = [%q]", "unix:"+sock), 1)
	require.NoError(t, os.WriteFile(file, []byte(config), 0o600))
	cmd := exec.Command(filepath.Join(bin, "hostd"), "-config", file, "-watch=false", "-log-level", "warn")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	p := &hostdProcess{pid: cmd.Process.Pid, client: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}}
	require.Eventually(t, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 20*time.Millisecond, "hostd listening on %s", sock)
	return p
}

// pluginPid is the process id of hostd's child whose executable is named
// name.
func (p *hostdProcess) pluginPid(t *testing.T, name string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, in parentheses: state ppid …
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(p.pid) {
			continue
		}
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && filepath.Base(exe) == name {
			return pid
		}
	}
	t.Fatalf("no process %q under hostd (%d)", name, p.pid)
	return 0
}
