package sdk

import (
	"errors"

	"github.com/hostd/hostd/internal/httpspec"
)

// Error is an error with one of Node's codes, such as
// ERR_HTTP_HEADERS_SENT; match it with errors.As.
type Error = httpspec.Error

// ErrAborted is returned when the client went away or hostd gave up on
// the request: by Request.Read, and by Response writes.
var ErrAborted = &Error{Code: "ECONNRESET", Message: "aborted"}

// ClientError describes a request hostd refused before any handler saw
// it, as Node's clientError event does.
type ClientError struct {
	// Code is Node's err.code, such as HPE_INVALID_METHOD or
	// ERR_HTTP_REQUEST_TIMEOUT.
	Code string
	// BytesParsed is how many bytes of RawPacket were accepted.
	BytesParsed int
	// RawPacket holds the bytes of the refused request.
	RawPacket []byte
	// RemoteAddr is the client's address.
	RemoteAddr string
	// HeadersSent reports that the response to the request in flight had
	// begun (Node: socket._httpMessage.headersSent), so that no answer can
	// be written: the socket's writes then fail with ErrResponseBegun, and
	// hostd destroys the connection once the handler returns, as Node's
	// default handler does.
	HeadersSent bool
}

// ErrResponseBegun is what a clientError handler's socket returns from
// Write when ClientError.HeadersSent is set.
var ErrResponseBegun = errors.New("sdk: the response to the request in flight has begun: a client error cannot be answered")

func (e *ClientError) Error() string { return "client error " + e.Code }
