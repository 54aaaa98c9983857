package sdk

import (
	"net"

	"github.com/hostd/hostd/protocol"
)

// RequestHandler handles the request event: an ordinary request.
type RequestHandler interface {
	HandleRequest(req *Request, res *Response)
}

// CheckContinueHandler handles a request that carries "Expect:
// 100-continue" (Node's checkContinue event). It decides whether the
// client may send the body: res.WriteContinue, or a final response. A
// plugin without it gets such requests as ordinary requests, and hostd
// sends "100 Continue" when the body is first read.
type CheckContinueHandler interface {
	HandleCheckContinue(req *Request, res *Response)
}

// CheckExpectationHandler handles a request with any other Expect value.
// Without it hostd answers 417.
type CheckExpectationHandler interface {
	HandleCheckExpectation(req *Request, res *Response)
}

// UpgradeHandler handles a request to switch protocols. The handler owns
// socket, a connection to the client, and writes its own "HTTP/1.1 101"
// response on it, as in Node; head holds bytes the client sent past the
// request head. It must close socket when done.
type UpgradeHandler interface {
	HandleUpgrade(req *Request, socket net.Conn, head []byte)
}

// ConnectHandler handles a CONNECT request, as UpgradeHandler does an
// upgrade: the handler writes "HTTP/1.1 200 Connection Established" (or
// a refusal) on socket itself.
type ConnectHandler interface {
	HandleConnect(req *Request, socket net.Conn, head []byte)
}

// ClientErrorHandler handles a request hostd refused as malformed (Node's
// clientError event). socket accepts the answer's raw bytes; hostd closes
// the connection once the handler returns.
type ClientErrorHandler interface {
	HandleClientError(err *ClientError, socket net.Conn)
}

// TimeoutHandler handles Node's server 'timeout' event: the client's
// connection has been inactive for [server] timeout (Node's
// server.timeout), whether idle between requests or with a request in
// flight. The [server] timeout_plugin names the plugin. socket writes raw
// bytes to the client; Close (Node's socket.destroy) or CloseWrite
// (socket.end) ends the connection, aborting the request in flight.
//
// If the handler returns without writing or closing, the connection stays
// open and the request in flight goes on, as with a Node listener that
// does nothing. Unlike Node, bytes written claim the connection: the
// response in flight can no longer begin, and hostd closes the connection
// once the handler returns. With ev.HeadersSent the response has begun:
// writes fail with ErrResponseBegun, but Close still ends the connection.
// The socket is the handler's until it returns, and for no longer than
// the inactivity that raised the event: past that hostd closes the
// connection.
type TimeoutHandler interface {
	HandleTimeout(ev *Timeout, socket net.Conn)
}

// DropRequestHandler hears of a request hostd refuses with 503 because
// its connection reached max_requests_per_socket (Node's dropRequest
// event, raised before the 503 is written). It is told, not asked: hostd
// answers without waiting for it, and the client's socket stays with
// hostd. A route names it with events = ["dropRequest"].
type DropRequestHandler interface {
	HandleDropRequest(req *Request)
}

// SocketRelayer is implemented by a plugin that wants the sockets of
// upgrade and CONNECT relayed through hostd as frames rather than passed
// as the client's own descriptor, as the relay_sockets key asks from the
// configuration: for a handler that needs hostd to keep the connection,
// at the cost of every byte crossing it.
type SocketRelayer interface {
	RelaySockets() bool
}

// Configurer is implemented by a plugin that takes configuration: hostd
// calls Configure with the plugin's config table once, before any event.
// An error refuses the plugin: hostd keeps serving with its previous
// generation, or does not start.
type Configurer interface {
	Configure(cfg *Config) error
}

// HandlerFunc adapts a function to a RequestHandler.
type HandlerFunc func(req *Request, res *Response)

// HandleRequest calls f.
func (f HandlerFunc) HandleRequest(req *Request, res *Response) { f(req, res) }

var _ RequestHandler = HandlerFunc(nil)

// events is the set of events p handles: those whose interface it
// implements.
func events(p any) protocol.EventSet {
	var s protocol.EventSet
	add := func(implements bool, e protocol.Event) {
		if implements {
			s |= protocol.EventSetOf(e)
		}
	}
	_, ok := p.(RequestHandler)
	add(ok, protocol.EventRequest)
	_, ok = p.(CheckContinueHandler)
	add(ok, protocol.EventCheckContinue)
	_, ok = p.(CheckExpectationHandler)
	add(ok, protocol.EventCheckExpectation)
	_, ok = p.(UpgradeHandler)
	add(ok, protocol.EventUpgrade)
	_, ok = p.(ConnectHandler)
	add(ok, protocol.EventConnect)
	_, ok = p.(ClientErrorHandler)
	add(ok, protocol.EventClientError)
	_, ok = p.(DropRequestHandler)
	add(ok, protocol.EventDropRequest)
	_, ok = p.(TimeoutHandler)
	add(ok, protocol.EventTimeout)
	return s
}

// asksRelay reports whether p wants its sockets relayed.
func asksRelay(p any) bool {
	r, ok := p.(SocketRelayer)
	return ok && r.RelaySockets()
}
