package echo

import (
	"strconv"
	"unicode/utf8"

	"github.com/hostd/hostd/sdk"
)

// The answer is encoded by hand, into a reused buffer, with exactly the
// bytes JSON.stringify writes for the object a Node handler builds from
// the same request (see Answer), so that it costs no reflection and, once
// warm, no allocation. json_test.go holds it to Node's own JSON.stringify
// and to a plain reference; node_test.go holds hostd's answer to a Node
// server's for the same raw bytes.

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
// scratch space for ordering header names.
func appendAnswer(dst []byte, q *request, keys *keyOrder) []byte {
	dst = append(dst, `{"method":`...)
	dst = appendLatin1(dst, q.method)
	dst = append(dst, `,"url":`...)
	dst = appendLatin1(dst, q.url)
	dst = append(dst, `,"httpVersion":`...)
	dst = appendLatin1(dst, q.httpVersion)
	dst = append(dst, `,"headers":`...)
	dst = appendHeaders(dst, q.headers, q.rawHeaders, keys)
	dst = append(dst, `,"rawHeaders":`...)
	dst = appendList(dst, q.rawHeaders)
	dst = append(dst, `,"trailers":`...)
	dst = appendHeaders(dst, q.trailers, q.rawTrailers, keys)
	dst = append(dst, `,"rawTrailers":`...)
	dst = appendList(dst, q.rawTrailers)
	dst = append(dst, `,"body":`...)
	dst = appendUTF8(dst, q.body)
	dst = append(dst, `,"bodyLength":`...)
	dst = strconv.AppendInt(dst, q.bodyLength, 10)
	return append(dst, '}')
}

// appendHeaders appends h, folded from the fields raw, as JSON.stringify
// writes Node's message.headers: names in the order keyOrder gives, each
// value a string, except set-cookie, a list; a name without a value is
// left out.
func appendHeaders(dst []byte, h sdk.Headers, raw []string, keys *keyOrder) []byte {
	dst = append(dst, '{')
	for i, k := range keys.order(h, raw) {
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
	keys.reset() // the pool must not keep the request's strings
	return append(dst, '}')
}

// appendList appends list as a JSON array of latin1 strings; nil is the
// empty array, as Node's rawHeaders and rawTrailers are never null.
func appendList(dst []byte, list []string) []byte {
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

// appendASCII appends the ASCII byte c as JSON.stringify writes it in a
// string: \b \f \n \r \t, \" and \\, \u00xx (lower-case hex) for the
// other control characters, and every other byte as it is (DEL, <, >
// and & included).
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
// one U+FFFD for each maximal ill-formed subpart. JSON.stringify leaves
// every character from U+0080 as it is (U+2028 and U+2029 too); the lone
// surrogates it would escape cannot come out of a UTF-8 decoding.
func appendUTF8(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			dst = appendASCII(dst, b[0])
			b = b[1:]
			continue
		}
		n, ok := nextRune(b)
		if ok {
			dst = append(dst, b[:n]...)
		} else {
			dst = append(dst, "\uFFFD"...)
		}
		b = b[n:]
	}
	return append(dst, '"')
}
