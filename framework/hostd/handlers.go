package hostd

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/protocol"
)

// handlers routes the engine's events to plugins.
func (h *Host) handlers() server.Handlers {
	var connected func(net.Conn)
	if h.metrics != nil {
		connected = func(net.Conn) { h.metrics.Accepted() }
	}
	return server.Handlers{
		Connection:       connected,
		Request:          h.onRequest,
		CheckExpectation: h.onCheckExpectation,
		ShouldUpgrade:    h.shouldUpgrade,
		Upgrade:          h.onUpgrade,
		Connect:          h.onConnect,
		ClientError:      h.onClientError,
		DropRequest:      h.onDropRequest,
		Timeout:          h.onTimeout,
	}
}

// lookup returns the target of the route that takes the event, or nil.
func (rt *routing) lookup(ev protocol.Event, req *server.IncomingMessage) *target {
	head := req.Head()
	r := rt.table.Lookup(ev, head.Get("host"), head.Target, head.Method)
	if r == nil {
		return nil
	}
	return r.Target.(*target)
}

// onRequest takes requests, and requests with "Expect: 100-continue" that
// no route sends to a checkContinue handler (the engine then sends "100
// Continue" when the plugin first reads the body).
func (h *Host) onRequest(req *server.IncomingMessage, res *server.ServerResponse) {
	rt := h.routing.Load()
	start := rt.start()
	if expect := req.Head().Get("expect"); expect != nil && httpspec.ListContainsToken(string(expect), "100-continue") {
		if t := rt.lookup(protocol.EventCheckContinue, req); t != nil {
			gen := h.forward(t.plugin, protocol.EventCheckContinue, req, res)
			rt.done(t, protocol.EventCheckContinue, gen, req, res, start)
			return
		}
	}
	t := rt.lookup(protocol.EventRequest, req)
	if t == nil {
		pluginhost.PlainAnswer(res, 404)
		rt.done(nil, protocol.EventRequest, 0, req, res, start)
		return
	}
	gen := h.forward(t.plugin, protocol.EventRequest, req, res)
	rt.done(t, protocol.EventRequest, gen, req, res, start)
}

// onDropRequest tells the plugin whose route takes dropRequest of a
// request refused for max_requests_per_socket; the engine answers 503
// without waiting for it.
func (h *Host) onDropRequest(req *server.IncomingMessage, _ net.Conn) {
	t := h.routing.Load().lookup(protocol.EventDropRequest, req)
	if t == nil {
		return
	}
	in, _, err := t.plugin.Acquire()
	if err != nil {
		return // down or busy: a notification is not worth a wait
	}
	if !in.Handles(protocol.EventDropRequest) {
		in.Release()
		h.log.Warn("a route sends an event the plugin does not handle", "plugin", t.plugin.Name(), "event", protocol.EventDropRequest)
		return
	}
	in.Notify(protocol.EventDropRequest, req)
}

// onCheckExpectation sends an unknown Expect to a plugin that takes
// checkExpectation, or answers 417 as Node does.
func (h *Host) onCheckExpectation(req *server.IncomingMessage, res *server.ServerResponse) {
	rt := h.routing.Load()
	start := rt.start()
	t := rt.lookup(protocol.EventCheckExpectation, req)
	if t == nil {
		_ = res.WriteHead(417)
		_ = res.End()
		rt.done(nil, protocol.EventCheckExpectation, 0, req, res, start)
		return
	}
	gen := h.forward(t.plugin, protocol.EventCheckExpectation, req, res)
	rt.done(t, protocol.EventCheckExpectation, gen, req, res, start)
}

// forward hands a request-like event to a plugin, or answers for it when
// it cannot take it. It returns the generation that answered, or 0.
func (h *Host) forward(p *pluginhost.Plugin, ev protocol.Event, req *server.IncomingMessage, res *server.ServerResponse) uint64 {
	in, retry, err := p.Acquire()
	if err != nil {
		unavailable(res, retry, err)
		return 0
	}
	if !in.Handles(ev) {
		in.Release()
		h.log.Warn("a route sends an event the plugin does not handle", "plugin", p.Name(), "event", ev)
		pluginhost.PlainAnswer(res, 501)
		return 0
	}
	in.ServeHTTP(ev, req, res)
	return in.Generation()
}

// unavailable answers 503: with Retry-After while the plugin restarts.
func unavailable(res *server.ServerResponse, retry time.Duration, err error) {
	if errors.Is(err, pluginhost.ErrDown) {
		pluginhost.PlainAnswer(res, 503, "Retry-After", retryAfter(retry))
		return
	}
	pluginhost.PlainAnswer(res, 503)
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

func (h *Host) shouldUpgrade(req *server.IncomingMessage) bool {
	return h.routing.Load().lookup(protocol.EventUpgrade, req) != nil
}

func (h *Host) onUpgrade(req *server.IncomingMessage, conn net.Conn, head []byte) {
	rt := h.routing.Load()
	start := rt.start()
	t := rt.lookup(protocol.EventUpgrade, req)
	if t == nil { // the routes changed since shouldUpgrade
		rawAnswer(conn, 404, "")
		rt.doneSocket(nil, protocol.EventUpgrade, 0, req, 404, start)
		return
	}
	gen, status := h.forwardSocket(t.plugin, protocol.EventUpgrade, req, conn, head)
	rt.doneSocket(t, protocol.EventUpgrade, gen, req, status, start)
}

// onConnect sends a CONNECT to the plugin whose authority glob matches
// its target. Without connect routes the socket is closed unanswered, as
// Node closes it when nothing listens for 'connect'; with some, a target
// that none takes gets 404, and one to hostd's own listeners 403
// (selfconnect.go).
func (h *Host) onConnect(req *server.IncomingMessage, conn net.Conn, head []byte) {
	rt := h.routing.Load()
	start := rt.start()
	if !rt.table.HasConnect() {
		conn.Close()
		rt.doneSocket(nil, protocol.EventConnect, 0, req, 0, start) // no answer
		return
	}
	authority := string(req.Head().Target)
	if h.isOwnListener(context.Background(), authority) {
		h.log.Warn("CONNECT to hostd's own listener refused", "target", authority, "client", conn.RemoteAddr().String())
		rawAnswer(conn, 403, "")
		rt.doneSocket(nil, protocol.EventConnect, 0, req, 403, start)
		return
	}
	r := rt.table.LookupConnect(authority)
	if r == nil {
		rawAnswer(conn, 404, "")
		rt.doneSocket(nil, protocol.EventConnect, 0, req, 404, start)
		return
	}
	t := r.Target.(*target)
	gen, status := h.forwardSocket(t.plugin, protocol.EventConnect, req, conn, head)
	rt.doneSocket(t, protocol.EventConnect, gen, req, status, start)
}

// forwardSocket hands the socket to the plugin, or answers for it. It
// returns the generation that took it, or hostd's own status.
func (h *Host) forwardSocket(p *pluginhost.Plugin, ev protocol.Event, req *server.IncomingMessage, conn net.Conn, head []byte) (gen uint64, status int) {
	in, retry, err := p.Acquire()
	if err != nil {
		extra := ""
		if errors.Is(err, pluginhost.ErrDown) {
			extra = "Retry-After: " + retryAfter(retry) + "\r\n"
		}
		rawAnswer(conn, 503, extra)
		return 0, 503
	}
	if !in.Handles(ev) {
		in.Release()
		rawAnswer(conn, 501, "")
		return 0, 501
	}
	in.ServeSocket(ev, req, conn, head)
	return in.Generation(), 0
}

// rawAnswer writes a complete response on a socket taken from the
// engine, and closes it.
func rawAnswer(conn net.Conn, code int, extra string) {
	text := httpspec.StatusText(code) + "\n"
	_, _ = conn.Write([]byte("HTTP/1.1 " + strconv.Itoa(code) + " " + httpspec.StatusText(code) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + strconv.Itoa(len(text)) + "\r\n" +
		extra + "Connection: close\r\n\r\n" + text))
	conn.Close()
}

// onClientError sends the error to the [server] client_error plugin, or
// answers as Node does.
func (h *Host) onClientError(ce *server.ClientError, conn net.Conn) {
	h.metrics.ClientError(ce.Code)
	if p := h.routing.Load().clientError; p != nil {
		if in, _, err := p.Acquire(); err == nil {
			if in.Handles(protocol.EventClientError) {
				in.ServeClientError(ce, conn)
				return
			}
			in.Release()
		}
	}
	if !ce.HeadersSent {
		_, _ = conn.Write(ce.DefaultResponse())
	}
}

// onTimeout hands the timeout event to the [server] timeout_plugin, on a
// goroutine of its own: the engine, and the response's own SetTimeout
// callbacks, do not wait for the plugin, which has as long as the
// inactivity that raised the event to handle it. It reports whether a
// plugin took the event; when none did, the engine does what Node does
// without a listener.
func (h *Host) onTimeout(socket *server.TimeoutSocket) bool {
	p := h.routing.Load().timeout
	if p == nil {
		h.metrics.Timeout("")
		return false
	}
	h.metrics.Timeout(p.Name())
	in, _, err := p.Acquire()
	if err != nil {
		return false // down or busy: as if nobody listened
	}
	if !in.Handles(protocol.EventTimeout) {
		in.Release()
		h.log.Warn("server.timeout_plugin names a plugin that does not handle the timeout event", "plugin", p.Name())
		return false
	}
	go in.ServeTimeout(socket, socket.After())
	return true
}
