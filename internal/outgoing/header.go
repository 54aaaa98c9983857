package outgoing

import "github.com/hostd/hostd/internal/httpspec"

// Header is the header store of an outgoing message, as Node keeps it in
// OutgoingMessage[kOutHeaders]: each header is a key matched without
// case, with the name as last set and one or more values, kept in the
// order keys were first set. It is a flat list of fields in the order
// they are sent: a key's values are adjacent, the first carries the name
// and the others are continuations of it.
//
// A list given whole to WriteHead (with no header set before) is kept as
// Node sends it, field by field with each its own name; such fields are
// keys of their own even when a name repeats.
//
// A Header must not be copied after first use.
type Header struct {
	fields []field
	first  [6]field // the list's storage while it is short

	// RemovedConnection, RemovedContentLength and RemovedTransferEncoding
	// record that the user removed that header, so the message must not
	// get its own; setting the header again clears the flag.
	RemovedConnection       bool
	RemovedContentLength    bool
	RemovedTransferEncoding bool
}

type field struct {
	name, value string
	cont        bool // another value of the key the previous field starts
}

// Reset empties h, keeping its storage.
func (h *Header) Reset() {
	clear(h.fields)
	h.fields = h.fields[:0]
	h.RemovedConnection, h.RemovedContentLength, h.RemovedTransferEncoding = false, false, false
}

// ValidateHeader checks a header as Node's setHeader does
// (httpspec.Validate).
func ValidateHeader(name string, values []string) error { return httpspec.Validate(name, values) }

// ValidateHeaderValue is Node's http.validateHeaderValue
// (httpspec.ValidateHeaderValue).
func ValidateHeaderValue(name, value string) error { return httpspec.ValidateHeaderValue(name, value) }

// find returns the index of the first field of the key name, or -1.
func (h *Header) find(name string) int {
	for i := range h.fields {
		if !h.fields[i].cont && httpspec.EqualFoldASCII(h.fields[i].name, name) {
			return i
		}
	}
	return -1
}

// end returns the index past the last field of the key starting at i.
func (h *Header) end(i int) int {
	j := i + 1
	for j < len(h.fields) && h.fields[j].cont {
		j++
	}
	return j
}

// Set replaces the values of name (setHeader). The key keeps its place;
// its name becomes the one given, as in Node.
func (h *Header) Set(name string, values ...string) error {
	if err := ValidateHeader(name, values); err != nil {
		return err
	}
	h.set(name, values)
	return nil
}

func (h *Header) set(name string, values []string) {
	i := h.find(name)
	if i < 0 {
		h.push(name, values)
		return
	}
	h.splice(i, h.end(i), name, values)
}

// Append adds values to name, keeping those it had and its name
// (appendHeader).
func (h *Header) Append(name string, values ...string) error {
	if err := ValidateHeader(name, values); err != nil {
		return err
	}
	i := h.find(name)
	if i < 0 {
		h.push(name, values)
		return nil
	}
	j := h.end(i)
	h.splice(j, j, h.fields[i].name, values)
	h.fields[j].cont = true
	return nil
}

// AppendField adds one field as a key of its own, with no lookup: a
// field of a list that WriteHead sends as given, or of a head received
// whole. cont makes it another value of the key before it instead (it is
// ignored for the first field). The caller validates.
func (h *Header) AppendField(name, value string, cont bool) {
	if h.fields == nil {
		h.fields = h.first[:0]
	}
	h.fields = append(h.fields, field{name: name, value: value, cont: cont && len(h.fields) > 0})
}

// push appends a new key.
func (h *Header) push(name string, values []string) {
	for k, v := range values {
		h.AppendField(name, v, k > 0)
	}
}

// splice replaces the fields [i, j) by the key name with values.
func (h *Header) splice(i, j int, name string, values []string) {
	if h.fields == nil {
		h.fields = h.first[:0]
	}
	n := len(values)
	switch d := n - (j - i); {
	case d > 0:
		h.fields = append(h.fields, make([]field, d)...)
		copy(h.fields[j+d:], h.fields[j:])
	case d < 0:
		copy(h.fields[i+n:], h.fields[j:])
		clear(h.fields[len(h.fields)+d:])
		h.fields = h.fields[:len(h.fields)+d]
	}
	for k, v := range values {
		h.fields[i+k] = field{name: name, value: v, cont: k > 0}
	}
}

// Remove deletes name (removeHeader) and records the removal of the
// headers the message would otherwise get. It reports whether name is
// Date, which turns sendDate off.
func (h *Header) Remove(name string) (date bool) {
	switch {
	case httpspec.EqualFoldASCII(name, "connection"):
		h.RemovedConnection = true
	case httpspec.EqualFoldASCII(name, "content-length"):
		h.RemovedContentLength = true
	case httpspec.EqualFoldASCII(name, "transfer-encoding"):
		h.RemovedTransferEncoding = true
	case httpspec.EqualFoldASCII(name, "date"):
		date = true
	}
	if i := h.find(name); i >= 0 {
		h.splice(i, h.end(i), "", nil)
	}
	return date
}

// Get returns a copy of the values of name, or nil.
func (h *Header) Get(name string) []string {
	i := h.find(name)
	if i < 0 {
		return nil
	}
	j := h.end(i)
	vals := make([]string, 0, j-i)
	for _, f := range h.fields[i:j] {
		vals = append(vals, f.value)
	}
	return vals
}

// First returns the first value of name, and whether it is set.
func (h *Header) First(name string) (string, bool) {
	if i := h.find(name); i >= 0 {
		return h.fields[i].value, true
	}
	return "", false
}

// Has reports whether name is set.
func (h *Header) Has(name string) bool { return h.find(name) >= 0 }

// Len returns the number of fields: lines of the head, before joining.
func (h *Header) Len() int { return len(h.fields) }

// Field returns the i-th field: its name as sent, its value, and whether
// it continues the key of the field before it.
func (h *Header) Field(i int) (name, value string, cont bool) {
	f := &h.fields[i]
	return f.name, f.value, f.cont
}

// Names returns the keys' names in lower case (getHeaderNames).
func (h *Header) Names() []string {
	var names []string
	for _, f := range h.fields {
		if !f.cont {
			names = append(names, httpspec.ToLower(f.name))
		}
	}
	return names
}

// RawNames returns the keys' names as set (getRawHeaderNames).
func (h *Header) RawNames() []string {
	var names []string
	for _, f := range h.fields {
		if !f.cont {
			names = append(names, f.name)
		}
	}
	return names
}

// Map returns a copy of the headers by lower-case name (getHeaders).
func (h *Header) Map() map[string][]string {
	m := make(map[string][]string)
	var key string
	for _, f := range h.fields {
		if !f.cont {
			key = httpspec.ToLower(f.name)
		}
		m[key] = append(m[key], f.value)
	}
	return m
}
