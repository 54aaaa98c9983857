package sdk

import (
	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// ValidateHeaderName is Node's http.validateHeaderName: it returns an
// *Error (ERR_INVALID_HTTP_TOKEN) unless name is a non-empty token, as
// SetHeader checks it.
func ValidateHeaderName(name string) error {
	return sdkError(httpspec.ValidateHeaderName(name))
}

// ValidateHeaderValue is Node's http.validateHeaderValue: it returns an
// *Error (ERR_INVALID_CHAR) if value holds a character a header value may
// not, as SetHeader checks it: a control character other than tab, or,
// in UTF-8, a character above U+00FF.
func ValidateHeaderValue(name, value string) error {
	return sdkError(outgoing.ValidateHeaderValue(name, value))
}
