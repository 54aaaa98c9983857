package hostdtest

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
)

// Host is a hostd started by a test.
type Host struct {
	*hostd.Host
	File string // the configuration file, which a test may rewrite
	Addr string // host:port of the first listener
	URL  string // http://Addr
	// Client is a keep-alive client that never uses a proxy.
	Client *http.Client
}

// Option adjusts the hostd.Options of Start.
type Option func(*hostd.Options)

// WithWatch turns file watching on.
func WithWatch() Option { return func(o *hostd.Options) { o.Watch = true } }

// WithBuiltins adds builtin names the test binary serves.
func WithBuiltins(names ...string) Option {
	return func(o *hostd.Options) { o.Builtins = append(o.Builtins, names...) }
}

// Start writes config to a file in a temporary folder and starts hostd
// from it. The configuration should listen on 127.0.0.1:0. hostd is shut
// down when the test ends.
func Start(t testing.TB, config string, opts ...Option) *Host {
	t.Helper()
	file := filepath.Join(t.TempDir(), "hostd.toml")
	require.NoError(t, os.WriteFile(file, []byte(config), 0o644))
	o := hostd.Options{ConfigFile: file, Builtins: BuiltinNames(), Logger: Logger(t)}
	for _, opt := range opts {
		opt(&o)
	}
	h, err := hostd.New(o)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, h.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	addr := h.Addrs()[0].String()
	return &Host{
		Host:   h,
		File:   file,
		Addr:   addr,
		URL:    "http://" + addr,
		Client: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second},
	}
}

// Logger returns an hclog logger writing to the test's log, which goes
// quiet once the test ends (plugins may log during shutdown).
func Logger(t testing.TB) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return hclog.New(&hclog.LoggerOptions{Name: "hostd", Output: w, Level: hclog.Info})
}

type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Get requests path and returns the response with its body read.
func (h *Host) Get(t testing.TB, path string) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.URL+path, nil)
	require.NoError(t, err)
	return h.Do(t, req)
}

// Do sends req and returns the response with its body read.
func (h *Host) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	res, err := h.Client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return &Response{Response: res, Body: string(body), t: t}
}

// Status requests path and returns the status and X-Pid, or 0 when the
// request fails: for polling in require.Eventually.
func (h *Host) Status(path string) (int, string) {
	res, err := h.Client.Get(h.URL + path)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("X-Pid")
}

// Response is a response with its body, and assertions.
type Response struct {
	*http.Response
	Body string
	t    testing.TB
}

// RequireStatus fails the test unless the status is code.
func (r *Response) RequireStatus(code int) *Response {
	r.t.Helper()
	require.Equal(r.t, code, r.StatusCode, "body: %s", r.Body)
	return r
}

// RequireBody fails the test unless the body is body.
func (r *Response) RequireBody(body string) *Response {
	r.t.Helper()
	require.Equal(r.t, body, r.Body)
	return r
}

// RequireHeader fails the test unless the header name has value.
func (r *Response) RequireHeader(name, value string) *Response {
	r.t.Helper()
	require.Equal(r.t, value, r.Header.Get(name), "header %s", name)
	return r
}

// Dial opens a raw connection to hostd.
func (h *Host) Dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.Addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// Raw writes raw bytes on a new connection and returns everything hostd
// writes back until it closes the connection or timeout passes.
func (h *Host) Raw(t testing.TB, raw string, timeout time.Duration) string {
	t.Helper()
	c := h.Dial(t)
	_, err := io.WriteString(c, raw)
	require.NoError(t, err)
	return ReadUntilClose(c, timeout)
}

// ReadUntilClose reads c until end of file or timeout.
func ReadUntilClose(c net.Conn, timeout time.Duration) string {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	b, _ := io.ReadAll(c)
	return string(b)
}

// ReadResponse reads one response from br for a request of method.
func ReadResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	return res, string(body)
}
