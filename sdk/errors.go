package sdk

import "github.com/hostd/hostd/internal/httpspec"

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
}

func (e *ClientError) Error() string { return "client error " + e.Code }
