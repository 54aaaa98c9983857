package pluginhost_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/socketpair"
	"github.com/hostd/hostd/protocol"
)

// patience bounds every wait of these tests, so that a host that never
// answers fails the test instead of hanging it. It is not a speed
// assertion: everything awaited happens at once on a healthy host.
const patience = 30 * time.Second

// host is a real server on 127.0.0.1 whose requests go to instances
// attached to fake plugins, chosen by the first segment of the path.
type host struct {
	srv  *server.Server
	addr string

	mu     sync.Mutex
	routes map[string]*pluginhost.Instance

	// served receives the target of each request whose ServeHTTP has
	// returned (its stream is closed then), when a test waits for it.
	served chan string
}

func newHost(t testing.TB) *host {
	t.Helper()
	h := &host{routes: make(map[string]*pluginhost.Instance), served: make(chan string, 1)}
	h.srv = server.New(server.Options{Handlers: server.Handlers{Request: h.serve, Upgrade: h.upgrade, ClientError: h.clientError}})
	l, err := h.srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	h.addr = l.Addr().String()
	t.Cleanup(func() {
		h.srv.Close()
		h.srv.CloseAllConnections()
		<-h.srv.Done()
	})
	return h
}

func (h *host) route(req *server.IncomingMessage) *pluginhost.Instance {
	route, _, _ := strings.Cut(strings.TrimPrefix(string(req.Head().Target), "/"), "/")
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.routes[route]
}

// upgrade is what framework/hostd does with a routed upgrade.
func (h *host) upgrade(req *server.IncomingMessage, conn net.Conn, head []byte) {
	if in := h.route(req); in != nil && in.Reserve() {
		in.ServeSocket(protocol.EventUpgrade, req, conn, head)
		return
	}
	conn.Close()
}

// clientError sends client errors to the instance routed as "clientError",
// as framework/hostd does with [server] client_error.
func (h *host) clientError(ce *server.ClientError, conn net.Conn) {
	h.mu.Lock()
	in := h.routes["clientError"]
	h.mu.Unlock()
	if in != nil && in.Reserve() {
		in.ServeClientError(ce, conn)
	}
}

// serve is what framework/hostd does with a routed request.
func (h *host) serve(req *server.IncomingMessage, res *server.ServerResponse) {
	in := h.route(req)
	switch {
	case in == nil:
		pluginhost.PlainAnswer(res, 404)
	case !in.Reserve():
		pluginhost.PlainAnswer(res, 503)
	default:
		target := string(req.Head().Target)
		in.ServeHTTP(protocol.EventRequest, req, res)
		select {
		case h.served <- target:
		default: // nobody waits
		}
	}
}

// attach starts an instance on a new data plane, routes /route/... to it
// and returns the fake plugin on the other end. The plugin's end closes at
// cleanup, which ends the instance.
func (h *host) attach(t testing.TB, route string, spec pluginhost.Spec) (*pluginhost.Instance, *peer) {
	t.Helper()
	return h.attachHooked(t, route, spec, pluginhost.Hooks{})
}

// attachHooked is attach for an instance whose reader goroutine the test
// pauses with hooks.
func (h *host) attachHooked(t testing.TB, route string, spec pluginhost.Spec, hooks pluginhost.Hooks) (*pluginhost.Instance, *peer) {
	t.Helper()
	hostEnd, pluginEnd, err := socketpair.Conns()
	require.NoError(t, err)
	spec.Name = route
	in := pluginhost.Attach(hostEnd, spec, hooks, protocol.EventRequest.String(), protocol.EventUpgrade.String(), protocol.EventClientError.String())
	p := newPeer(pluginEnd)
	t.Cleanup(func() {
		p.close()
		<-p.gone
	})
	h.mu.Lock()
	h.routes[route] = in
	h.mu.Unlock()
	return in, p
}

// frame is a frame the fake plugin received, its payload copied.
type frame struct {
	Type    protocol.Type
	Payload []byte
}

// peer is a fake plugin: it speaks the data plane's frames directly.
type peer struct {
	conn *net.UnixConn
	w    *protocol.Writer
	reqs chan *pstream
	gone chan struct{} // closed when the host's end closed or the peer did

	closing   chan struct{} // closed by close: the reader stops queueing
	closeOnce sync.Once

	mu      sync.Mutex
	streams map[uint32]*pstream
}

// pstream is one stream as the fake plugin sees it.
type pstream struct {
	id     uint32
	head   protocol.RequestHead // its slices are the peer's own copies
	frames chan frame
}

func newPeer(c *net.UnixConn) *peer {
	p := &peer{
		conn:    c,
		w:       protocol.NewWriter(c, nil),
		reqs:    make(chan *pstream, 64),
		gone:    make(chan struct{}),
		closing: make(chan struct{}),
		streams: make(map[uint32]*pstream),
	}
	go p.readLoop()
	return p
}

func (p *peer) readLoop() {
	defer close(p.gone)
	r := protocol.NewReader(p.conn)
	for {
		f, err := r.Next()
		if err != nil {
			return
		}
		payload := append([]byte(nil), f.Payload...)
		if f.Type == protocol.TypeRequest {
			s := &pstream{id: f.Stream, frames: make(chan frame, 1024)}
			if err := protocol.DecodeRequestHead(payload, &s.head); err != nil {
				panic(err) // the host sent a frame its own decoder refuses
			}
			p.mu.Lock()
			p.streams[f.Stream] = s
			p.mu.Unlock()
			select {
			case p.reqs <- s:
			case <-p.closing:
				return
			}
			continue
		}
		p.mu.Lock()
		s := p.streams[f.Stream]
		p.mu.Unlock()
		if s != nil {
			select {
			case s.frames <- frame{f.Type, payload}:
			case <-p.closing:
				return
			}
		}
	}
}

// request waits for the next stream the host opens.
func (p *peer) request(t testing.TB) *pstream {
	t.Helper()
	select {
	case s := <-p.reqs:
		return s
	case <-p.gone:
		t.Fatal("the data plane closed while a request was awaited")
	case <-time.After(patience):
		t.Fatal("no request reached the plugin")
	}
	return nil
}

// await returns the next frame of type want the host sends on s, skipping
// credits.
func (s *pstream) await(t testing.TB, want protocol.Type) frame {
	t.Helper()
	for {
		select {
		case f := <-s.frames:
			if f.Type == protocol.TypeCredit && want != protocol.TypeCredit {
				continue
			}
			require.Equal(t, want, f.Type, "frame on stream %d", s.id)
			return f
		case <-time.After(patience):
			t.Fatalf("no %s frame on stream %d", want, s.id)
		}
	}
}

// awaitGone waits until the host has closed its end of the data plane.
func (p *peer) awaitGone(t testing.TB) {
	t.Helper()
	select {
	case <-p.gone:
	case <-time.After(patience):
		t.Fatal("the host kept the data plane open")
	}
}

// send writes one frame.
func (p *peer) send(id uint32, t protocol.Type, payload []byte) {
	_ = p.w.Write(append(protocol.AppendHeader(nil, id, t, len(payload)), payload...))
}

// raw writes bytes as they are, framed or not.
func (p *peer) raw(b []byte) { _ = p.w.Write(b) }

// head sends a response head; fields are names and values alternating.
func (p *peer) head(id uint32, status uint16, flags uint8, fields ...string) {
	p.send(id, protocol.TypeHead, headPayload(status, flags, fields...))
}

func headPayload(status uint16, flags uint8, fields ...string) []byte {
	return protocol.AppendResponseHead(nil, &protocol.ResponseHead{Status: status, Flags: flags, Length: -1, Fields: byteFields(fields)})
}

// body sends response body bytes.
func (p *peer) body(id uint32, data string) { p.send(id, protocol.TypeBody, []byte(data)) }

// end ends a response with data and no head of its own.
func (p *peer) end(id uint32, data string) {
	p.send(id, protocol.TypeEnd, protocol.AppendEnd(nil, &protocol.End{Data: []byte(data)}))
}

// answer sends a whole response in one End frame, as the SDK does for a
// small answer.
func (p *peer) answer(id uint32, status uint16, data string) {
	p.send(id, protocol.TypeEnd, endPayload(status, data))
}

func endPayload(status uint16, data string) []byte {
	return protocol.AppendEnd(nil, &protocol.End{
		HasHead: true,
		Head:    protocol.ResponseHead{Status: status, Length: -1, Fields: byteFields([]string{"Content-Type", "text/plain"})},
		Data:    []byte(data),
	})
}

// close ends the plugin's side of the data plane, as a dying plugin does.
func (p *peer) close() {
	p.closeOnce.Do(func() { close(p.closing) })
	p.conn.Close()
}

func byteFields(fields []string) [][]byte {
	out := make([][]byte, len(fields))
	for i, f := range fields {
		out[i] = []byte(f)
	}
	return out
}

// client is a raw HTTP/1.1 connection to the host.
type client struct {
	conn net.Conn
	br   *bufio.Reader
	seen bytes.Buffer // every byte read from conn
}

func (h *host) dial(t testing.TB) *client {
	t.Helper()
	c, err := net.Dial("tcp", h.addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(patience)))
	cl := &client{conn: c}
	cl.br = bufio.NewReader(io.TeeReader(c, &cl.seen))
	return cl
}

func (c *client) write(t testing.TB, raw string) {
	t.Helper()
	_, err := io.WriteString(c.conn, raw)
	require.NoError(t, err)
}

// get sends a GET for path on the kept-alive connection.
func (c *client) get(t testing.TB, path string) {
	t.Helper()
	c.write(t, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
}

// response reads the next final response and its whole body. err is
// non-nil when the response is not complete: the connection closed before
// its end (io.ErrUnexpectedEOF) or before any of it (io.EOF).
func (c *client) response() (*http.Response, string, error) {
	for {
		res, err := http.ReadResponse(c.br, nil)
		if err != nil {
			return nil, "", err
		}
		if res.StatusCode >= 200 || res.StatusCode == 101 {
			b, err := io.ReadAll(res.Body)
			return res, string(b), err
		}
	}
}

// requireAnswer reads the next response and requires it complete, with
// this status and body.
func (c *client) requireAnswer(t testing.TB, status int, body string) *http.Response {
	t.Helper()
	res, got, err := c.response()
	require.NoError(t, err, "the response must be complete")
	require.Equal(t, status, res.StatusCode)
	require.Equal(t, body, got)
	return res
}

// requireBadGateway reads the host's own 502 and requires that nothing of
// the plugin's refused answer reached the client.
func (c *client) requireBadGateway(t testing.TB) {
	t.Helper()
	res := c.requireAnswer(t, 502, "Bad Gateway\n")
	for name := range res.Header {
		require.Contains(t, []string{"Content-Type", "Content-Length", "Date", "Connection", "Keep-Alive"}, name,
			"a header of the refused answer reached the client")
	}
}

// requireClosed requires that the host closed the connection, with
// nothing more to read.
func (c *client) requireClosed(t testing.TB) {
	t.Helper()
	b, err := io.ReadAll(c.br)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil
	}
	require.NoError(t, err, "the connection must be closed, not left hanging")
	require.Empty(t, string(b))
}
