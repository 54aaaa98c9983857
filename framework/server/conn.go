package server

import (
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// Connection states. Each lists the states it may move to.
const (
	// stateHead: waiting for, or receiving, a request head. A new
	// connection starts here, so HeadersTimeout also bounds a client that
	// connects and sends nothing (as in Node).
	// Next: stateActive, stateClosed.
	stateHead int32 = iota
	// stateActive: a request was dispatched; its body is being received
	// or its response is being produced.
	// Next: stateIdle, stateHead (pipelined request), stateClosed,
	// stateHijacked.
	stateActive
	// stateIdle: a keep-alive connection between requests. It holds no
	// buffer: see waitRead.
	// Next: stateHead, stateSlimming, stateClosed.
	stateIdle
	// stateSlimming: an idle connection whose goroutine the sweeper woke
	// to hand over to a fresh one (see slimDown). Idle in every other way.
	// Next: stateIdle, stateClosed.
	stateSlimming
	// stateHijacked: handed to an upgrade or CONNECT handler, which owns
	// the socket. Terminal.
	stateHijacked
	// stateClosed: the socket is closed. Terminal.
	stateClosed
)

// conn is one client connection. Its goroutine (serve) reads requests and
// runs handlers; the sweeper reads its atomics to enforce timeouts.
type conn struct {
	srv *Server
	nc  net.Conn        // immutable
	rc  syscall.RawConn // immutable; nil when nc has no file descriptor

	state      atomic.Int32
	since      atomic.Int64 // when the current state began (sweeper clock)
	msgStart   atomic.Int64 // when the current request's first byte arrived
	complete   atomic.Bool  // the current request has been fully received
	lastActive atomic.Int64 // last read or write, for Options.Timeout
	timeoutAt  atomic.Int64 // a per-response SetTimeout, in ns; 0: none; -1: off
	// onTimeout holds the current response's SetTimeout callbacks, so that
	// the sweeper reads them without mu (a stuck write may hold it).
	onTimeout atomic.Pointer[[]func()]
	expiring  atomic.Bool // an expire is under way; the sweeper starts one at a time
	writing   atomic.Bool // a response write is in progress (and holds mu)
	timedOut  atomic.Bool // the timeout event fired since the last activity
	// claimed: a Timeout handler wrote to the socket (TimeoutSocket), so
	// the server writes nothing more on it. Set under mu.
	claimed atomic.Bool
	// received: bytes of the next request have arrived, so a connection in
	// stateHead is not idle. Cleared when a response leaves nothing
	// buffered.
	received atomic.Bool
	// slim: the goroutine waiting on this idle connection is a fresh one
	// (serveSlim), so the sweeper leaves it be.
	slim atomic.Bool

	// mu guards writes to nc and the response state they change, since a
	// response may be finished from another goroutine while the sweeper
	// answers a timeout.
	mu sync.Mutex

	ex       *exchange // the current request's state; nil while idle. Owned by serve.
	requests int       // requests read on this connection. Owned by serve.
	handOff  bool      // serve ends by starting serveSlim. Owned by serve.
	readFn   func(fd uintptr) bool
	readN    int
	readErr  error
	// TryFlush's callback and its outcome; guarded by mu.
	tryFn  func(fd uintptr) bool
	tryBuf []byte
	tryN   int
	tryErr error

	reason   atomic.Pointer[httpspec.Error] // the timeout that closed the socket
	inflight *exchange                      // the exchange whose response is in flight; guarded by mu
	waiting  bool                           // serve waits on done for the response; guarded by mu
	done     chan struct{}

	watch closeWatch
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.readFn = c.rawRead
			c.tryFn = c.rawTryWrite
		}
	}
	now := s.sweeper.now()
	c.since.Store(now)
	c.msgStart.Store(now)
	c.lastActive.Store(now)
	return c
}

// serve is the connection's goroutine. connected is the Connection
// handler, for a new connection.
func (c *conn) serve(connected func(net.Conn)) {
	defer c.leave()
	defer c.recoverHandler()
	if connected != nil {
		connected(c.nc)
	}
	for {
		if !c.readHead() {
			return
		}
		if !c.dispatch() {
			return
		}
	}
}

// recoverHandler turns a handler's panic into the loss of its connection
// alone, as net/http does, rather than of the process.
func (c *conn) recoverHandler() {
	v := recover()
	if v == nil {
		return
	}
	c.srv.cfg.Logger.Error("handler panicked; closing its connection", "panic", v, "stack", string(debug.Stack()))
	c.destroy()
	c.ex = nil // a handler may still hold its request and response: not pooled
}

// leave runs when serve returns: the connection ends, or a fresh
// goroutine takes over its wait for the next request.
func (c *conn) leave() {
	if c.handOff {
		c.handOff = false
		c.slim.Store(true)
		c.srv.sweeper.released.Add(1)
		go c.serveSlim() // the last use of c on this goroutine
		return
	}
	c.end()
}

// end is the end of the connection: it is closed unless it was hijacked,
// and its buffers go back to the pool.
func (c *conn) end() {
	if c.state.Load() != stateHijacked {
		c.flushPending()
		c.destroy()
		c.watch.stop(c)
	}
	c.srv.forget(c)
	if c.ex != nil {
		c.ex.release()
		c.ex = nil
	}
}

// setState moves to state s, stamping when.
func (c *conn) setState(s int32) {
	c.since.Store(c.srv.sweeper.now())
	c.state.Store(s)
}

// destroy closes the socket at once. It closes the socket before taking
// mu: a response write blocked on a client that does not read holds mu,
// and closing the socket is what makes that write return.
func (c *conn) destroy() {
	if c.shut() {
		c.mu.Lock()
		c.abortInFlightLocked()
		c.mu.Unlock()
	}
}

// closeLocked is destroy for a caller that holds mu.
func (c *conn) closeLocked() {
	if c.shut() {
		c.abortInFlightLocked()
	}
}

// shut moves to stateClosed and closes the socket. It reports false when
// the connection was already closed or hijacked.
func (c *conn) shut() bool {
	for {
		s := c.state.Load()
		if s == stateClosed || s == stateHijacked {
			return false
		}
		if c.state.CompareAndSwap(s, stateClosed) {
			c.nc.Close()
			return true
		}
	}
}

// abortInFlightLocked aborts the request in flight, if its response is not
// finished, and wakes awaitResponse. Called with mu held after shut.
func (c *conn) abortInFlightLocked() {
	if ex := c.inflight; ex != nil && !ex.res.m.Finished() {
		ex.req.abortLocked()
	}
	c.wake()
}

// closeIfIdle closes the connection if it is between requests (or has
// not sent one yet). It takes no lock: an idle connection has no response
// in flight, and Close must not wait for a write blocked on a busy one.
func (c *conn) closeIfIdle() {
	if s := c.state.Load(); (s == stateIdle || s == stateSlimming || s == stateHead && !c.received.Load()) && c.state.CompareAndSwap(s, stateClosed) {
		c.nc.Close()
	}
}

// readHead reads and parses the next request head. It returns false when
// the connection is done.
func (c *conn) readHead() bool {
	if c.ex == nil || c.ex.r == c.ex.w {
		if !c.flushPending() || !c.waitRead() {
			return false
		}
	}
	ex := c.ex
	ex.parser.Reset()
	ex.parser.MaxHeaderSize = c.srv.cfg.MaxHeaderSize
	for {
		err := ex.parser.ParseRequest(ex.rbuf[ex.r:ex.w], &ex.head)
		if err == nil {
			return true
		}
		if err != http1.ErrNeedMore {
			c.clientError(err)
			return false
		}
		if !c.flushPending() {
			return false
		}
		if err := c.fill(); err != nil {
			if c.state.Load() == stateClosed {
				return false // the sweeper timed us out, or the server closed us
			}
			c.clientError(fail(http1.ErrInvalidEOFState, "Invalid EOF state", ex.w-ex.r))
			return false
		}
	}
}

// flushPending writes what is left in the write buffer (a head written
// but not yet sent) before the connection blocks on a read or ends: the
// client may wait for it before it sends more. It reports false when the
// connection is done: broken, or claimed by a Timeout handler, whose
// bytes must be the last the client reads.
func (c *conn) flushPending() bool {
	ex := c.ex
	if ex == nil || len(ex.wbuf) == 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed.Load() {
		ex.wbuf = ex.wbuf[:0]
		return false
	}
	c.writing.Store(true)
	_, err := c.nc.Write(ex.wbuf)
	c.writing.Store(false)
	ex.wbuf = ex.wbuf[:0]
	if err != nil {
		c.closeLocked()
		return false
	}
	c.touch()
	return true
}

func fail(sentinel *http1.ParseError, reason string, off int) *http1.ParseError {
	return &http1.ParseError{Code: sentinel.Code, Reason: reason, Offset: off}
}

// fill reads more bytes into the exchange's buffer, making room first.
func (c *conn) fill() error {
	ex := c.ex
	ex.makeRoom()
	n, err := c.nc.Read(ex.rbuf[ex.w:cap(ex.rbuf)])
	if n > 0 {
		ex.w += n
		c.touch()
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// waitRead waits until the socket has bytes and reads them into a new
// exchange. While it waits the connection holds no buffer: the exchange is
// taken from the pool only once the read succeeds, which is what keeps an
// idle keep-alive connection at a few KiB. It costs no extra system call:
// the read that finds no data is the one a blocking read would make.
func (c *conn) waitRead() bool {
	if c.rc == nil {
		// No descriptor to wait on (a TLS connection, say): a blocking
		// read into a buffer the connection keeps.
		if c.ex == nil {
			c.ex = acquireExchange()
		}
		if c.fill() != nil {
			return false
		}
	} else {
		c.readN, c.readErr = 0, nil
		err := c.rc.Read(c.readFn)
		if c.state.Load() == stateSlimming && c.slimmed(err) {
			c.handOff = true
			return false
		}
		if err != nil || c.readErr != nil || c.readN == 0 {
			return false
		}
		c.lastActive.Store(c.srv.sweeper.now())
		c.timedOut.Store(false)
	}
	c.received.Store(true)
	return c.startHead()
}

// startHead moves a connection whose next request has begun to arrive from
// idle to stateHead; the first byte starts the request's clock. The
// sweeper does not wait on the connection, so a slimDown may have landed
// after the read: its past deadline is undone first, or it would fail the
// reads to come.
func (c *conn) startHead() bool {
	for {
		switch c.state.Load() {
		case stateSlimming:
			c.slimmed(nil)
		case stateIdle:
			now := c.srv.sweeper.now()
			c.msgStart.Store(now)
			c.since.Store(now)
			if c.state.CompareAndSwap(stateIdle, stateHead) {
				return true
			}
		case stateClosed:
			return false
		default: // a new connection, already in stateHead
			return true
		}
	}
}

// rawRead is the callback of RawConn.Read: it reports false to wait for
// readability.
func (c *conn) rawRead(fd uintptr) bool {
	if c.ex == nil {
		c.ex = acquireExchange()
	}
	ex := c.ex
	if ex.r == ex.w {
		// Everything read was consumed: read from the start of the
		// buffer. A buffer that the last request filled to its end would
		// otherwise offer no room, and the read of nothing would look
		// like the client's end of stream.
		ex.r, ex.w = 0, 0
	}
	for {
		n, err := syscall.Read(int(fd), ex.rbuf[ex.w:cap(ex.rbuf)])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if ex.r == ex.w {
				ex.release()
				c.ex = nil
			}
			return false
		case err != nil:
			c.readErr = err
		case n == 0:
			c.readErr = io.EOF
		default:
			ex.w += n
			c.readN = n
		}
		return true
	}
}

// clientError answers a request that could not be read, as Node's
// socketOnError does, and leaves the connection to be closed.
func (c *conn) clientError(err error) {
	if !c.flushPending() { // answers to the requests before this one
		return
	}
	ex := c.ex
	ce := &ClientError{Err: err, Code: errorCode(err)}
	if ex != nil {
		raw := ex.rbuf[ex.r:ex.w]
		ce.RawPacket = append([]byte(nil), raw...)
		ce.BytesParsed = len(raw)
		var pe *http1.ParseError
		if errors.As(err, &pe) {
			ce.BytesParsed = pe.Offset
		}
	}
	c.answerClientError(ce)
}

// answerClientError runs the ClientError handler or Node's default. It may
// run on the sweeper's goroutine for timeouts.
func (c *conn) answerClientError(ce *ClientError) {
	if c.claimed.Load() {
		ce.HeadersSent = true // a Timeout handler's bytes began an answer
	}
	if h := c.srv.cfg.Handlers.ClientError; h != nil {
		socket := c.nc
		if ce.HeadersSent {
			// Node hands its listener the socket regardless, and what it
			// writes lands in the middle of the response; here it is
			// refused, so that a client never reads a second status line.
			socket = begunConn{c.nc}
		}
		h(ce, socket)
		c.destroy()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.state.Load(); s != stateClosed && s != stateHijacked && !ce.HeadersSent {
		_, _ = c.nc.Write(defaultClientErrorResponse(ce.StatusCode()))
	}
	c.closeLocked()
}

// claimForClientError settles, under mu, which answer the client gets when
// a client error strikes a request whose handler is running: if its
// response has begun, none (ce.HeadersSent); otherwise the error's, and
// the response can no longer begin, so that nothing follows that answer.
func (c *conn) claimForClientError(ce *ClientError) {
	c.mu.Lock()
	if ex := c.inflight; ex != nil {
		if ex.res.headerSent {
			ce.HeadersSent = true
		} else {
			ex.res.destroyed = true
		}
	}
	c.mu.Unlock()
}

// ErrResponseBegun is what writing to the socket a ClientError handler gets
// returns when ClientError.HeadersSent is set, and what TimeoutSocket.Write
// returns once the response in flight has begun.
var ErrResponseBegun = errors.New("server: the response to the request in flight has begun: the socket takes no bytes")

// begunConn is a connection whose response has begun, for a ClientError
// handler: its writes are refused.
type begunConn struct{ net.Conn }

func (begunConn) Write([]byte) (int, error) { return 0, ErrResponseBegun }

func errorCode(err error) string {
	var pe *http1.ParseError
	var he *httpspec.Error
	switch {
	case errors.As(err, &pe):
		return pe.Code
	case errors.As(err, &he):
		return he.Code
	}
	return httpspec.CodeConnectionReset
}

// touch records socket activity for Options.Timeout.
func (c *conn) touch() {
	c.lastActive.Store(c.srv.sweeper.now())
	c.timedOut.Store(false)
}

// readError turns a failed read of a request body into what Read returns:
// the timeout that closed the socket, a malformed chunk (which, as in
// Node, is also answered as a client error), or ErrAborted.
func (c *conn) readError(err error) error {
	if reason := c.reason.Load(); reason != nil {
		return reason
	}
	var pe *http1.ParseError
	if errors.As(err, &pe) {
		// As for a malformed head, RawPacket is the request as far as it
		// is still in the buffer: its head, then the body bytes that
		// compaction kept. pe.Offset counts from the body's start.
		ex := c.ex
		start := ex.keep - ex.head.Size
		ce := &ClientError{Err: pe, Code: pe.Code, BytesParsed: ex.head.Size + pe.Offset - ex.dropped,
			RawPacket: append([]byte(nil), ex.rbuf[start:ex.w]...)}
		c.claimForClientError(ce)
		c.answerClientError(ce)
		return pe
	}
	return ErrAborted
}
