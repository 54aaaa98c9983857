package server

import (
	"errors"
	"net"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// Handlers are the listeners of Node's http.Server events. A nil field
// means nobody listens, and the server does what Node does then.
//
// The request-like handlers run on the connection's goroutine. A handler
// may return before its response is finished and finish it from another
// goroutine; the connection waits for End. After End, and once the handler
// has returned, req and res belong to the server again and must not be
// used: they are reused for the next request.
type Handlers struct {
	// Request handles a request. Without it every request gets an empty
	// 404 (Node would leave it unanswered until a timeout).
	Request func(req *IncomingMessage, res *ServerResponse)

	// CheckContinue handles a request with "Expect: 100-continue" instead
	// of Request. Without it the request goes to Request, and "100
	// Continue" is sent when the body is first read.
	CheckContinue func(req *IncomingMessage, res *ServerResponse)

	// CheckExpectation handles a request with any other Expect value.
	// Without it the client gets 417.
	CheckExpectation func(req *IncomingMessage, res *ServerResponse)

	// Upgrade handles a request with "Connection: upgrade" and an Upgrade
	// header. It gets the connection itself and head, the bytes that
	// followed the request head. From then on the handler owns socket and
	// must close it; req stays valid for as long as it keeps it. Without
	// it the request goes to Request as usual.
	Upgrade func(req *IncomingMessage, socket net.Conn, head []byte)

	// ShouldUpgrade decides, for a request asking to upgrade, whether
	// Upgrade takes it (Node's shouldUpgradeCallback). Without it, every
	// upgrade request goes to Upgrade when Upgrade is set.
	ShouldUpgrade func(req *IncomingMessage) bool

	// Connect handles a CONNECT request, like Upgrade. Without it the
	// connection is closed.
	Connect func(req *IncomingMessage, socket net.Conn, head []byte)

	// ClientError handles a malformed request or a request timeout. It
	// must write any answer before it returns; the server closes socket
	// afterwards. Without it the client gets 400, 431, 413 or 408, unless
	// a response was already started, in which case the socket is closed.
	// Unlike Node, a handler cannot write after a response has begun
	// (ClientError.HeadersSent).
	ClientError func(err *ClientError, socket net.Conn)

	// DropRequest is raised for a request beyond MaxRequestsPerSocket,
	// before the server answers it with 503.
	DropRequest func(req *IncomingMessage, socket net.Conn)

	// Connection is raised for each new connection.
	Connection func(socket net.Conn)

	// Close is raised once the server is closed and its last connection
	// has ended.
	Close func()

	// Timeout is raised when a socket has been inactive for
	// Options.Timeout, once per period of inactivity, on a goroutine of
	// its own. It returns whether it listened, as Node's emit does: when
	// it returns false (or is nil) and the response has no SetTimeout
	// callback, the socket is destroyed; otherwise it stays open.
	Timeout func(socket *TimeoutSocket) (listened bool)
}

// ClientError describes a request the server refused before any handler
// saw it, as Node's clientError event does.
type ClientError struct {
	// Err is the cause: a *http1.ParseError, ErrRequestTimeout, or an
	// I/O error.
	Err error
	// Code is Node's err.code: llhttp's HPE_* code,
	// ERR_HTTP_REQUEST_TIMEOUT, or ECONNRESET.
	Code string
	// BytesParsed is how many bytes of RawPacket were accepted.
	BytesParsed int
	// RawPacket holds the bytes of the current request received so far
	// (of a long body, only the part still buffered).
	RawPacket []byte
	// HeadersSent reports that a response to the current request was
	// already started, so no error response can be written: the
	// ClientError handler's socket then refuses writes (ErrResponseBegun)
	// and the connection is destroyed after it, as Node's default handler
	// does. Otherwise the response can no longer begin.
	HeadersSent bool
}

func (e *ClientError) Error() string { return e.Err.Error() }
func (e *ClientError) Unwrap() error { return e.Err }

// StatusCode is the status of Node's default answer to e.
func (e *ClientError) StatusCode() int {
	var pe *http1.ParseError
	switch {
	case errors.As(e.Err, &pe):
		return pe.StatusCode()
	case errors.Is(e.Err, ErrRequestTimeout):
		return 408
	}
	return 400
}

// ErrRequestTimeout is the ClientError cause when HeadersTimeout or
// RequestTimeout passes.
var ErrRequestTimeout = &httpspec.Error{Code: httpspec.CodeHTTPRequestTimeout, Message: "Request timeout"}

// defaultClientErrorResponse is the answer Node writes for status code:
// a status line and "Connection: close", nothing else.
func defaultClientErrorResponse(code int) []byte {
	b := http1.AppendStatusLine(nil, code, httpspec.StatusText(code))
	return append(b, "Connection: close\r\n\r\n"...)
}
