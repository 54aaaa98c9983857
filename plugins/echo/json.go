package echo

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/hostd/hostd/sdk"
)

// The answer is encoded by hand, into a reused buffer, with exactly the
// bytes encoding/json would write for Answer (fields in order, map keys
// sorted, HTML-safe escaping), so that it costs no reflection and no
// intermediate maps. json_test.go holds it to encoding/json's output.

// request is what the answer describes, as the SDK gives it: strings
// are the request's bytes, which appendAnswer reads as Node does.
type request struct {
	method, url, httpVersion string
	headers, trailers        sdk.Headers
	rawHeaders, rawTrailers  []string
	body                     []byte // the part kept
	bodyLength               int64
}

// appendAnswer appends the JSON of Answer for q, with every string but the
// body read as latin1 and the body decoded as WHATWG UTF-8. keys is
// scratch space for sorting header names; it is returned for reuse.
func appendAnswer(dst []byte, q *request, keys []string) ([]byte, []string) {
	dst = append(dst, `{"method":`...)
	dst = appendLatin1(dst, q.method)
	dst = append(dst, `,"url":`...)
	dst = appendLatin1(dst, q.url)
	dst = append(dst, `,"httpVersion":`...)
	dst = appendLatin1(dst, q.httpVersion)
	dst = append(dst, `,"headers":`...)
	dst, keys = appendHeaders(dst, q.headers, keys)
	dst = append(dst, `,"rawHeaders":`...)
	dst = appendList(dst, q.rawHeaders)
	dst = append(dst, `,"trailers":`...)
	dst, keys = appendHeaders(dst, q.trailers, keys)
	dst = append(dst, `,"rawTrailers":`...)
	dst = appendList(dst, q.rawTrailers)
	dst = append(dst, `,"body":`...)
	dst = appendUTF8(dst, q.body)
	dst = append(dst, `,"bodyLength":`...)
	dst = strconv.AppendInt(dst, q.bodyLength, 10)
	return append(dst, '}'), keys
}

// appendHeaders appends h as sdk.Headers marshals it: an object with
// sorted names, each a string, except set-cookie, a list; a name without
// a value is left out.
func appendHeaders(dst []byte, h sdk.Headers, keys []string) ([]byte, []string) {
	keys = keys[:0]
	for k, v := range h {
		if k == "set-cookie" || len(v) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendLatin1(dst, k)
		dst = append(dst, ':')
		if k == "set-cookie" {
			dst = appendList(dst, h[k])
		} else {
			dst = appendLatin1(dst, h[k][0])
		}
	}
	clear(keys) // the pool must not keep the request's strings
	return append(dst, '}'), keys[:0]
}

// appendList appends list as a JSON array of latin1 strings (null when
// nil, as encoding/json writes a nil slice).
func appendList(dst []byte, list []string) []byte {
	if list == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendLatin1(dst, s)
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// appendASCII appends the escaped form of the ASCII byte c, as
// encoding/json escapes it with HTML escaping on.
func appendASCII(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '<', '>', '&':
	default:
		if c >= 0x20 {
			return append(dst, c)
		}
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendLatin1 appends s as a JSON string of its bytes read as latin1:
// bytes from 0x80 are the characters U+0080 to U+00FF, which JSON
// leaves unescaped.
func appendLatin1(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < utf8.RuneSelf {
			dst = appendASCII(dst, c)
		} else {
			dst = append(dst, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return append(dst, '"')
}

// appendUTF8 appends b as a JSON string of its WHATWG UTF-8 decoding:
// one U+FFFD for each maximal ill-formed subpart, and U+2028 and U+2029
// escaped, as encoding/json escapes them.
func appendUTF8(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			dst = appendASCII(dst, b[0])
			b = b[1:]
			continue
		}
		n, ok := nextRune(b)
		switch {
		case !ok:
			dst = append(dst, "\uFFFD"...)
		case n == 3 && b[0] == 0xE2 && b[1] == 0x80 && b[2]&^1 == 0xA8: // U+2028, U+2029
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[b[2]&0xF])
		default:
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return append(dst, '"')
}
