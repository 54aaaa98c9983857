package client

import (
	"context"
	"encoding/base64"
	"math"
	"net"
	"sync"
	"time"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// Stages of a request. Each lists the stages that may follow it.
const (
	stageQueued   = iota // waiting for a socket → stageSocket, stageDone
	stageSocket          // socket assigned, no response yet → stageResponse, stageDone
	stageResponse        // final response head read → stageDone
	stageDone            // close emitted; nothing follows
)

// ClientRequest is an HTTP request in progress, as Node's
// http.ClientRequest: headers are mutable until the head is fixed by the
// first Write, FlushHeaders or End; the body is written with Write and
// End; the response and the other events are reported through Events
// and Response.
type ClientRequest struct {
	target           // immutable except while a redirect or login restarts the request
	name     string  // pool key
	agent    *Agent  // immutable
	ev       Events  // immutable
	opts     Options // as given; immutable
	method   string
	path     string
	protocol string
	host     string

	dialCtx    context.Context
	dialCancel context.CancelFunc
	stopCtx    func() bool

	maxHeaderSize   int
	maxHeadersCount int
	joinDuplicates  bool
	unique          map[string]bool // lower-case names sent on one line
	forceChunked    *bool

	d dispatcher

	// writeMu orders the writes to the socket: held while pending bytes
	// are flushed, so that a later Write cannot pass them.
	writeMu sync.Mutex

	mu              sync.Mutex
	stage           int              // guarded by mu
	destroyed       bool             // guarded by mu
	msg             outgoing.Message // headers, head and framing; guarded by mu
	shouldKeepAlive bool             // the agent may reuse the connection; immutable
	pending         []byte           // bytes not yet on the socket; guarded by mu
	held            []byte           // the body kept until End (chunkedEncoding false); guarded by mu
	replay          []byte           // the body as written, for a redirect or login; guarded by mu
	keepReplay      bool             // immutable
	corked          int              // guarded by mu
	ended           bool             // End called (writableEnded); guarded by mu
	finished        bool             // everything written; guarded by mu
	socket          *Socket          // guarded by mu
	connected       bool             // the socket is connected and pending flushed; guarded by mu
	reused          bool             // guarded by mu
	res             *IncomingMessage // guarded by mu
	timeout         time.Duration    // guarded by mu
	timer           *time.Timer      // guarded by mu
	noDelay         *bool            // guarded by mu
	keepAliveSock   *time.Duration   // guarded by mu
	uploaded        int64            // body bytes on the socket; guarded by mu
	pendingBody     int64            // body bytes in pending; guarded by mu
	redirects       int              // guarded by mu
	followed        bool             // FollowRedirect was called; guarded by mu
	flushing        chan struct{}    // closed once the final flush reported 'finish'; guarded by mu
	sendable        chan struct{}    // made by a Write that waits for the connection, closed when pending goes to one or the request is done; guarded by mu
	afterFinish     func()           // run once finished: the response ended first; guarded by mu

	respReady chan struct{}    // closed when the response head arrives or the request fails
	respErr   error            // set before respReady is closed
	respRes   *IncomingMessage // set before respReady is closed
}

// NewRequest starts a request, as http.request does: it validates the
// options and headers (returning Node's errors), takes a connection from
// the agent (or queues for one) and returns. Nothing is sent before the
// first Write, FlushHeaders or End, except with an Expect header or
// RawHeaders, which send the head at once. ctx cancels the request as
// Node's signal does (ABORT_ERR).
func NewRequest(ctx context.Context, opts Options) (*ClientRequest, error) {
	rs, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	r := &ClientRequest{
		target: rs.target, ev: opts.Events, opts: opts,
		method: rs.method, path: rs.path, host: rs.host,
		maxHeaderSize: opts.MaxHeaderSize, maxHeadersCount: opts.MaxHeadersCount,
		joinDuplicates: opts.JoinDuplicateHeaders,
		forceChunked:   opts.ChunkedEncoding, timeout: opts.Timeout,
		respReady: make(chan struct{}),
	}
	r.d.held = true // until NewRequest returns
	r.protocol = "http:"
	if r.tls {
		r.protocol = "https:"
	}
	for _, u := range opts.UniqueHeaders {
		if r.unique == nil {
			r.unique = map[string]bool{}
		}
		r.unique[httpspec.ToLower(u)] = true
	}
	if r.maxHeadersCount <= 0 {
		r.maxHeadersCount = 2000
	}
	r.name = r.target.name()
	switch {
	case opts.NoAgent:
		r.agent = NewAgent(AgentOptions{})
	case opts.Agent != nil:
		r.agent = opts.Agent
	default:
		r.agent = DefaultAgent
	}
	// Node: keep-alive is asked for only if the agent can reuse the
	// connection, that is if it keeps free sockets or limits them.
	ao := r.agent.Options()
	r.shouldKeepAlive = ao.KeepAlive || ao.MaxSockets != math.MaxInt
	r.keepReplay = opts.Redirect == RedirectFollow || opts.Events.OnRedirect != nil || opts.Events.OnLogin != nil

	r.msg.Reset()
	r.msg.SendDate = false
	r.msg.KeepAlive = r.shouldKeepAlive
	r.msg.ChunkedByDefault = chunkedByDefault(r.method)
	if opts.RawHeaders != nil {
		// Node's array form: sent as given, and the head is fixed at once.
		for i := 0; i < len(opts.RawHeaders); i += 2 {
			if err := httpspec.ValidateHeaderName(opts.RawHeaders[i]); err != nil {
				return nil, fromSpec(err)
			}
		}
		if err := r.msg.Load(opts.RawHeaders); err != nil {
			return nil, fromSpec(err)
		}
	} else {
		if err := r.msg.SetHeaders(opts.Headers); err != nil {
			return nil, fromSpec(err)
		}
		if !opts.OmitHost && !r.msg.Header.Has("host") {
			_ = r.msg.SetHeader("Host", rs.hostHeader)
		}
		if rs.auth != "" && !r.msg.Header.Has("authorization") {
			_ = r.msg.SetHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(rs.auth)))
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	r.dialCtx, r.dialCancel = context.WithCancel(context.Background())
	if ctx.Done() != nil {
		if ctx.Err() != nil {
			r.dialCancel()
			return nil, abortError(ctx)
		}
		r.stopCtx = context.AfterFunc(ctx, func() { r.Destroy(abortError(ctx)) })
	}
	if opts.RawHeaders != nil || r.msg.Header.Has("expect") {
		// Node sends the head at once for the array form and with an
		// Expect header, so that the server can answer 100 before the body.
		r.mu.Lock()
		err := r.fixHeadLocked(-1)
		r.mu.Unlock()
		if err != nil {
			r.dialCancel()
			if r.stopCtx != nil {
				r.stopCtx()
			}
			return nil, err
		}
	}
	r.agent.addRequest(r)
	r.d.release()
	return r, nil
}

// emit posts a callback to the request's dispatcher.
func (r *ClientRequest) emit(f func()) { r.d.post(f) }

// Method, Path, Host and Protocol are the request's (req.method, ...).
func (r *ClientRequest) Method() string   { r.mu.Lock(); defer r.mu.Unlock(); return r.method }
func (r *ClientRequest) Path() string     { r.mu.Lock(); defer r.mu.Unlock(); return r.path }
func (r *ClientRequest) Host() string     { r.mu.Lock(); defer r.mu.Unlock(); return r.host }
func (r *ClientRequest) Protocol() string { r.mu.Lock(); defer r.mu.Unlock(); return r.protocol }

// MaxHeadersCount is the most response fields read into Headers.
func (r *ClientRequest) MaxHeadersCount() int { return r.maxHeadersCount }

// ReusedSocket reports whether the request went out on a connection that
// served an earlier one (req.reusedSocket): a request that fails with
// ECONNRESET on a reused socket may be retried if it is idempotent, as
// the server may have closed the idle connection just as it was reused.
func (r *ClientRequest) ReusedSocket() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.reused }

// Socket returns the request's connection, or nil before one is assigned.
func (r *ClientRequest) Socket() net.Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.socket == nil {
		return nil
	}
	return r.socket
}

// Destroyed reports whether Destroy or Abort was called (req.destroyed).
func (r *ClientRequest) Destroyed() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.destroyed }

// SetTimeout sets the socket's idle timeout (req.setTimeout): OnTimeout
// is reported each time the connection stays idle that long. 0 turns it
// off.
func (r *ClientRequest) SetTimeout(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timeout = d
	if r.connected {
		r.armTimerLocked()
	}
}

// SetNoDelay is req.setNoDelay, applied once the socket is connected.
func (r *ClientRequest) SetNoDelay(noDelay bool) {
	r.mu.Lock()
	r.noDelay = &noDelay
	s, ok := r.socket, r.connected
	r.mu.Unlock()
	if ok {
		s.SetNoDelay(noDelay)
	}
}

// SetSocketKeepAlive is req.setSocketKeepAlive.
func (r *ClientRequest) SetSocketKeepAlive(enable bool, initialDelay time.Duration) {
	d := time.Duration(-1)
	if enable {
		d = initialDelay
	}
	r.mu.Lock()
	r.keepAliveSock = &d
	s, ok := r.socket, r.connected
	r.mu.Unlock()
	if ok {
		s.SetKeepAlive(enable, initialDelay)
	}
}

// armTimerLocked (re)starts the idle timer. Caller holds mu.
func (r *ClientRequest) armTimerLocked() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	d := r.timeout
	if d <= 0 {
		d = r.agent.opts.Timeout
	}
	if d <= 0 || r.stage == stageDone {
		return
	}
	s := r.socket
	var tick func()
	tick = func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.stage == stageDone || r.socket != s || r.timer == nil {
			return
		}
		if idle := s.idleFor(); idle < d {
			r.timer = time.AfterFunc(d-idle, tick)
			return
		}
		r.emit(func() {
			if r.ev.OnTimeout != nil {
				r.ev.OnTimeout()
			}
		})
		r.timer = time.AfterFunc(d, tick)
	}
	r.timer = time.AfterFunc(d, tick)
}

// onSocket is called by the agent with the request's connection.
func (r *ClientRequest) onSocket(s *Socket, reused bool) {
	r.mu.Lock()
	if r.stage != stageQueued || r.destroyed {
		r.mu.Unlock()
		r.agent.release(s, reused && !s.isClosed(), "")
		return
	}
	r.socket, r.reused, r.stage = s, reused, stageSocket
	r.mu.Unlock()
	r.emit(func() {
		if r.ev.OnSocket != nil {
			r.ev.OnSocket(s)
		}
	})
	go r.run(s)
}

// run waits for the connection, sends what was written meanwhile and
// reads the response.
func (r *ClientRequest) run(s *Socket) {
	<-s.ready
	if s.dialErr != nil {
		err := s.dialErr
		if r.dialCtx.Err() != nil {
			err = ErrSocketHangUp
		}
		r.agent.remove(s)
		r.fail(err)
		return
	}
	r.writeMu.Lock()
	r.mu.Lock()
	if r.stage == stageDone || r.socket != s {
		r.mu.Unlock()
		r.writeMu.Unlock()
		return
	}
	if r.noDelay != nil {
		s.SetNoDelay(*r.noDelay)
	}
	if r.keepAliveSock != nil {
		s.SetKeepAlive(*r.keepAliveSock >= 0, *r.keepAliveSock)
	}
	r.connected = true
	r.releaseWritersLocked()
	r.armTimerLocked()
	r.flushLocked() // unlocks mu
	r.writeMu.Unlock()
	r.readResponse(s)
}

// fail ends the request with err before or during the response head:
// 'error' then 'close'. It does nothing once the request is done or was
// destroyed.
func (r *ClientRequest) fail(err error) {
	r.mu.Lock()
	if r.stage == stageDone || r.destroyed {
		r.mu.Unlock()
		return
	}
	r.destroyed = true
	s := r.socket
	r.mu.Unlock()
	if s != nil {
		r.agent.remove(s)
	}
	r.emitError(err)
	r.close(err)
}

func (r *ClientRequest) emitError(err error) {
	r.emit(func() {
		if r.ev.OnError != nil {
			r.ev.OnError(err)
		}
	})
}

// close marks the request done and emits 'close' (and the response's
// 'close' after it, when there is a response).
func (r *ClientRequest) close(err error) {
	r.mu.Lock()
	if r.stage == stageDone {
		r.mu.Unlock()
		return
	}
	r.stage = stageDone
	r.releaseWritersLocked()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	res := r.res
	r.mu.Unlock()
	r.dialCancel()
	if r.stopCtx != nil {
		r.stopCtx()
	}
	r.setResponse(nil, err)
	r.emit(func() {
		if r.ev.OnClose != nil {
			r.ev.OnClose()
		}
	})
	if res != nil {
		r.emit(func() {
			if r.ev.OnResponseClose != nil {
				r.ev.OnResponseClose(res)
			}
		})
	}
}

// setResponse wakes Response once: with the response, or with the error
// that came before one.
func (r *ClientRequest) setResponse(res *IncomingMessage, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.respReady:
		return
	default:
	}
	if res == nil {
		if err == nil {
			err = ErrSocketHangUp
		}
		r.respErr = err
	}
	r.respRes = res
	close(r.respReady)
}

// Response waits for the final response head and returns it; the caller
// reads res.Body to its end or closes it. After an upgrade or CONNECT it
// is the 101 or CONNECT answer, whose connection went to OnUpgrade or
// OnConnect. It returns the request's error if the request failed first,
// or ctx's.
func (r *ClientRequest) Response(ctx context.Context) (*IncomingMessage, error) {
	select {
	case <-r.respReady:
	case <-ctx.Done():
		return nil, abortError(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.respErr != nil {
		return nil, r.respErr
	}
	return r.respRes, nil
}

// Destroy ends the request (req.destroy): the connection is closed and
// not reused. Before a response, OnError reports err (ECONNRESET "socket
// hang up" when err is nil); during one, the body ends with err (or
// "aborted") and OnAborted reports it. OnClose follows.
func (r *ClientRequest) Destroy(err error) { r.destroy(err, false) }

// Abort is the deprecated req.abort: Destroy with OnAbort first, and no
// error before a socket was assigned. Electron's request.abort.
func (r *ClientRequest) Abort() { r.destroy(nil, true) }

func (r *ClientRequest) destroy(err error, abort bool) {
	r.mu.Lock()
	if r.stage == stageDone || r.destroyed {
		r.mu.Unlock()
		return
	}
	r.destroyed = true
	stage, s, res := r.stage, r.socket, r.res
	r.mu.Unlock()
	r.dialCancel()
	if abort {
		r.emit(func() {
			if r.ev.OnAbort != nil {
				r.ev.OnAbort()
			}
		})
	}
	switch stage {
	case stageQueued:
		r.agent.cancel(r)
		if !abort {
			r.emitError(orHangUp(err))
		}
		r.close(orHangUp(err))
	case stageSocket:
		r.agent.remove(s)
		r.emitError(orHangUp(err))
		r.close(orHangUp(err))
	default:
		r.agent.remove(s)
		if err == nil {
			err = ErrAborted
		}
		if res.abort(err) {
			r.emit(func() {
				if r.ev.OnAborted != nil {
					r.ev.OnAborted(res, err)
				}
			})
		}
		r.close(err)
	}
}

func orHangUp(err error) error {
	if err == nil {
		return ErrSocketHangUp
	}
	return err
}
