package sdk

import (
	"errors"

	"github.com/hostd/hostd/internal/httpspec"
)

// Error is an error with one of Node's codes, such as
// ERR_HTTP_HEADERS_SENT, and Node's message for it. Match it with
// errors.As, or errors.Is against &Error{Code: c}.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message + " [" + e.Code + "]" }

// Is makes errors.Is(err, &Error{Code: c}) match any error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Node's error codes that the SDK returns.
const (
	CodeInvalidHTTPToken      = httpspec.CodeInvalidHTTPToken      // a header or trailer name that is not a token
	CodeInvalidHeaderValue    = httpspec.CodeInvalidHeaderValue    // a header without a value
	CodeInvalidChar           = httpspec.CodeInvalidChar           // a value or status message with a forbidden character
	CodeHeadersSent           = httpspec.CodeHeadersSent           // a header change after the head was fixed
	CodeInvalidStatusCode     = httpspec.CodeInvalidStatusCode     // a status outside 100–999
	CodeContentLengthMismatch = httpspec.CodeContentLengthMismatch // StrictContentLength and a body of another length
	CodeBodyNotAllowed        = httpspec.CodeBodyNotAllowed        // a body for HEAD, 204 or 304 with reject_non_standard_body_writes
	CodeTrailerInvalid        = httpspec.CodeTrailerInvalid        // a Trailer header without chunked framing
	CodeStreamWriteAfterEnd   = httpspec.CodeStreamWriteAfterEnd   // a write after End
	CodeStreamDestroyed       = httpspec.CodeStreamDestroyed       // a write after Destroy
	CodeStreamAlreadyFinished = httpspec.CodeStreamAlreadyFinished // End called twice
	CodeInvalidArgValue       = httpspec.CodeInvalidArgValue       // an odd list of names and values, an invalid early hint
	CodeConnectionReset       = httpspec.CodeConnectionReset       // the client went away (ErrAborted)
)

// sdkError gives an error of the shared machinery the SDK's own type.
func sdkError(err error) error {
	var e *httpspec.Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: e.Message}
	}
	return err
}

// ErrAborted is returned when the client went away or hostd gave up on
// the request: by Request.Read, and by Response writes.
var ErrAborted = &Error{Code: CodeConnectionReset, Message: "aborted"}

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

// ErrResponseBegun is what a clientError or timeout handler's socket
// returns from Write when ClientError.HeadersSent or Timeout.HeadersSent
// is set.
var ErrResponseBegun = errors.New("sdk: the response to the request in flight has begun: the socket takes no bytes")

func (e *ClientError) Error() string { return "client error " + e.Code }
