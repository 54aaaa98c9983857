// Package outgoing holds Node's OutgoingMessage rules once, for every
// outgoing HTTP/1.1 message hostd makes: the header store (names as set,
// matched without case, in order, repeated values, Node's validation and
// error codes), the head (explicit with WriteHead, or implicit at the
// first write), the framing decision (Content-Length, chunked or
// close-delimited; HEAD, 1xx, 204 and 304; HTTP/1.0 peers; keep-alive),
// strict content length, trailers and 1xx responses. It does no I/O and
// takes no lock: each user adds its own.
//
// The life of a message: the user sets the framing inputs (HasBody,
// KeepAlive, ChunkedByDefault) and headers; WriteHead, or Fix at the
// first write, fixes the head; AppendHead serializes it after the user's
// first line and decides the framing; Body accounts for each write and
// says how much of it may go out, AppendChunk/ChunkEnd frame it;
// CheckEnd, Finish and AppendEnd end it.
//
// Its three users:
//
//   - framework/server.ServerResponse, the engine's response, serializes
//     with AppendHead behind a status line and writes to the client's
//     socket. ApplyHead takes a head decided by a plugin: Load validates
//     each field once, and the engine decides the framing.
//   - sdk.Response, a plugin's response, keeps its headers in a Message
//     and fixes its head there, so that errors reach the handler at the
//     call; it sends the fixed head to hostd as fields (a continuation
//     with an empty name), where ApplyHead applies it, and uses Body for
//     StrictContentLength.
//   - the client's ClientRequest (sdk/client) writes its request line,
//     then AppendHead with Conn.Agent for its keep-alive rule,
//     ChunkedByDefault false for methods that have no body by default,
//     and Body/AppendChunk/AppendEnd for its body and trailers.
//
// Where Node would emit something ambiguous, hostd, the trust boundary
// for plugins, does not: a Content-Length beside Transfer-Encoding is
// dropped, an invalid or conflicting one refused, and no byte is written
// past a declared length (the connection closes after the message
// instead). A length known when the head goes out is declared where Node
// would close the connection instead (HTTP/1.0, and HEAD answers).
package outgoing
