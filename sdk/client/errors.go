package client

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// Error is an error with one of Node's codes (err.code), such as
// ECONNRESET, ECONNREFUSED, HPE_INVALID_CONSTANT or ERR_HTTP_HEADERS_SENT.
// Match it with errors.As, or with errors.Is against an *Error that has
// only a Code. Err, when set, is the underlying cause.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error() + " [" + e.Code + "]"
	}
	return e.Message + " [" + e.Code + "]"
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches an *Error with the same Code (and Message, when the target
// has one).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Codes the client reports besides the HPE_* codes of the parser and the
// ERR_* codes of the header store.
const (
	CodeConnReset    = "ECONNRESET"
	CodeConnRefused  = "ECONNREFUSED"
	CodeTimedOut     = "ETIMEDOUT"
	CodeNotFound     = "ENOTFOUND"
	CodeAbort        = "ABORT_ERR"
	CodeInvalidURL   = "ERR_INVALID_URL"
	CodeInvalidProto = "ERR_INVALID_PROTOCOL"
	CodeRedirect     = "ERR_TOO_MANY_REDIRECTS"
	CodeRedirectMode = "ERR_REDIRECT_MODE"
)

// Errors the client reports as Node does.
var (
	// ErrSocketHangUp is the connection ending before a response head.
	ErrSocketHangUp = &Error{Code: CodeConnReset, Message: "socket hang up"}
	// ErrAborted is the connection ending, or the request being destroyed,
	// while a response body is read.
	ErrAborted = &Error{Code: CodeConnReset, Message: "aborted"}
)

// fromSpec turns an error of the shared header rules into an *Error with
// the same code.
func fromSpec(err error) error {
	var se *httpspec.Error
	if errors.As(err, &se) {
		return &Error{Code: se.Code, Message: se.Message, Err: err}
	}
	return err
}

func specError(code, format string, args ...any) error {
	return fromSpec(httpspec.NewError(code, format, args...))
}

// parseError reports a malformed response as Node does: the parser's
// llhttp code and "Parse Error: " with llhttp's reason.
func parseError(err error) error {
	var pe *http1.ParseError
	if errors.As(err, &pe) {
		return &Error{Code: pe.Code, Message: "Parse Error: " + pe.Reason, Err: err}
	}
	return err
}

// abortError is what a cancelled context makes the request fail with:
// Node's AbortError for a signal.
func abortError(ctx context.Context) error {
	return &Error{Code: CodeAbort, Message: "The operation was aborted", Err: context.Cause(ctx)}
}

// netError gives an error of the network (dial, read, write) Node's code
// for it, and Node's message: "connect ECONNREFUSED 127.0.0.1:8080".
func netError(err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	var dnsErr *net.DNSError
	code := CodeConnReset
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		code = CodeConnRefused
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, os.ErrDeadlineExceeded):
		code = CodeTimedOut
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &Error{Code: CodeNotFound, Message: "getaddrinfo ENOTFOUND " + dnsErr.Name, Err: err}
	case errors.Is(err, syscall.EPIPE):
		code = "EPIPE"
	case errors.Is(err, syscall.ENOENT):
		code = "ENOENT"
	}
	msg := code
	var op *net.OpError
	if errors.As(err, &op) {
		verb := op.Op
		if verb == "dial" {
			verb = "connect"
		}
		msg = verb + " " + code
		if verb == "connect" && op.Addr != nil {
			msg += " " + op.Addr.String()
		}
	}
	return &Error{Code: code, Message: msg, Err: err}
}

var (
	errBufferFull     = errors.New("client: read buffer full")
	errUnexpectedData = errors.New("client: data on an idle connection")
	errBodyClosed     = errors.New("client: read on a closed body")
)
