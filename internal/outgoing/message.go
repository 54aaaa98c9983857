package outgoing

import (
	"slices"
	"strconv"
	"time"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// Message is the state of one outgoing message (Node's OutgoingMessage):
// its header store, its status, the head once fixed, the framing decided
// for the body, and the body's accounting. It does no I/O and no
// locking: its user serializes calls.
type Message struct {
	// Header holds the headers set so far.
	Header Header

	// StatusCode and StatusMessage are a response's status (ignored for a
	// request, whose user writes its own first line). StatusCode defaults
	// to 200; an empty StatusMessage means the standard reason phrase.
	StatusCode    int
	StatusMessage string
	// SendDate adds a Date header unless the message has one.
	SendDate bool
	// StrictContentLength makes a body that does not match a
	// Content-Length header fail with ERR_HTTP_CONTENT_LENGTH_MISMATCH.
	StrictContentLength bool
	// RejectBody makes a body written to a message that has none fail
	// with ERR_HTTP_BODY_NOT_ALLOWED instead of being dropped.
	RejectBody bool

	// The inputs of the framing decision, set by the user before the head
	// is fixed.

	// HasBody is false for the answer to a HEAD request (Node's
	// _hasBody); a 1xx, 204 or 304 head clears it too.
	HasBody bool
	// KeepAlive is whether the connection may carry another message
	// (Node's shouldKeepAlive).
	KeepAlive bool
	// ChunkedByDefault is whether a body of unknown length may be chunked
	// (Node's useChunkedEncodingByDefault): false for HTTP/1.0 peers and
	// for requests whose method has no body by default.
	ChunkedByDefault bool
	// Length is the body's length when it is known before the head is
	// written (End with the whole body), or -1.
	Length int64

	explicit bool  // WriteHead fixed the head
	fixed    bool  // the head is fixed (Node's _header is set)
	chunked  bool  // the body is sent chunked
	last     bool  // the connection closes after this message
	declared int64 // the Content-Length the head declares, or -1
	te       bool  // the head has a Transfer-Encoding field
	trailer  bool  // the head has a Trailer field
	expect   bool  // the head has an Expect field
	written  int64 // body bytes accepted
	finished bool
	trailers []byte // serialized trailer fields
}

// Reset prepares m for a new message, keeping its storage.
func (m *Message) Reset() {
	m.Header.Reset()
	*m = Message{
		Header:     m.Header,
		StatusCode: 200, SendDate: true, HasBody: true, Length: -1, declared: -1,
		trailers: m.trailers[:0],
	}
}

var (
	errWriteAfterEnd  = &httpspec.Error{Code: httpspec.CodeStreamWriteAfterEnd, Message: "write after end"}
	errFinished       = &httpspec.Error{Code: httpspec.CodeStreamAlreadyFinished, Message: "Cannot call end after a stream was finished"}
	errBodyNotAllowed = &httpspec.Error{Code: httpspec.CodeBodyNotAllowed,
		Message: "Adding content for this request method or response status is not allowed."}
	errTrailerInvalid = &httpspec.Error{Code: httpspec.CodeTrailerInvalid, Message: "Trailers are invalid with this transfer encoding"}
)

// Fixed reports whether the head is fixed (Node's headersSent): after
// WriteHead, or the first write. From then on the headers cannot change.
func (m *Message) Fixed() bool { return m.fixed }

// Explicit reports whether WriteHead fixed the head.
func (m *Message) Explicit() bool { return m.explicit }

// Finished reports whether the message has ended (writableEnded).
func (m *Message) Finished() bool { return m.finished }

// Chunked reports whether the body is sent chunked; decided by AppendHead.
func (m *Message) Chunked() bool { return m.chunked }

// Last reports whether the connection must close after this message.
func (m *Message) Last() bool { return m.last }

// SetLast marks the connection to close after this message.
func (m *Message) SetLast() { m.last = true }

// Written returns the body bytes accepted so far.
func (m *Message) Written() int64 { return m.written }

// SetHeader sets a header (setHeader) while the head is not fixed.
func (m *Message) SetHeader(name string, values ...string) error {
	if m.fixed {
		return httpspec.HeadersSentError("set")
	}
	return m.Header.Set(name, values...)
}

// AppendHeader adds to a header (appendHeader) while the head is not
// fixed.
func (m *Message) AppendHeader(name string, values ...string) error {
	if m.fixed {
		return httpspec.HeadersSentError("append")
	}
	return m.Header.Append(name, values...)
}

// SetHeaders sets each header of hs as SetHeader does, in the order of
// their names (a Go map has none of its own).
func (m *Message) SetHeaders(hs map[string][]string) error {
	if m.fixed {
		return httpspec.HeadersSentError("set")
	}
	names := sortedKeys(hs)
	for _, name := range names {
		if err := ValidateHeader(name, hs[name]); err != nil {
			return err
		}
	}
	for _, name := range names {
		m.Header.set(name, hs[name])
	}
	return nil
}

// RemoveHeader removes a header (removeHeader) while the head is not
// fixed. Removing Content-Length, Transfer-Encoding or Connection stops
// the message from getting its own; removing Date turns SendDate off.
func (m *Message) RemoveHeader(name string) error {
	if m.fixed {
		return httpspec.HeadersSentError("remove")
	}
	if m.Header.Remove(name) {
		m.SendDate = false
	}
	return nil
}

func sortedKeys(hs map[string][]string) []string {
	names := make([]string, 0, len(hs))
	for name := range hs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// WriteHead fixes the head with status code and headers, names and values
// alternating, as Node 20's writeHead does with a list: without headers
// set before, the list is sent as given, repeats and casing included;
// otherwise each pair sets its header as SetHeader does, so the last
// value of a name wins, with its casing, in the place the name had.
// Nothing changes when an argument is invalid.
func (m *Message) WriteHead(code int, pairs []string) error {
	if err := m.checkHead(code); err != nil {
		return err
	}
	if len(pairs)%2 != 0 {
		return httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid. Received %q", pairs)
	}
	for i := 0; i < len(pairs); i += 2 {
		if err := ValidateHeader(pairs[i], pairs[i+1:i+2]); err != nil {
			return err
		}
	}
	if m.Header.Len() == 0 {
		for i := 0; i < len(pairs); i += 2 {
			m.Header.AppendField(pairs[i], pairs[i+1], false)
		}
	} else {
		for i := 0; i < len(pairs); i += 2 {
			m.Header.set(pairs[i], pairs[i+1:i+2])
		}
	}
	m.StatusCode, m.explicit = code, true
	m.fix()
	return nil
}

// WriteHeadMap is WriteHead with headers as a map: each is set as with
// SetHeader, in the order of their names.
func (m *Message) WriteHeadMap(code int, hs map[string][]string) error {
	if err := m.checkHead(code); err != nil {
		return err
	}
	if err := m.SetHeaders(hs); err != nil {
		return err
	}
	m.StatusCode, m.explicit = code, true
	m.fix()
	return nil
}

// checkHead validates a head about to be fixed with status code.
func (m *Message) checkHead(code int) error {
	if m.fixed {
		return httpspec.HeadersSentError("write")
	}
	if code < 100 || code > 999 {
		return httpspec.NewError(httpspec.CodeInvalidStatusCode, "Invalid status code: %d", code)
	}
	if m.StatusMessage != "" && !httpspec.ValidValue(m.StatusMessage) {
		return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in statusMessage")
	}
	return nil
}

// Fix fixes the head as the first write does when WriteHead was not
// called (Node's _implicitHeader): the status is validated and the
// headers can no longer change.
func (m *Message) Fix() error {
	if m.fixed {
		return nil
	}
	if err := m.checkHead(m.StatusCode); err != nil {
		return err
	}
	m.fix()
	return nil
}

// fix marks the head fixed and notes what its fields mean for framing.
func (m *Message) fix() {
	m.fixed = true
	if c := m.StatusCode; c == 204 || c == 304 || c < 200 {
		m.HasBody = false
	}
	m.declared, m.te, m.trailer, m.expect = -1, false, false, false
	for i := range m.Header.Len() {
		name, value, _ := m.Header.Field(i)
		switch {
		case len(name) < 6 || len(name) > 17:
		case httpspec.EqualFoldASCII(name, "transfer-encoding"):
			m.te = true
		case httpspec.EqualFoldASCII(name, "content-length"):
			if m.declared < 0 {
				m.declared = parseLength(value)
			}
		case httpspec.EqualFoldASCII(name, "trailer"):
			m.trailer = true
		case httpspec.EqualFoldASCII(name, "expect"):
			m.expect = true
		}
	}
	if m.te {
		m.declared = -1 // Content-Length is not sent beside Transfer-Encoding
	}
}

// Load replaces the headers with fields received whole (names and values
// alternating; an empty name continues the key of the field before it),
// as a head that another party decided. Each field is validated once;
// nothing changes when one is invalid.
func (m *Message) Load(fields []string) error {
	if len(fields)%2 != 0 {
		return httpspec.NewError(httpspec.CodeInvalidArgValue, "The argument 'headers' is invalid")
	}
	for i := 0; i < len(fields); i += 2 {
		if fields[i] == "" && i > 0 {
			if !httpspec.ValidFieldValue(fields[i+1]) {
				return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in header content [%q]", fields[i-2])
			}
			continue
		}
		if err := httpspec.ValidateHeaderName(fields[i]); err != nil {
			return err
		}
		if !httpspec.ValidFieldValue(fields[i+1]) {
			return httpspec.NewError(httpspec.CodeInvalidChar, "Invalid character in header content [%q]", fields[i])
		}
	}
	m.Header.fields = m.Header.fields[:0]
	name := ""
	for i := 0; i < len(fields); i += 2 {
		cont := fields[i] == ""
		if !cont {
			name = fields[i]
		}
		m.Header.AppendField(name, fields[i+1], cont)
	}
	return nil
}

// parseLength parses a Content-Length value, or returns -1.
func parseLength(v string) int64 {
	if v == "" || len(v) > 18 {
		return -1
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return -1
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n
}

// Conn is what the connection adds to the framing decision of AppendHead.
type Conn struct {
	// Closing: the connection closes after this message whatever it says,
	// so it announces "Connection: close" (a server shutting down).
	Closing bool
	// LastRequest: the server's request limit is reached on this
	// connection; the message announces "Connection: close".
	LastRequest bool
	// KeepAliveTimeout and MaxRequests, when set, are announced in a
	// Keep-Alive header beside "Connection: keep-alive".
	KeepAliveTimeout time.Duration
	MaxRequests      int
	// Unique names (lower case) the headers sent on one line, their values
	// joined with "; " (Node's uniqueHeaders). Cookie always is.
	Unique map[string]bool
	// Agent: a client request sent through an agent announces keep-alive
	// whatever its framing, as Node's ClientRequest does.
	Agent bool
}

// AppendHead fixes the head if needed and appends its header fields and
// the framing headers it decides, then the blank line, to dst, where the
// user has put the first line. It is Node's _storeHeader, with one
// difference of hostd's: it never emits an ambiguous framing (a
// Content-Length beside Transfer-Encoding is dropped; an invalid or
// conflicting Content-Length is refused) and a length known before the
// head is declared even where Node would close the connection instead
// (HTTP/1.0 peers, and HEAD answers get the length their body would have
// had). On error, dst is returned unchanged in length.
func (m *Message) AppendHead(dst []byte, c *Conn) ([]byte, error) {
	if err := m.Fix(); err != nil {
		return dst, err
	}
	mark := len(dst)
	b := dst
	var connection, contLen, date bool
	for i := 0; i < m.Header.Len(); {
		name, value, _ := m.Header.Field(i)
		j := i + 1
		for j < m.Header.Len() {
			if _, _, cont := m.Header.Field(j); !cont {
				break
			}
			j++
		}
		switch {
		case len(name) < 4 || len(name) > 17:
		case httpspec.EqualFoldASCII(name, "connection"):
			connection = true
			m.Header.RemovedConnection = false
			if containsWord(value, "close") {
				m.last = true
			} else {
				m.KeepAlive = true
			}
		case httpspec.EqualFoldASCII(name, "transfer-encoding"):
			m.Header.RemovedTransferEncoding = false
			if containsWord(value, "chunked") {
				m.chunked = true
			}
		case httpspec.EqualFoldASCII(name, "content-length"):
			if m.te {
				i = j // never beside Transfer-Encoding
				continue
			}
			for k := i; k < j; k++ {
				if _, v, _ := m.Header.Field(k); parseLength(v) < 0 || parseLength(v) != m.declared {
					return dst[:mark], httpspec.NewError(httpspec.CodeInvalidHeaderValue,
						"Invalid value %q for header \"Content-Length\"", v)
				}
			}
			contLen = true
			m.Header.RemovedContentLength = false
		case httpspec.EqualFoldASCII(name, "date"):
			date = true
		}
		b = appendKey(b, &m.Header, i, j, c)
		i = j
	}
	if m.SendDate && !date {
		b = append(b, "Date: "...)
		b = http1.AppendDate(b)
		b = append(b, "\r\n"...)
	}
	// Node never sends a chunked 204 or 304: it drops the zero chunk and
	// closes the connection instead.
	if m.chunked && (m.StatusCode == 204 || m.StatusCode == 304) {
		m.chunked, m.KeepAlive = false, false
	}
	// The length known before the head, declared where it can be.
	implicit := !contLen && !m.te && m.Length >= 0 && !m.trailer && !m.Header.RemovedContentLength &&
		(m.HasBody || m.Length > 0 && m.StatusCode != 204 && m.StatusCode != 304 && m.StatusCode >= 200)
	switch {
	case m.Header.RemovedConnection:
		m.last, m.KeepAlive = true, false
	case !connection:
		sendKeepAlive := m.KeepAlive && (contLen || implicit || m.ChunkedByDefault || c.Agent)
		switch {
		case sendKeepAlive && c.Closing:
			m.last = true
			b = append(b, "Connection: close\r\n"...)
		case sendKeepAlive && c.LastRequest:
			b = append(b, "Connection: close\r\n"...)
		case sendKeepAlive:
			b = append(b, "Connection: keep-alive\r\n"...)
			if c.KeepAliveTimeout > 0 {
				b = append(b, "Keep-Alive: timeout="...)
				b = strconv.AppendInt(b, int64(c.KeepAliveTimeout.Seconds()), 10)
				if c.MaxRequests > 0 {
					b = append(b, ", max="...)
					b = strconv.AppendInt(b, int64(c.MaxRequests), 10)
				}
				b = append(b, "\r\n"...)
			}
		default:
			m.last = true
			b = append(b, "Connection: close\r\n"...)
		}
	}
	if !contLen && !m.te {
		switch {
		case implicit:
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, m.Length, 10)
			b = append(b, "\r\n"...)
			if m.HasBody {
				m.declared = m.Length
			}
		case !m.HasBody:
			m.chunked = false
		case !m.ChunkedByDefault:
			m.last = true
		case !m.Header.RemovedTransferEncoding:
			b = append(b, "Transfer-Encoding: chunked\r\n"...)
			m.chunked = true
		default:
			// Both framing headers removed: the body can only end with the
			// connection.
			m.last = true
		}
	}
	if !m.chunked && m.trailer {
		return dst[:mark], errTrailerInvalid
	}
	if m.te && !m.chunked && m.HasBody {
		m.last = true // a body under another coding ends with the connection
	}
	return append(b, "\r\n"...), nil
}

// appendKey appends the fields [i, j) of one key: one line each, or, for
// Cookie and the unique headers, one line with the values joined by "; ",
// as Node's processHeader does.
func appendKey(b []byte, h *Header, i, j int, c *Conn) []byte {
	name, value, _ := h.Field(i)
	if j-i > 1 && (httpspec.EqualFoldASCII(name, "cookie") || c.Unique != nil && c.Unique[httpspec.ToLower(name)]) {
		b = append(b, name...)
		b = append(b, ": "...)
		b = append(b, value...)
		for k := i + 1; k < j; k++ {
			_, v, _ := h.Field(k)
			b = append(b, "; "...)
			b = append(b, v...)
		}
		return append(b, "\r\n"...)
	}
	for k := i; k < j; k++ {
		_, v, _ := h.Field(k)
		b = http1.AppendField(b, name, v)
	}
	return b
}

// Expect reports whether the head has an Expect field, which makes Node
// send the head at once.
func (m *Message) Expect() bool { return m.expect }

// containsWord reports whether word (lower case) occurs in v delimited by
// non-word characters, like Node's /(?:^|\W)close(?:$|\W)/i.
func containsWord(v, word string) bool {
	for i := 0; i+len(word) <= len(v); i++ {
		if (i == 0 || !isWordChar(v[i-1])) && httpspec.EqualFold(v[i:i+len(word)], word) &&
			(i+len(word) == len(v) || !isWordChar(v[i+len(word)])) {
			return true
		}
	}
	return false
}

// ContainsWord is containsWord for the users' own header checks, such as
// Expect: 100-continue.
func ContainsWord(v, word string) bool { return containsWord(v, word) }

func isWordChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}
