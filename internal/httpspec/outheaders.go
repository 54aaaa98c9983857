package httpspec

// OutHeaders is the header bookkeeping of an outgoing message, as Node's
// OutgoingMessage keeps it: names as given, matched without case, in the
// order first set. It validates with Node's errors. The host's
// ServerResponse and the SDK's Response both keep their headers in one.
// An OutHeaders must not be copied after first use.
type OutHeaders struct {
	list  []outHeader
	first [2]outHeader // the list's storage while it is short

	// RemovedConnection, RemovedContentLength and RemovedTransferEncoding
	// record that the handler removed that header, so the server must not
	// add its own; setting the header again clears the flag.
	RemovedConnection       bool
	RemovedContentLength    bool
	RemovedTransferEncoding bool
}

type outHeader struct {
	name   string
	values []string
}

// Reset empties h, keeping its storage.
func (h *OutHeaders) Reset() {
	for i := range h.list {
		h.list[i] = outHeader{values: h.list[i].values[:0]}
	}
	h.list = h.list[:0]
	h.RemovedConnection, h.RemovedContentLength, h.RemovedTransferEncoding = false, false, false
}

func (h *OutHeaders) find(name string) int {
	for i := range h.list {
		if EqualFoldASCII(h.list[i].name, name) {
			return i
		}
	}
	return -1
}

// Validate checks a header as setHeader does.
func Validate(name string, values []string) error {
	if err := ValidateHeaderName(name); err != nil {
		return err
	}
	return ValidateHeaderValues(name, values)
}

// Set replaces the values of name (setHeader).
func (h *OutHeaders) Set(name string, values ...string) error {
	if err := Validate(name, values); err != nil {
		return err
	}
	if i := h.find(name); i >= 0 {
		h.list[i].values = append(h.list[i].values[:0], values...)
		return nil
	}
	h.push(name, values)
	return nil
}

// Append adds values to name, keeping those it had (appendHeader).
func (h *OutHeaders) Append(name string, values ...string) error {
	if err := Validate(name, values); err != nil {
		return err
	}
	if i := h.find(name); i >= 0 {
		h.list[i].values = append(h.list[i].values, values...)
		return nil
	}
	h.push(name, values)
	return nil
}

// push adds an entry, reusing the storage of an earlier one in its slot.
func (h *OutHeaders) push(name string, values []string) {
	if h.list == nil {
		h.list = h.first[:0]
	}
	if len(h.list) < cap(h.list) {
		h.list = h.list[:len(h.list)+1]
		e := &h.list[len(h.list)-1]
		e.name, e.values = name, append(e.values[:0], values...)
		return
	}
	h.list = append(h.list, outHeader{name: name, values: append([]string(nil), values...)})
}

// Remove deletes name (removeHeader) and records the removal of the
// headers the server would otherwise add. It reports whether name is
// Date, which turns sendDate off.
func (h *OutHeaders) Remove(name string) (date bool) {
	switch {
	case EqualFoldASCII(name, "connection"):
		h.RemovedConnection = true
	case EqualFoldASCII(name, "content-length"):
		h.RemovedContentLength = true
	case EqualFoldASCII(name, "transfer-encoding"):
		h.RemovedTransferEncoding = true
	case EqualFoldASCII(name, "date"):
		date = true
	}
	if i := h.find(name); i >= 0 {
		vals := h.list[i].values
		copy(h.list[i:], h.list[i+1:])
		h.list[len(h.list)-1] = outHeader{values: vals[:0]}
		h.list = h.list[:len(h.list)-1]
	}
	return date
}

// Get returns the values of name, or nil.
func (h *OutHeaders) Get(name string) []string {
	if i := h.find(name); i >= 0 {
		return h.list[i].values
	}
	return nil
}

// Has reports whether name is set.
func (h *OutHeaders) Has(name string) bool { return h.find(name) >= 0 }

// Len returns the number of distinct headers.
func (h *OutHeaders) Len() int { return len(h.list) }

// At returns the i-th header's name as given and its values.
func (h *OutHeaders) At(i int) (name string, values []string) {
	return h.list[i].name, h.list[i].values
}

// Names returns the names in lower case (getHeaderNames).
func (h *OutHeaders) Names() []string {
	names := make([]string, len(h.list))
	for i, e := range h.list {
		names[i] = ToLower(e.name)
	}
	return names
}

// RawNames returns the names as given (getRawHeaderNames).
func (h *OutHeaders) RawNames() []string {
	names := make([]string, len(h.list))
	for i, e := range h.list {
		names[i] = e.name
	}
	return names
}

// Map returns a copy of the headers by lower-case name (getHeaders).
func (h *OutHeaders) Map() map[string][]string {
	m := make(map[string][]string, len(h.list))
	for _, e := range h.list {
		m[ToLower(e.name)] = append([]string(nil), e.values...)
	}
	return m
}
