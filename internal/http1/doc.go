// Package http1 parses and writes HTTP/1.1 messages.
//
// The parser is as strict as Node.js v20's llhttp in its default mode: it
// refuses what llhttp refuses, at the same byte and with the same error
// code (HPE_*), so that the server can answer a refusal as Node does and
// so that hostd and a Node-based peer never frame a message differently.
// Among other things it refuses unknown methods, bad target and token
// characters, controls in values, obs-fold, whitespace before a colon,
// bare LF line ends, a bad or repeated Content-Length, Content-Length
// together with Transfer-Encoding, a request Transfer-Encoding whose last
// coding is not chunked, and malformed chunk sizes and extensions.
//
// Where llhttp accepts something that is not HTTP or that hostd cannot
// represent (RTSP and ICE requests, an HTTP/0.9 line ended by a bare LF,
// Content-Length above 2^63-1, heads padded past RawHeadLimit, ...), the
// parser is deliberately stricter; each such refusal is listed with its
// reason in errors.go. It never accepts what llhttp refuses.
//
// Like llhttp, the parsers are state machines that read each byte once and
// resume where they stopped, so a message may arrive in any pieces: a
// Parser is fed the growing prefix of a connection's read buffer and
// returns a Head whose byte slices point into that buffer; a
// ChunkedDecoder is fed the bytes after the head. Neither allocates once
// warm. The package uses only the standard library and the shared
// character tables, so it can be fuzzed and benchmarked alone.
//
// The golden vectors in testdata/*.md describe the behavior case by case;
// the differential test checks them, and many mutations of them, against
// Node's own parser.
package http1
