package httpspec

import (
	"fmt"
	"unicode/utf8"
)

// Node's error codes for misuse of the outgoing-message API. Handlers get
// them back at the call site as *Error, matched with errors.As.
const (
	CodeInvalidHTTPToken      = "ERR_INVALID_HTTP_TOKEN"
	CodeInvalidHeaderValue    = "ERR_HTTP_INVALID_HEADER_VALUE"
	CodeInvalidChar           = "ERR_INVALID_CHAR"
	CodeHeadersSent           = "ERR_HTTP_HEADERS_SENT"
	CodeInvalidStatusCode     = "ERR_HTTP_INVALID_STATUS_CODE"
	CodeContentLengthMismatch = "ERR_HTTP_CONTENT_LENGTH_MISMATCH"
	CodeBodyNotAllowed        = "ERR_HTTP_BODY_NOT_ALLOWED"
	CodeTrailerInvalid        = "ERR_HTTP_TRAILER_INVALID"
	CodeStreamWriteAfterEnd   = "ERR_STREAM_WRITE_AFTER_END"
	CodeStreamDestroyed       = "ERR_STREAM_DESTROYED"
	CodeStreamAlreadyFinished = "ERR_STREAM_ALREADY_FINISHED"
	CodeInvalidArgValue       = "ERR_INVALID_ARG_VALUE"
	CodeHTTPRequestTimeout    = "ERR_HTTP_REQUEST_TIMEOUT"
	CodeConnectionReset       = "ECONNRESET"
)

// Error is an error with one of Node's codes and Node's message for it.
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

// NewError returns an *Error with the given code and a formatted message.
func NewError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// HeadersSentError is ERR_HTTP_HEADERS_SENT for the given verb ("set",
// "append", "remove", "write"), worded as Node words it.
func HeadersSentError(verb string) *Error {
	return NewError(CodeHeadersSent, "Cannot %s headers after they are sent to the client", verb)
}

// ValidateHeaderName is Node's http.validateHeaderName: name must be a
// non-empty token.
func ValidateHeaderName(name string) error {
	if !IsToken(name) {
		return NewError(CodeInvalidHTTPToken, "Header name must be a valid HTTP token [%q]", name)
	}
	return nil
}

// ValidateHeaderValue is Node's http.validateHeaderValue for one value. A
// value is a byte string as sent, except that a Go string holding a
// character above U+00FF in UTF-8 is refused, as Node refuses such a
// JavaScript string: it cannot be sent as one byte per character.
func ValidateHeaderValue(name, value string) error {
	if !ValidValue(value) {
		return NewError(CodeInvalidChar, "Invalid character in header content [%q]", name)
	}
	return nil
}

// Validate checks a header as setHeader does: a token name and valid
// values (ValidateHeaderValues).
func Validate(name string, values []string) error {
	if err := ValidateHeaderName(name); err != nil {
		return err
	}
	return ValidateHeaderValues(name, values)
}

// ValidateHeaderValues validates a header's values as setHeader does: a
// header must have at least one value (Node's "undefined" case), and each
// value must be valid.
func ValidateHeaderValues(name string, values []string) error {
	if len(values) == 0 {
		return NewError(CodeInvalidHeaderValue, "Invalid value \"undefined\" for header %q", name)
	}
	for _, v := range values {
		if err := ValidateHeaderValue(name, v); err != nil {
			return err
		}
	}
	return nil
}

// ValidValue reports whether s may be sent as a header, trailer or status
// message value given by a handler: field-value bytes, and no character
// above U+00FF in UTF-8.
func ValidValue(s string) bool { return ValidFieldValue(s) && !wideRune(s) }

// wideRune reports whether s holds the UTF-8 encoding of a character
// above U+00FF (a lone byte of obs-text is not one).
func wideRune(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < utf8.RuneSelf {
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r > 0xFF && n > 1 {
			return true
		}
		i += n - 1
	}
	return false
}
