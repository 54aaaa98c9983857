// Package sdktest runs a hostd plugin's handlers in a test, without hostd.
//
// A Host plays hostd's part of the data plane over a real Unix socketpair,
// with the plugin served by sdk.ServeConn in the test's process: it sends
// requests as hostd does, applies the frames the handler sends into a
// Recorder, and enforces the protocol, flow control included. A protocol
// error, or a handler that does not finish in time, fails the test.
//
//	func TestHello(t *testing.T) {
//		rec := sdktest.Do(t, hello.New(), sdktest.Request{URL: "/"})
//		require.Equal(t, 200, rec.Status)
//		require.Equal(t, "text/plain", rec.Header("Content-Type"))
//		require.Equal(t, "Hello, World!", string(rec.Body))
//	}
//
// The Recorder holds what the handler sent, not HTTP bytes: hostd decides
// the framing (Content-Length or chunked, Date, Connection), so those
// headers appear only if the handler set them.
//
// The Host is a strict peer: it grants response credit only once the
// handler has used its whole window, so that Write's flow control is
// exercised, and it checks that request-body credit follows the
// handler's reads. Start returns an Exchange for tests that act while the
// handler runs (Abort, Timeout). The frames behind an answer are the
// SDK's own business: its tests read them through sdk/internal/wiretest.
//
// Upgrade and CONNECT handlers get a socket connected to the net.Conn that
// Dial returns; clientError handlers are run by ClientError.
//
// Under the race detector, what a handler wrote before sending its answer
// may be read by the test after Do returns, as if the plugin were another
// process. Bytes written on an upgraded socket do not order memory that
// way: pass values out of an upgrade handler with a channel.
package sdktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/internal/socketpair"
	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
)

// DefaultTimeout is how long the harness waits for the handler, unless
// WithTimeout says otherwise.
const DefaultTimeout = 5 * time.Second

// Option configures a Host.
type Option func(*options)

type options struct {
	name    string
	config  []byte
	cfgErr  error
	relay   bool
	reject  bool
	join    bool
	timeout time.Duration
	logger  hclog.Logger
}

// WithConfig gives the plugin a config table, as hostd does from
// [plugins.NAME.config]: JSON as []byte, json.RawMessage or string, or
// any value that encoding/json marshals to an object, such as a map.
// The plugin's Configurer gets it before any request.
func WithConfig(cfg any) Option {
	return func(o *options) {
		switch c := cfg.(type) {
		case []byte:
			o.config = c
		case json.RawMessage:
			o.config = c
		case string:
			o.config = []byte(c)
		default:
			o.config, o.cfgErr = json.Marshal(c)
		}
	}
}

// WithName sets the plugin's name, Config.Name; default "test".
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithRelaySockets relays the sockets of upgrade and CONNECT as frames,
// as hostd does when it cannot pass the descriptor; by default the
// handler gets the descriptor itself, unless the plugin asks for relaying
// (sdk.SocketRelayer).
func WithRelaySockets() Option { return func(o *options) { o.relay = true } }

// WithRejectNonStandardBodyWrites turns on the server option of that name:
// writing a body to a HEAD, 204 or 304 response is an error.
func WithRejectNonStandardBodyWrites() Option { return func(o *options) { o.reject = true } }

// WithJoinDuplicateHeaders turns on the server option of that name:
// Request.Headers joins repeated fields that Node keeps the first of.
func WithJoinDuplicateHeaders() Option { return func(o *options) { o.join = true } }

// WithTimeout sets how long the harness waits for the handler.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLogger receives the SDK's diagnostics, such as handler panics.
func WithLogger(l hclog.Logger) Option { return func(o *options) { o.logger = l } }

// Host is a minimal hostd serving one plugin over one data-plane
// connection. Its methods may be called from several goroutines, and
// exchanges may overlap, as requests do in hostd.
type Host struct {
	t    testing.TB
	opts options
	conn *net.UnixConn // the host's end of the data plane
	w    *protocol.Writer

	served   chan struct{} // closed when ServeConn has returned
	serveErr error         // what ServeConn returned; read after served

	mu       sync.Mutex
	streams  map[uint32]streamer
	nextID   uint32
	readErr  error // why the data plane ended, once it has
	closing  bool
	bad      []error  // protocol errors that belong to no exchange
	cleanups []func() // without a test, run by Close
	dead     chan struct{}
	wg       sync.WaitGroup
}

// streamer is the host's side of one stream.
type streamer interface {
	deliver(f protocol.Frame) error
	fail(err error)
}

// New starts p, a value implementing one or more of the sdk handler
// interfaces, behind a Host, which the test's cleanup stops. If the plugin
// refuses its configuration, the test fails.
//
// t may be nil, as in an example: a failure then panics, and the caller
// closes the Host.
func New(t testing.TB, p any, opts ...Option) *Host {
	if t != nil {
		t.Helper()
	}
	h, err := start(t, p, opts)
	if err != nil {
		if t == nil {
			panic("sdktest: " + err.Error())
		}
		t.Fatalf("sdktest: %v", err)
	}
	if t != nil {
		t.Cleanup(h.Close)
	}
	return h
}

// Do runs one request through p's handler and returns what it answered.
// With a nil t it closes the Host it made.
func Do(t testing.TB, p any, req Request, opts ...Option) *Recorder {
	if t != nil {
		t.Helper()
	}
	h := New(t, p, opts...)
	if t == nil {
		defer h.Close()
	}
	return h.Do(req)
}

// Configure gives p its config table (WithConfig) as hostd would and
// returns the error of its Configure method, if any.
func Configure(p any, opts ...Option) error {
	h, err := start(nil, p, opts)
	if err != nil {
		return err
	}
	h.close(false)
	return nil
}

func start(t testing.TB, p any, opts []Option) (*Host, error) {
	o := options{name: "test", timeout: DefaultTimeout, logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	if r, ok := p.(sdk.SocketRelayer); ok && r.RelaySockets() {
		o.relay = true
	}
	if o.cfgErr != nil {
		return nil, fmt.Errorf("WithConfig: %w", o.cfgErr)
	}
	return startServe(t, o, func(c *net.UnixConn) error {
		return sdk.ServeConn(c, p, sdk.ConnOptions{
			Name:                        o.name,
			Config:                      o.config,
			RejectNonStandardBodyWrites: o.reject,
			JoinDuplicateHeaders:        o.join,
			Logger:                      o.logger,
		})
	})
}

// startServe starts a Host whose plugin end is served by serve.
func startServe(t testing.TB, o options, serve func(*net.UnixConn) error) (*Host, error) {
	hostEnd, pluginEnd, err := socketpair.Conns()
	if err != nil {
		return nil, err
	}
	h := &Host{
		t:       t,
		opts:    o,
		conn:    hostEnd,
		w:       protocol.NewWriter(hostEnd, nil),
		served:  make(chan struct{}),
		streams: make(map[uint32]streamer),
		dead:    make(chan struct{}),
	}
	go func() {
		h.serveErr = serve(pluginEnd)
		close(h.served)
	}()
	go h.readLoop()
	if o.config != nil {
		if err := h.ping(); err != nil {
			h.close(false)
			return nil, err
		}
	}
	return h, nil
}

// ping waits until the plugin serves requests, or returns the error that
// stopped it, such as its Configure's. The SDK answers a request for an
// unknown event (0) with a Reset, which is the answer awaited.
func (h *Host) ping() error {
	p := &pinger{answered: make(chan struct{})}
	id := h.open(p)
	frame, off := protocol.Begin(nil, id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &protocol.RequestHead{}), off)
	if err := h.w.Write(frame); err != nil {
		return fmt.Errorf("Configure: %w", h.servedError(err))
	}
	select {
	case <-p.answered:
		h.forget(id)
		return nil
	case <-h.dead:
		return fmt.Errorf("Configure: %w", h.servedError(nil))
	case <-time.After(h.opts.timeout):
		return fmt.Errorf("the plugin did not start serving within %v (is Configure stuck?)", h.opts.timeout)
	}
}

type pinger struct {
	once     sync.Once
	answered chan struct{}
}

func (p *pinger) deliver(f protocol.Frame) error {
	if f.Type == protocol.TypeReset {
		p.once.Do(func() { close(p.answered) })
	}
	return nil
}

func (p *pinger) fail(error) {}

// servedError waits briefly for ServeConn to return and returns its
// error, or fallback.
func (h *Host) servedError(fallback error) error {
	select {
	case <-h.served:
		if h.serveErr != nil {
			return h.serveErr
		}
	case <-time.After(h.opts.timeout):
	}
	if fallback == nil {
		fallback = errors.New("the data plane closed")
	}
	return fallback
}

// Close stops the plugin's data plane and waits for it; the test's
// cleanup calls it. Exchanges still open fail.
func (h *Host) Close() { h.close(true) }

// close is Close, reporting protocol errors that belong to no exchange if
// report.
func (h *Host) close(report bool) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return
	}
	h.closing = true
	h.mu.Unlock()
	h.conn.Close()
	select {
	case <-h.served:
	case <-time.After(h.opts.timeout):
		if report {
			h.errorf("sdktest: sdk.ServeConn did not return within %v of the data plane closing", h.opts.timeout)
		}
	}
	<-h.dead
	h.wg.Wait()
	h.mu.Lock()
	bad, cleanups := h.bad, h.cleanups
	h.mu.Unlock()
	for _, f := range cleanups {
		f()
	}
	for _, err := range bad {
		if report {
			h.errorf("sdktest: %v", err)
		}
	}
}

// errorf fails the test, or panics without one.
func (h *Host) errorf(format string, args ...any) {
	if h.t == nil {
		panic(fmt.Sprintf(format, args...))
	}
	h.t.Helper()
	h.t.Errorf(format, args...)
}

// fatalf fails the test now, or panics without one.
func (h *Host) fatalf(format string, args ...any) {
	if h.t == nil {
		panic(fmt.Sprintf(format, args...))
	}
	h.t.Helper()
	h.t.Fatalf(format, args...)
}

// cleanup runs f when the test ends or, without one, when the Host
// closes.
func (h *Host) cleanup(f func()) {
	if h.t != nil {
		h.t.Cleanup(f)
		return
	}
	h.mu.Lock()
	h.cleanups = append(h.cleanups, f)
	h.mu.Unlock()
}

// open registers a stream and returns its id.
func (h *Host) open(s streamer) uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	h.streams[h.nextID] = s
	return h.nextID
}

// newID returns a stream id for a stream the host forgets at once.
func (h *Host) newID() uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	return h.nextID
}

// forget unregisters a finished stream; its late frames are ignored, as
// hostd ignores them.
func (h *Host) forget(id uint32) {
	h.mu.Lock()
	delete(h.streams, id)
	h.mu.Unlock()
}

// readLoop hands the plugin's frames to their streams.
func (h *Host) readLoop() {
	r := protocol.NewReader(h.conn)
	var err error
	for {
		f, rerr := r.Next()
		if rerr != nil {
			err = rerr
			if errors.Is(rerr, protocol.ErrFrame) {
				err = &ProtocolError{Err: rerr}
			}
			break
		}
		if f.Type < 16 {
			err = protocolErrorf("the plugin sent a %v frame, which only hostd sends", f.Type)
			break
		}
		h.mu.Lock()
		s := h.streams[f.Stream]
		unknown := f.Stream == 0 || f.Stream > h.nextID
		h.mu.Unlock()
		if unknown {
			err = protocolErrorf("the plugin sent a %v frame on stream %d, which was never opened", f.Type, f.Stream)
			break
		}
		if s == nil {
			continue
		}
		if derr := s.deliver(f); derr != nil {
			s.fail(derr)
		}
	}
	_ = r.Close()
	h.mu.Lock()
	closing := h.closing
	list := make([]streamer, 0, len(h.streams))
	for _, s := range h.streams {
		list = append(list, s)
	}
	h.mu.Unlock()
	var pe *ProtocolError
	switch {
	case errors.As(err, &pe):
	case closing:
		err = errors.New("the Host was closed")
	default:
		err = fmt.Errorf("the data plane ended: sdk.ServeConn returned: %w", h.servedError(err))
	}
	h.mu.Lock()
	h.readErr = err
	if pe != nil && len(list) == 0 {
		h.bad = append(h.bad, err)
	}
	h.mu.Unlock()
	for _, s := range list {
		s.fail(err)
	}
	close(h.dead)
}

// ProtocolError is a breach of the data-plane protocol by the plugin,
// which hostd would answer by cutting the plugin off.
type ProtocolError struct{ Err error }

func (e *ProtocolError) Error() string { return "protocol error: " + e.Err.Error() }
func (e *ProtocolError) Unwrap() error { return e.Err }

func protocolErrorf(format string, args ...any) error {
	return &ProtocolError{Err: fmt.Errorf(format, args...)}
}

// deadErr returns why the data plane ended, or nil while it runs.
func (h *Host) deadErr() error {
	select {
	case <-h.dead:
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.readErr
	default:
		return nil
	}
}

// send writes one frame on stream id.
func (h *Host) send(id uint32, t protocol.Type, payload []byte) error {
	frame := protocol.AppendHeader(make([]byte, 0, protocol.HeaderSize+len(payload)), id, t, len(payload))
	return h.w.Write(append(frame, payload...))
}
