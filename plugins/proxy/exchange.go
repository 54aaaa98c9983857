package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/client"
)

// errNoAnswer is an upstream connection that ended without a final
// answer and without an error: an unasked-for 101 hands the connection
// over, and the client closes it.
var errNoAnswer = errors.New("the upstream ended the exchange without an answer")

// exchange is one request passing through the proxy.
type exchange struct {
	p        *state
	req      *sdk.Request
	res      *sdk.Response
	out      outgoing
	wd       *watchdog
	consumed atomic.Bool // bytes of the client's body were read: no retry
}

// attempt is one upstream request of an exchange (a retry makes another).
type attempt struct {
	creq     *client.ClientRequest // set before ready is closed
	ready    chan struct{}
	done     chan outcome  // receives the first of the answer, an error, the end
	socket   chan net.Conn // receives the connection once assigned
	over     chan struct{} // closed at the attempt's last event
	once     sync.Once
	bodyOnce sync.Once
}

type outcome struct {
	res *client.IncomingMessage
	err error
}

func (a *attempt) deliver(o outcome) { a.once.Do(func() { a.done <- o }) }

// bufs hold the pieces of bodies on their way through.
var bufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// HandleRequest passes the request upstream and the answer back.
//
// The upstream's 1xx answers are relayed as they come (103 with its
// fields, 102); with "Expect: 100-continue" the client's body is read,
// which makes hostd send "100 Continue", only once the upstream's 100
// came, and not at all if its final answer comes first. The answer's head
// leaves with the first piece of its body, so that a body that breaks at
// once still gives 502, and a small answer leaves in one frame.
func (px *Proxy) HandleRequest(req *sdk.Request, res *sdk.Response) {
	p := px.st.Load() // hostd configures a plugin before its first event
	x := &exchange{p: p, req: req, res: res, out: p.fields(req, false), wd: newWatchdog(p.timeout)}
	defer x.wd.stop()
	req.OnAborted(func() { x.wd.end(errClientGone) })
	var (
		up  *client.IncomingMessage
		err error
	)
	// A request that meets a pooled connection the upstream had just
	// closed is sent again, if it is idempotent and none of its body was
	// read; each stale connection leaves the pool, so this ends.
	for tries := 0; ; tries++ {
		var a *attempt
		if a, err = x.send(); err == nil {
			o := <-a.done
			up, err = o.res, o.err
		}
		if err == nil || a == nil || tries > p.cfg.MaxSockets || !x.retryable(a, err) {
			break
		}
		p.log.Debug("retrying on a new connection", "method", req.Method(), "url", req.URL(), "reason", err)
	}
	if err != nil {
		x.fail(err)
		return
	}
	x.relay(up)
}

// send starts an attempt.
func (x *exchange) send() (*attempt, error) {
	a := &attempt{done: make(chan outcome, 1), ready: make(chan struct{}), socket: make(chan net.Conn, 1), over: make(chan struct{})}
	ev := client.Events{
		OnSocket:      func(s net.Conn) { a.socket <- s },
		OnInformation: x.information,
		OnContinue:    func() { x.wd.kick(); x.startBody(a) },
		OnResponse:    func(r *client.IncomingMessage) { x.wd.kick(); a.deliver(outcome{res: r}) },
		OnError:       func(err error) { a.deliver(outcome{err: err}) },
		OnClose:       func() { a.deliver(outcome{err: errNoAnswer}); close(a.over) },
	}
	creq, err := client.NewRequest(context.Background(), x.p.options(x.req.Method(), x.req.URL(), x.out.fields, ev))
	if err != nil {
		return nil, err
	}
	a.creq = creq
	close(a.ready)
	x.wd.watch(creq)
	if !x.out.expect {
		x.startBody(a)
	}
	return a, nil
}

// information relays a 1xx answer other than 100 (which OnContinue
// handles) and 101.
func (x *exchange) information(info *client.Information) {
	x.wd.kick()
	var err error
	switch info.StatusCode {
	case 102:
		err = x.res.WriteProcessing()
	case 103:
		err = x.res.WriteEarlyHints(info.RawHeaders...)
	default:
		return
	}
	if err != nil {
		x.p.log.Debug("a 1xx answer was not relayed", "status", info.StatusCode, "error", err)
	}
}

// startBody sends the client's body upstream, once per attempt.
func (x *exchange) startBody(a *attempt) {
	a.bodyOnce.Do(func() {
		<-a.ready // OnContinue may come before NewRequest has returned
		if !x.out.body {
			_ = a.creq.End(nil) // an error here is the attempt's: its outcome says it
			return
		}
		go x.upload(a)
	})
}

// upload copies the client's body to the upstream, piece by piece: each
// Write returns once its bytes are on the upstream connection, so a slow
// upstream slows the client's upload. It starts once the connection is
// made: before, the client keeps what is written in memory, all of it.
func (x *exchange) upload(a *attempt) {
	select {
	case s := <-a.socket:
		_ = s.LocalAddr() // returns once the connection is made, or failed
	case <-a.over:
		return
	}
	creq := a.creq
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	buf := *bp
	for {
		done := x.wd.waitClient()
		n, err := x.req.Read(buf)
		done()
		if n > 0 {
			x.consumed.Store(true)
			if creq.Write(buf[:n]) != nil {
				return // the upstream failed: the answer's side reports it
			}
			x.wd.kick()
		}
		switch {
		case err == io.EOF:
			if t := x.req.RawTrailers(); len(t) > 0 {
				_ = creq.AddTrailers(t...)
			}
			_ = creq.End(nil)
			return
		case err != nil:
			// The client went away, or the answer ended before the body
			// was read: the upstream request cannot be completed.
			creq.Destroy(err)
			return
		}
	}
}

// retryable reports whether a failed attempt may be made again.
func (x *exchange) retryable(a *attempt, err error) bool {
	if x.consumed.Load() || !idempotent(x.req.Method()) || !a.creq.ReusedSocket() {
		return false
	}
	var ce *client.Error
	return errors.As(err, &ce) && (ce.Code == client.CodeConnReset || ce.Code == "EPIPE")
}

// idempotent lists the methods RFC 9110 (9.2.2) makes idempotent.
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// relay sends the upstream's answer to the client.
func (x *exchange) relay(up *client.IncomingMessage) {
	defer up.Body.Close() // discards the connection if the body was not read to its end
	res := x.res
	res.StatusMessage = up.StatusMessage
	fields := responseFields(up.RawHeaders, false)
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	buf := *bp

	n, err := x.read(up, buf)
	if err != nil && err != io.EOF {
		x.fail(err)
		return
	}
	if err == io.EOF {
		// The whole answer is here: head, body and end leave together,
		// with the length of a body that came chunked.
		if len(up.RawTrailers) == 0 && !hasField(fields, "content-length") && bodyAllowed(x.req.Method(), up.StatusCode) {
			fields = append(fields, "Content-Length", strconv.Itoa(n))
		}
		res.WriteHead(up.StatusCode, fields...)
		if len(up.RawTrailers) > 0 {
			res.AddTrailers(up.RawTrailers...)
		}
		x.ended(res.End(buf[:n]))
		return
	}
	res.WriteHead(up.StatusCode, fields...)
	for {
		if n > 0 && !x.write(buf[:n]) {
			return
		}
		if n, err = x.read(up, buf); err == io.EOF {
			break
		}
		if err != nil {
			if n > 0 {
				x.write(buf[:n])
			}
			x.fail(err)
			return
		}
	}
	if n > 0 && !x.write(buf[:n]) {
		return
	}
	if len(up.RawTrailers) > 0 {
		res.AddTrailers(up.RawTrailers...)
	}
	x.ended(res.End())
}

// read reads a piece of the answer's body; io.EOF comes with the last
// piece when the body is complete.
func (x *exchange) read(up *client.IncomingMessage, buf []byte) (int, error) {
	n, err := up.Body.Read(buf)
	if n > 0 {
		x.wd.kick()
	}
	if err == nil && up.Complete() {
		err = io.EOF
	}
	return n, err
}

// write passes a piece of the body to the client, at the client's pace;
// false means the client is gone, and the upstream connection with it.
func (x *exchange) write(p []byte) bool {
	done := x.wd.waitClient()
	_, err := x.res.Write(p)
	done()
	if err != nil {
		x.p.log.Debug("the client went away", "method", x.req.Method(), "url", x.req.URL(), "error", err)
		return false
	}
	return true
}

func (x *exchange) ended(err error) {
	if err != nil {
		x.p.log.Debug("the answer did not end cleanly", "method", x.req.Method(), "url", x.req.URL(), "error", err)
	}
}

// fail answers for an upstream that failed: 504 when it was silent for
// the timeout, 502 otherwise; once the answer has begun, the client's
// connection is cut instead, so that a broken answer is never taken for
// a complete one.
func (x *exchange) fail(err error) {
	if errors.Is(err, errClientGone) {
		x.p.log.Debug("the client went away; upstream request abandoned", "method", x.req.Method(), "url", x.req.URL())
		return
	}
	code, text := 502, "Bad Gateway\n"
	if errors.Is(err, errTimeout) {
		code, text = 504, "Gateway Timeout\n"
	}
	if x.res.HeadersSent() {
		x.p.log.Warn("upstream failed during the answer; cutting the client's connection",
			"method", x.req.Method(), "url", x.req.URL(), "reason", err)
		x.res.Destroy(err)
		return
	}
	x.p.log.Warn("upstream failed", "method", x.req.Method(), "url", x.req.URL(), "status", code, "reason", err)
	x.res.SetHeader("Content-Type", "text/plain; charset=utf-8").WriteHead(code)
	x.ended(x.res.End([]byte(text)))
}

// bodyAllowed reports whether an answer of this status to this method
// has a body.
func bodyAllowed(method string, status int) bool {
	return method != "HEAD" && status >= 200 && status != 204 && status != 304
}
