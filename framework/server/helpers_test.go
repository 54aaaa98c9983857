package server_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// ioTimeout bounds every blocking step of a test client, so that a server
// bug shows up as a failure rather than a hung test.
const ioTimeout = 10 * time.Second

// start runs a server with opts on 127.0.0.1 and returns it with its
// address. The server and all its connections are closed when the test
// ends, and the test fails if they do not go away.
func start(t testing.TB, opts server.Options) (*server.Server, string) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	srv := server.New(opts)
	l, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { stop(t, srv) })
	return srv, l.Addr().String()
}

// startManual is start with a manual clock: no timeout fires unless the
// test moves the clock and ticks.
func startManual(t testing.TB, opts server.Options) (*server.Server, string, *server.Clock) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	srv := server.New(opts)
	clock := server.ManualClock(srv)
	l, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { stop(t, srv) })
	return srv, l.Addr().String(), clock
}

// dialManual is dial to a server on a manual clock, returning once the
// server has the connection: its clock has started, and ticks check it.
func dialManual(t testing.TB, srv *server.Server, addr string) *client {
	t.Helper()
	before := srv.ConnectionCount()
	c := dial(t, addr)
	waitFor(t, "the server to accept", func() bool { return srv.ConnectionCount() > before })
	return c
}

// pass moves clock by d and ticks, as d of real time would.
func pass(clock *server.Clock, d time.Duration) {
	clock.Advance(d)
	clock.Tick()
}

// stop closes srv and every connection it has, and waits for it.
func stop(t testing.TB, srv *server.Server) {
	t.Helper()
	_ = srv.Close()
	srv.CloseAllConnections()
	select {
	case <-srv.Done():
	case <-time.After(ioTimeout):
		t.Errorf("server still has %d connections after CloseAllConnections", srv.ConnectionCount())
	}
}

// hello is a handler that answers "hello world" with a Content-Length.
func hello(_ *server.IncomingMessage, res *server.ServerResponse) {
	_ = res.EndString("hello world")
}

// client is a raw HTTP client: it writes bytes and reads responses byte
// for byte, so tests can assert exactly what the server sent.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial connects to addr ("unix:/path" for a Unix socket).
func dial(t testing.TB, addr string) *client {
	t.Helper()
	network := "tcp"
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", p
	}
	nc, err := net.DialTimeout(network, addr, ioTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(ioTimeout)))
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes s.
func (c *client) send(s string) {
	c.t.Helper()
	_, err := io.WriteString(c.nc, s)
	require.NoError(c.t, err)
}

// response is one response as read by a client.
type response struct {
	raw      string // every byte of it, as received
	status   int
	reason   string
	header   map[string][]string // lower-case names
	body     string              // without chunked framing
	trailer  map[string][]string
	chunked  bool
	untilEOF bool // the body was delimited by the connection closing
}

// get returns the first value of the header name (lower case).
func (r *response) get(name string) string {
	if v := r.header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// read reads one response: a 1xx, or a final response and its body.
func (c *client) read() *response {
	c.t.Helper()
	r, err := c.tryRead(false)
	require.NoError(c.t, err)
	return r
}

// readHead reads a response to HEAD, which has no body whatever its
// headers say.
func (c *client) readHead() *response {
	c.t.Helper()
	r, err := c.tryRead(true)
	require.NoError(c.t, err)
	return r
}

// readFinal reads responses until a final (non-1xx) one and returns it.
func (c *client) readFinal() *response {
	c.t.Helper()
	for {
		r := c.read()
		if r.status >= 200 {
			return r
		}
	}
}

func (c *client) tryRead(noBody bool) (*response, error) {
	var raw bytes.Buffer
	r := &response{header: map[string][]string{}, trailer: map[string][]string{}}
	line, err := c.line(&raw)
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	if proto != "HTTP/1.1" {
		return nil, errors.New("bad status line " + strconv.Quote(line))
	}
	code, reason, _ := strings.Cut(rest, " ")
	r.status, err = strconv.Atoi(code)
	if err != nil {
		return nil, err
	}
	r.reason = reason
	if err := c.fields(&raw, r.header); err != nil {
		return nil, err
	}
	switch {
	case noBody, r.status < 200, r.status == 204, r.status == 304:
	case strings.Contains(strings.ToLower(r.get("transfer-encoding")), "chunked"):
		r.chunked = true
		var body bytes.Buffer
		for {
			size, err := c.line(&raw)
			if err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(size, 16, 64)
			if err != nil {
				return nil, errors.New("bad chunk size " + strconv.Quote(size))
			}
			if n == 0 {
				break
			}
			if _, err := io.CopyN(io.MultiWriter(&raw, &body), c.br, n); err != nil {
				return nil, err
			}
			if end, err := c.line(&raw); err != nil || end != "" {
				return nil, errors.New("chunk not followed by CRLF")
			}
		}
		if err := c.fields(&raw, r.trailer); err != nil {
			return nil, err
		}
		r.body = body.String()
	case r.get("content-length") != "":
		n, err := strconv.ParseInt(r.get("content-length"), 10, 64)
		if err != nil {
			return nil, err
		}
		var body bytes.Buffer
		if _, err := io.CopyN(io.MultiWriter(&raw, &body), c.br, n); err != nil {
			return nil, err
		}
		r.body = body.String()
	default:
		r.untilEOF = true
		b, err := io.ReadAll(c.br)
		if err != nil && !isReset(err) {
			return nil, err
		}
		raw.Write(b)
		r.body = string(b)
	}
	r.raw = raw.String()
	return r, nil
}

// line reads one CRLF-terminated line, recording it in raw.
func (c *client) line(raw *bytes.Buffer) (string, error) {
	s, err := c.br.ReadString('\n')
	raw.WriteString(s)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(s, "\r\n") {
		return "", errors.New("line without CRLF " + strconv.Quote(s))
	}
	return s[:len(s)-2], nil
}

// fields reads header fields up to the blank line into h.
func (c *client) fields(raw *bytes.Buffer, h map[string][]string) error {
	for {
		line, err := c.line(raw)
		if err != nil {
			return err
		}
		if line == "" {
			return nil
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			return errors.New("bad field " + strconv.Quote(line))
		}
		name = strings.ToLower(name)
		h[name] = append(h[name], value)
	}
}

// readAll reads everything until the server closes the connection.
func (c *client) readAll() string {
	c.t.Helper()
	b, err := io.ReadAll(c.br)
	if err != nil && !isReset(err) {
		require.NoError(c.t, err)
	}
	return string(b)
}

// expectClosed asserts that the server closes the connection without
// sending anything more.
func (c *client) expectClosed() {
	c.t.Helper()
	require.Equal(c.t, "", c.readAll(), "the server sent bytes before closing")
}

// expectSilence asserts that nothing arrives for d and the connection
// stays open.
func (c *client) expectSilence(d time.Duration) {
	c.t.Helper()
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(d)))
	b, err := c.br.Peek(1)
	var ne net.Error
	require.True(c.t, errors.As(err, &ne) && ne.Timeout(), "expected silence, got %q, %v", b, err)
	require.NoError(c.t, c.nc.SetReadDeadline(time.Now().Add(ioTimeout)))
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || errors.Is(err, net.ErrClosed))
}

var dateField = regexp.MustCompile(`Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n`)

// maskDate replaces the value of every well-formed Date field with "X".
func maskDate(s string) string { return dateField.ReplaceAllString(s, "Date: X\r\n") }

// waitFor polls cond until it holds, failing the test after ioTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, ioTimeout, 5*time.Millisecond, what)
}

// recv waits for a value on ch, failing the test after ioTimeout.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(ioTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// readBody reads the whole request body.
func readBody(req *server.IncomingMessage) (string, error) {
	b, err := io.ReadAll(req)
	return string(b), err
}
