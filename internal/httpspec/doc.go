// Package httpspec holds the HTTP facts that the host and the SDK both need
// and that must agree byte for byte between them: character classes of
// tokens and field values, Node.js's header validation and its error codes,
// the rules that fold repeated request headers into message.headers,
// STATUS_CODES and METHODS.
//
// It is a leaf: it imports only the standard library, so that framework/
// and sdk/ can share it without importing each other.
package httpspec
