package client

// moves to internal/outgoing: the request head serialisation and framing
// decision below belong to the shared outgoing-message package, which
// ServerResponse and the SDK's Response use too; until it lands, the
// client keeps its own small copy here.

import (
	"strconv"
	"strings"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// framing is what the head decided about the body that follows it.
type framing struct {
	chunked       bool  // the body is sent chunked
	contentLength int64 // the declared Content-Length, or -1
	last          bool  // the head asks to close the connection after the exchange
}

// chunkedByDefault is Node's useChunkedEncodingByDefault: a body written
// without a Content-Length is chunked, except for these methods, whose
// bodies are rare and sent without framing as Node sends them.
func chunkedByDefault(method string) bool {
	switch method {
	case "GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT":
		return false
	}
	return true
}

// headSpec is what buildHead needs besides the header fields.
type headSpec struct {
	method, path    string
	shouldKeepAlive bool  // the agent may reuse the connection
	final           bool  // End came before the head: the whole body is known
	bodyLen         int64 // its length, when final
	forceChunked    *bool // Electron's chunkedEncoding, nil for Node's rule
	hasTrailers     bool  // trailers were added
	unique          []string
}

// buildHead serialises the request line and fields (a flat name, value
// list, already validated) and adds Connection and the framing field as
// Node's _storeHeader does.
func buildHead(fields []string, sp headSpec) ([]byte, framing) {
	f := framing{contentLength: -1}
	b := make([]byte, 0, 256)
	b = append(b, sp.method...)
	b = append(b, ' ')
	b = append(b, sp.path...)
	b = append(b, " HTTP/1.1\r\n"...)
	var hasConn, hasCL, hasTE, hasTrailerField bool
	for i := 0; i+1 < len(fields); i += 2 {
		name, value := fields[i], fields[i+1]
		switch {
		case httpspec.EqualFoldASCII(name, "connection"):
			hasConn = true
			if httpspec.ListContainsToken(value, "close") {
				f.last = true
			}
		case httpspec.EqualFoldASCII(name, "content-length"):
			hasCL = true
			if n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err == nil {
				f.contentLength = n
			}
		case httpspec.EqualFoldASCII(name, "transfer-encoding"):
			hasTE = true
			f.chunked = lastCodingChunked(value)
		case httpspec.EqualFoldASCII(name, "trailer"):
			hasTrailerField = true
		}
		b = appendField(b, name, value)
	}
	if !hasConn {
		if sp.shouldKeepAlive {
			b = append(b, "Connection: keep-alive\r\n"...)
		} else {
			b = append(b, "Connection: close\r\n"...)
			f.last = true
		}
	}
	if !hasCL && !hasTE {
		chunk, length := chunkedByDefault(sp.method), chunkedByDefault(sp.method)
		if sp.forceChunked != nil {
			// Electron: chunked, or a Content-Length whatever the method.
			chunk, length = *sp.forceChunked, !*sp.forceChunked
		}
		switch {
		case length && sp.final && !sp.hasTrailers && !hasTrailerField:
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, sp.bodyLen, 10)
			b = append(b, "\r\n"...)
			f.contentLength = sp.bodyLen
		case chunk:
			b = append(b, "Transfer-Encoding: chunked\r\n"...)
			f.chunked = true
		}
	}
	return append(b, "\r\n"...), f
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// lastCodingChunked reports whether the final coding of a
// Transfer-Encoding value is chunked.
func lastCodingChunked(v string) bool {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return httpspec.EqualFoldASCII(httpspec.TrimOWS(v), "chunked")
}

// storeFields flattens a header store into the list buildHead takes; a
// name listed in unique is sent once, its values joined with "; ".
func storeFields(h *outgoing.Header, unique []string) []string {
	out := make([]string, 0, 2*h.Len())
	for i := 0; i < h.Len(); i++ {
		name, value, cont := h.Field(i)
		if cont && len(out) >= 2 && isUnique(name, unique) {
			out[len(out)-1] += "; " + value
			continue
		}
		out = append(out, name, value)
	}
	return out
}

func isUnique(name string, unique []string) bool {
	for _, u := range unique {
		if httpspec.EqualFoldASCII(name, httpspec.ToLower(u)) {
			return true
		}
	}
	return false
}

// appendLastChunk writes the last chunk and the trailer fields.
func appendLastChunk(b []byte, trailers []string) []byte {
	b = append(b, "0\r\n"...)
	for i := 0; i+1 < len(trailers); i += 2 {
		b = appendField(b, trailers[i], trailers[i+1])
	}
	return append(b, "\r\n"...)
}
