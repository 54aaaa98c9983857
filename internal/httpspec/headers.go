package httpspec

import (
	"encoding/json"
	"strings"
)

// Headers is Node's message.headers: lower-case names, and for each name
// the value Node's duplicate rules produce. Every name maps to one value,
// except set-cookie, which is always a list (possibly of one).
type Headers map[string][]string

// Get returns the value of the header name (any case), or "". For
// set-cookie it returns the first cookie.
func (h Headers) Get(name string) string {
	if v := h[ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of the header name (any case).
func (h Headers) Values(name string) []string { return h[ToLower(name)] }

// Has reports whether the header name (any case) is present.
func (h Headers) Has(name string) bool { _, ok := h[ToLower(name)]; return ok }

// MarshalJSON writes the object Node's message.headers would be:
// strings, except set-cookie as an array.
func (h Headers) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(h))
	for k, v := range h {
		if k == "set-cookie" {
			m[k] = v
		} else if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the shape MarshalJSON writes.
func (h *Headers) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*h = make(Headers, len(m))
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			(*h)[k] = []string{s}
			continue
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		(*h)[k] = list
	}
	return nil
}

// joinRule says how a repeated header folds into Headers.
type joinRule uint8

const (
	joinComma     joinRule = iota // "a, b" — the default (RFC 9110 §5.3)
	joinSemicolon                 // cookie: "a; b"
	joinList                      // set-cookie: a list
	keepFirst                     // fields that cannot repeat: the first wins
)

// ruleFor returns Node's rule for the lower-case header name.
func ruleFor(name string) joinRule {
	switch name {
	case "set-cookie":
		return joinList
	case "cookie":
		return joinSemicolon
	case "age", "authorization", "content-length", "content-type", "etag",
		"expires", "from", "host", "if-modified-since", "if-unmodified-since",
		"last-modified", "location", "max-forwards", "proxy-authorization",
		"referer", "retry-after", "server", "user-agent":
		return keepFirst
	}
	return joinComma
}

// BuildHeaders folds raw, a flat [name, value, name, value, ...] list as in
// message.rawHeaders, into Headers with Node's rules. With joinDuplicates
// (Node's joinDuplicateHeaders option) the keep-first fields are joined
// with ", " instead of dropped. A __proto__ field is left out, as Node's
// object leaves it out. At most maxCount fields are read; 0 means all of
// them.
func BuildHeaders(raw []string, joinDuplicates bool, maxCount int) Headers {
	h := make(Headers, len(raw)/2)
	n := len(raw) / 2
	if maxCount > 0 && n > maxCount {
		n = maxCount
	}
	for i := 0; i < n; i++ {
		name, value := ToLower(raw[2*i]), raw[2*i+1]
		if name == "__proto__" {
			// Node's headers is a plain object: assigning __proto__ sets
			// its prototype and adds no key (headersDistinct keeps it).
			continue
		}
		old, seen := h[name]
		if !seen {
			h[name] = []string{value}
			continue
		}
		switch ruleFor(name) {
		case joinList:
			h[name] = append(old, value)
		case joinSemicolon:
			old[0] += "; " + value
		case keepFirst:
			if joinDuplicates {
				old[0] += ", " + value
			}
		default:
			old[0] += ", " + value
		}
	}
	return h
}

// BuildHeadersDistinct folds raw into message.headersDistinct: every
// lower-case name with all of its values in order.
func BuildHeadersDistinct(raw []string, maxCount int) map[string][]string {
	h := make(map[string][]string, len(raw)/2)
	n := len(raw) / 2
	if maxCount > 0 && n > maxCount {
		n = maxCount
	}
	for i := 0; i < n; i++ {
		name := ToLower(raw[2*i])
		h[name] = append(h[name], raw[2*i+1])
	}
	return h
}

// ListContainsToken reports whether the comma-separated header value v
// contains token (case-insensitive), as in "Connection: keep-alive, Upgrade".
func ListContainsToken(v, token string) bool {
	for len(v) > 0 {
		var item string
		item, v, _ = strings.Cut(v, ",")
		if EqualFold(TrimOWS(item), token) {
			return true
		}
	}
	return false
}
