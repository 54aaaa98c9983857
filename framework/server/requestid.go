package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// MaxRequestIDLength is the longest X-Request-Id taken from a client.
const MaxRequestIDLength = 128

var requestIDName = []byte("X-Request-Id")

// requestID is a request's ID and the room to generate one in.
type requestID struct {
	value []byte // nil when Options.RequestID is off
	buf   [40]byte
}

// idSource generates request IDs unique to the process: a random prefix
// drawn at start, then a counter.
type idSource struct {
	prefix [17]byte // 16 hex digits and "-"
	n      atomic.Uint64
}

func (s *idSource) init() {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on the platforms Go supports
	hex.Encode(s.prefix[:16], b[:])
	s.prefix[16] = '-'
}

// RequestID returns the request's X-Request-Id, or nil when
// Options.RequestID is off. It is valid like Head.
func (m *IncomingMessage) RequestID() []byte { return m.id.value }

// assignRequestID gives req its ID: the client's X-Request-Id when it sent
// exactly one that is a sane token, else a generated one, which replaces
// what the client sent so that the handler sees one field.
func (s *Server) assignRequestID(req *IncomingMessage) {
	if !s.cfg.RequestID {
		req.id.value = nil
		return
	}
	h := req.head
	found, count := -1, 0
	for i := range h.Fields {
		if httpspec.EqualFold(h.Fields[i].Name, "x-request-id") {
			count++
			if found < 0 {
				found = i
			}
		}
	}
	if count == 1 && saneRequestID(h.Fields[found].Value) {
		req.id.value = h.Fields[found].Value
		return
	}
	if count > 0 {
		kept := h.Fields[:0]
		for _, f := range h.Fields {
			if !httpspec.EqualFold(f.Name, "x-request-id") {
				kept = append(kept, f)
			}
		}
		h.Fields = kept
	}
	id := append(req.id.buf[:0], s.ids.prefix[:]...)
	id = strconv.AppendUint(id, s.ids.n.Add(1), 36)
	req.id.value = id
	// Past MaxHeadersCount fields this one is ignored like the others
	// there; the ID itself still holds.
	h.Fields = append(h.Fields, http1.Field{Name: requestIDName, Value: id})
}

// saneRequestID accepts 1 to MaxRequestIDLength letters, digits and
// - _ . : + / = @, which covers UUIDs, hex and base64 IDs and keeps
// anything that would need quoting out of logs.
func saneRequestID(v []byte) bool {
	if len(v) == 0 || len(v) > MaxRequestIDLength {
		return false
	}
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}
