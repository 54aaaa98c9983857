package hostd

import (
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
	return server.Handlers{
		Request:          h.onRequest,
		CheckExpectation: h.onCheckExpectation,
		ShouldUpgrade:    h.shouldUpgrade,
		Upgrade:          h.onUpgrade,
		Connect:          h.onConnect,
		ClientError:      h.onClientError,
	}
}

func (h *Host) lookup(ev protocol.Event, req *server.IncomingMessage) *pluginhost.Plugin {
	head := req.Head()
	r := h.routing.Load().table.Lookup(ev, head.Get("host"), head.Target, head.Method)
	if r == nil {
		return nil
	}
	return r.Target.(*pluginhost.Plugin)
}

// onRequest takes requests, and requests with "Expect: 100-continue" that
// no route sends to a checkContinue handler (the engine then sends "100
// Continue" when the plugin first reads the body).
func (h *Host) onRequest(req *server.IncomingMessage, res *server.ServerResponse) {
	if expect := req.Head().Get("expect"); expect != nil && httpspec.ListContainsToken(string(expect), "100-continue") {
		if p := h.lookup(protocol.EventCheckContinue, req); p != nil {
			h.forward(p, protocol.EventCheckContinue, req, res)
			return
		}
	}
	p := h.lookup(protocol.EventRequest, req)
	if p == nil {
		pluginhost.PlainAnswer(res, 404)
		return
	}
	h.forward(p, protocol.EventRequest, req, res)
}

// onCheckExpectation sends an unknown Expect to a plugin that takes
// checkExpectation, or answers 417 as Node does.
func (h *Host) onCheckExpectation(req *server.IncomingMessage, res *server.ServerResponse) {
	p := h.lookup(protocol.EventCheckExpectation, req)
	if p == nil {
		_ = res.WriteHead(417)
		_ = res.End()
		return
	}
	h.forward(p, protocol.EventCheckExpectation, req, res)
}

// forward hands a request-like event to a plugin, or answers for it when
// it cannot take it.
func (h *Host) forward(p *pluginhost.Plugin, ev protocol.Event, req *server.IncomingMessage, res *server.ServerResponse) {
	in, retry, err := p.Acquire()
	if err != nil {
		unavailable(res, retry, err)
		return
	}
	if !in.Handles(ev) {
		in.Release()
		h.log.Warn("a route sends an event the plugin does not handle", "plugin", p.Name(), "event", ev)
		pluginhost.PlainAnswer(res, 501)
		return
	}
	in.ServeHTTP(ev, req, res)
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
	p := h.lookup(protocol.EventUpgrade, req)
	return p != nil
}

func (h *Host) onUpgrade(req *server.IncomingMessage, conn net.Conn, head []byte) {
	p := h.lookup(protocol.EventUpgrade, req)
	if p == nil { // the routes changed since shouldUpgrade
		rawAnswer(conn, 404, "")
		return
	}
	h.forwardSocket(p, protocol.EventUpgrade, req, conn, head)
}

// onConnect sends a CONNECT to the plugin whose authority glob matches
// its target; one that no route takes gets 404.
func (h *Host) onConnect(req *server.IncomingMessage, conn net.Conn, head []byte) {
	r := h.routing.Load().table.LookupConnect(string(req.Head().Target))
	if r == nil {
		rawAnswer(conn, 404, "")
		return
	}
	h.forwardSocket(r.Target.(*pluginhost.Plugin), protocol.EventConnect, req, conn, head)
}

func (h *Host) forwardSocket(p *pluginhost.Plugin, ev protocol.Event, req *server.IncomingMessage, conn net.Conn, head []byte) {
	in, retry, err := p.Acquire()
	if err != nil {
		extra := ""
		if errors.Is(err, pluginhost.ErrDown) {
			extra = "Retry-After: " + retryAfter(retry) + "\r\n"
		}
		rawAnswer(conn, 503, extra)
		return
	}
	if !in.Handles(ev) {
		in.Release()
		rawAnswer(conn, 501, "")
		return
	}
	in.ServeSocket(ev, req, conn, head)
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
