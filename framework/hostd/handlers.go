package hostd

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/framework/route"
	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/httpspec"
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
	}
}

// lookup returns the target of the route that takes the event, or nil.
func (rt *routing) lookup(ev route.Event, req *server.IncomingMessage) *target {
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
		if t := rt.lookup(route.CheckContinue, req); t != nil {
			gen := h.forward(t.plugin, pluginhost.CheckContinue, "checkContinue", req, res)
			rt.done(t, pluginhost.CheckContinue, gen, req, res, start)
			return
		}
	}
	t := rt.lookup(route.Request, req)
	if t == nil {
		pluginhost.PlainAnswer(res, 404)
		rt.done(nil, pluginhost.Request, 0, req, res, start)
		return
	}
	gen := h.forward(t.plugin, pluginhost.Request, "request", req, res)
	rt.done(t, pluginhost.Request, gen, req, res, start)
}

// onCheckExpectation sends an unknown Expect to a plugin that takes
// checkExpectation, or answers 417 as Node does.
func (h *Host) onCheckExpectation(req *server.IncomingMessage, res *server.ServerResponse) {
	rt := h.routing.Load()
	start := rt.start()
	t := rt.lookup(route.CheckExpectation, req)
	if t == nil {
		_ = res.WriteHead(417)
		_ = res.End()
		rt.done(nil, pluginhost.CheckExpectation, 0, req, res, start)
		return
	}
	gen := h.forward(t.plugin, pluginhost.CheckExpectation, "checkExpectation", req, res)
	rt.done(t, pluginhost.CheckExpectation, gen, req, res, start)
}

// forward hands a request-like event to a plugin, or answers for it when
// it cannot take it. It returns the generation that answered, or 0.
func (h *Host) forward(p *pluginhost.Plugin, ev uint8, name string, req *server.IncomingMessage, res *server.ServerResponse) uint64 {
	in, retry, err := p.Acquire()
	if err != nil {
		unavailable(res, retry, err)
		return 0
	}
	if !in.Handles(name) {
		in.Release()
		h.log.Warn("a route sends an event the plugin does not handle", "plugin", p.Name(), "event", name)
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
	return h.routing.Load().lookup(route.Upgrade, req) != nil
}

func (h *Host) onUpgrade(req *server.IncomingMessage, conn net.Conn, head []byte) {
	rt := h.routing.Load()
	start := rt.start()
	t := rt.lookup(route.Upgrade, req)
	if t == nil { // the routes changed since shouldUpgrade
		rawAnswer(conn, 404, "")
		rt.doneSocket(nil, pluginhost.Upgrade, 0, req, 404, start)
		return
	}
	gen, status := h.forwardSocket(t.plugin, pluginhost.Upgrade, "upgrade", req, conn, head)
	rt.doneSocket(t, pluginhost.Upgrade, gen, req, status, start)
}

// onConnect sends a CONNECT to the plugin whose authority glob matches
// its target; one that no route takes gets 404.
func (h *Host) onConnect(req *server.IncomingMessage, conn net.Conn, head []byte) {
	rt := h.routing.Load()
	start := rt.start()
	r := rt.table.LookupConnect(string(req.Head().Target))
	if r == nil {
		rawAnswer(conn, 404, "")
		rt.doneSocket(nil, pluginhost.Connect, 0, req, 404, start)
		return
	}
	t := r.Target.(*target)
	gen, status := h.forwardSocket(t.plugin, pluginhost.Connect, "connect", req, conn, head)
	rt.doneSocket(t, pluginhost.Connect, gen, req, status, start)
}

// forwardSocket hands the socket to the plugin, or answers for it. It
// returns the generation that took it, or hostd's own status.
func (h *Host) forwardSocket(p *pluginhost.Plugin, ev uint8, name string, req *server.IncomingMessage, conn net.Conn, head []byte) (gen uint64, status int) {
	in, retry, err := p.Acquire()
	if err != nil {
		extra := ""
		if errors.Is(err, pluginhost.ErrDown) {
			extra = "Retry-After: " + retryAfter(retry) + "\r\n"
		}
		rawAnswer(conn, 503, extra)
		return 0, 503
	}
	if !in.Handles(name) {
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
			if in.Handles("clientError") {
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
