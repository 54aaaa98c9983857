// Package http1 parses and writes HTTP/1.1 messages.
//
// The parser is as strict as Node.js's llhttp in its default mode (RFC 9112):
// it refuses unknown methods, bad token characters, controls in values,
// obs-fold, whitespace before the colon, bad or repeated Content-Length,
// Content-Length together with Transfer-Encoding, a request
// Transfer-Encoding whose last coding is not chunked, and bad chunk sizes.
// Its errors carry llhttp's codes (HPE_*) so that the server can answer
// them as Node does.
//
// A Parser is incremental and allocation-free: it is fed the growing
// prefix of a connection's read buffer, remembers where it stopped, and
// returns a Head whose byte slices point into that buffer. It uses only the
// standard library and the shared character tables, so it can be fuzzed
// and benchmarked alone.
package http1
