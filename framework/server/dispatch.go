package server

import (
	"net"
	"time"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// discardLimit is how much of an unread request body the server reads and
// drops after the response, to keep the connection; past it, it closes.
const discardLimit = 256 << 10

// dispatch hands the parsed request to its handler and waits for the
// response. It returns false when the connection is done.
func (c *conn) dispatch() bool {
	ex := c.ex
	h := &ex.head
	ex.r += h.Size
	ex.keep, ex.dropped = ex.r, 0
	req, res := &ex.req, &ex.res
	req.reset(c, ex)
	res.reset(c, ex, req)
	c.srv.assignRequestID(req)
	c.complete.Store(false)

	c.mu.Lock()
	c.inflight = ex
	c.mu.Unlock()
	// A timeout or Close may have closed the connection since its head
	// was read. stateClosed is terminal: no handler runs for it (and the
	// handler's response would wait for a connection that never ends).
	// Nor does one run on a connection a Timeout handler wrote to (claimed,
	// seen here or, set later, through inflight).
	c.since.Store(c.srv.sweeper.now())
	if c.claimed.Load() || !c.state.CompareAndSwap(stateHead, stateActive) {
		c.mu.Lock()
		c.inflight = nil
		c.mu.Unlock()
		return false
	}

	hs := &c.srv.cfg.Handlers
	if h.Upgrade {
		if h.Method == "CONNECT" {
			if hs.Connect == nil {
				return false // Node closes the connection.
			}
			c.hijack(req, hs.Connect)
			return false
		}
		if hs.Upgrade != nil && (hs.ShouldUpgrade == nil || hs.ShouldUpgrade(req)) {
			c.hijack(req, hs.Upgrade)
			return false
		}
	}
	req.startBody()

	handler := hs.Request
	if h.Major == 1 && h.Minor == 1 {
		handler = c.policy(req, res)
	}
	if handler != nil {
		handler(req, res)
	} else if !res.WritableEnded() {
		res.StatusCode = 404
		_ = res.End()
	}
	c.awaitResponse(res)
	return c.afterResponse(req, res)
}

// policy applies the server's HTTP/1.1 rules, in Node's order, and
// returns the handler for the request, or nil when it has been answered.
func (c *conn) policy(req *IncomingMessage, res *ServerResponse) func(*IncomingMessage, *ServerResponse) {
	cfg := c.srv.cfg
	hs := &cfg.Handlers
	if !cfg.DisableHostHeaderCheck && req.field("host") == nil {
		_ = res.WriteHead(400, "Connection", "close")
		_ = res.End()
		return nil
	}
	// Node counts requests in its HTTP/1.1 branch only.
	c.requests++
	if max := cfg.MaxRequestsPerSocket; max > 0 {
		res.maxReached = c.requests >= max
		if c.requests > max {
			if hs.DropRequest != nil {
				hs.DropRequest(req, c.nc)
			}
			_ = res.WriteHead(503)
			_ = res.End()
			return nil
		}
	}
	expect := req.field("expect")
	if expect == nil {
		return hs.Request
	}
	if isContinue(expect) {
		res.expectContinue = true
		if hs.CheckContinue != nil {
			return hs.CheckContinue
		}
		req.body.expectContinue = !req.body.done
		return hs.Request
	}
	if hs.CheckExpectation != nil {
		return hs.CheckExpectation
	}
	_ = res.WriteHead(417)
	_ = res.End()
	return nil
}

// isContinue is Node's continueExpression: /(?:^|\W)100-continue(?:$|\W)/i.
func isContinue(v []byte) bool { return outgoing.ContainsWord(string(v), "100-continue") }

// hijack hands the connection to an upgrade or CONNECT handler with the
// bytes read past the head.
func (c *conn) hijack(req *IncomingMessage, h func(*IncomingMessage, net.Conn, []byte)) {
	c.flushPending() // the responses to earlier pipelined requests come first
	c.mu.Lock()
	c.state.Store(stateHijacked)
	c.inflight = nil
	c.mu.Unlock()
	c.srv.forget(c)
	head := append([]byte(nil), c.ex.unread()...)
	c.ex.r = c.ex.w
	req.body = body{done: true}
	// The handler owns the connection from now on and may keep req as
	// long as it likes, so the exchange is not pooled again.
	c.ex = nil
	h(req, c.nc, head)
}

// awaitResponse blocks until res is finished or the connection closes.
func (c *conn) awaitResponse(res *ServerResponse) {
	c.mu.Lock()
	if res.m.Finished() || c.state.Load() == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.done == nil {
		c.done = make(chan struct{}, 1)
	}
	c.waiting = true
	c.mu.Unlock()
	<-c.done
}

// wake releases awaitResponse. Called with mu held.
func (c *conn) wake() {
	if c.waiting {
		c.waiting = false
		c.done <- struct{}{}
	}
}

// afterResponse flushes the finished response, raises its events, and
// decides whether the connection carries another request.
func (c *conn) afterResponse(req *IncomingMessage, res *ServerResponse) bool {
	c.watch.stop(c)
	ex := c.ex
	c.mu.Lock()
	if !res.m.Finished() {
		// The connection closed under an unfinished response. A handler
		// may still hold req and res, so the exchange is not pooled.
		req.abortLocked() // destroy may not have reached it yet
		c.inflight = nil
		c.mu.Unlock()
		c.ex = nil
		res.raiseClose()
		return false
	}
	// Every response leaves as it ends, as in Node and net/http, even with
	// the next pipelined request already read: keeping it to share a
	// write with the next response (twice the req/s of a pipelining
	// benchmark) would hold it for as long as the next handler takes.
	err := res.flushLocked()
	res.writableFinished = err == nil
	c.inflight = nil
	c.mu.Unlock()
	if err == nil {
		for _, f := range res.onFinish {
			f()
		}
	}
	res.raiseClose()
	if err != nil || res.m.Last() || c.srv.isClosing() {
		return false
	}
	if !req.body.done && (req.body.expectContinue || !req.discardBody(discardLimit)) {
		return false
	}
	ex.keep = 0
	c.timeoutAt.Store(0)
	c.onTimeout.Store(nil)
	if ex.r == ex.w {
		c.received.Store(false)
		c.setState(stateIdle)
	} else {
		now := c.srv.sweeper.now()
		c.msgStart.Store(now)
		c.setState(stateHead)
	}
	return true
}

// raiseClose runs the close event listeners once.
func (r *ServerResponse) raiseClose() {
	r.c.mu.Lock()
	if r.closed {
		r.c.mu.Unlock()
		return
	}
	r.closed = true
	fs := r.onClose
	r.c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// expire answers a headers or request timeout, from the sweeper, which
// starts it only when no other expire is under way for c.
func (c *conn) expire(err *httpspec.Error) {
	defer c.expiring.Store(false)
	if s := c.state.Load(); s == stateClosed || s == stateHijacked {
		return
	}
	c.reason.Store(err)
	if c.writing.Load() {
		// A response write is blocked on a client that neither sends nor
		// reads, holding mu: the response has begun, so the answer is to
		// destroy the socket, which also releases the write.
		c.destroy()
		c.answerClientError(&ClientError{Err: err, Code: err.Code, HeadersSent: true})
		return
	}
	ce := &ClientError{Err: err, Code: err.Code}
	c.claimForClientError(ce)
	c.answerClientError(ce)
}

// inactive raises the timeout event after Options.Timeout or SetTimeout
// of inactivity (after); with no listener the socket is destroyed. It
// takes no lock, so it works while a write is blocked on the client.
func (c *conn) inactive(after time.Duration) {
	var fs []func()
	if p := c.onTimeout.Load(); p != nil {
		fs = *p
	}
	listened := false
	if h := c.srv.cfg.Handlers.Timeout; h != nil {
		listened = h(&TimeoutSocket{c: c, after: after})
	}
	if !listened && len(fs) == 0 {
		c.destroy()
		return
	}
	for _, f := range fs {
		f()
	}
}

// isClosing reports whether Close was called.
func (s *Server) isClosing() bool { return s.closingFlag.Load() }
