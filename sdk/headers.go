package sdk

import "github.com/hostd/hostd/internal/httpspec"

// Headers is Node's message.headers: lower-case names, and for each name
// the value Node's rules fold repeated fields into (joined with ", ",
// cookie with "; ", the first of host, content-type, user-agent, … unless
// join_duplicate_headers). Every name maps to one value, except
// set-cookie, which is always a list (possibly of one).
type Headers map[string][]string

// Get returns the value of the header name (any case), or "". For
// set-cookie it returns the first cookie.
func (h Headers) Get(name string) string { return httpspec.Headers(h).Get(name) }

// Values returns every value of the header name (any case): one, or the
// cookies of set-cookie.
func (h Headers) Values(name string) []string { return httpspec.Headers(h).Values(name) }

// Has reports whether the header name (any case) is present.
func (h Headers) Has(name string) bool { return httpspec.Headers(h).Has(name) }

// MarshalJSON writes the object Node's message.headers would be: strings,
// except set-cookie as an array.
func (h Headers) MarshalJSON() ([]byte, error) { return httpspec.Headers(h).MarshalJSON() }

// UnmarshalJSON reads the shape MarshalJSON writes.
func (h *Headers) UnmarshalJSON(b []byte) error { return (*httpspec.Headers)(h).UnmarshalJSON(b) }

// buildHeaders folds raw fields (names and values alternating) by Node's
// rules.
func buildHeaders(raw []string, joinDuplicates bool) Headers {
	return Headers(httpspec.BuildHeaders(raw, joinDuplicates, 0))
}
