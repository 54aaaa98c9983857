// Package client is the client half of hostd's HTTP/1.1: Node.js v20's
// http.ClientRequest and http.Agent, with Electron's net.ClientRequest
// additions (redirect and login events, chunkedEncoding, upload progress),
// for plugins and any Go program that talks to an upstream.
//
// Responses are read with hostd's own strict parser (internal/http1), so
// the client refuses what the server refuses, with llhttp's HPE_* codes:
// a response with both Content-Length and Transfer-Encoding, a bad chunk
// or an oversized head is an error, never a guess. Unlike Go's net/http
// client it shows 1xx answers (Information, Continue), raw header casing,
// raw trailers, Expect/continue, upgrade and CONNECT as a client, and it
// pools connections as Node's Agent does.
//
// # Two ways to use it
//
// Do and Get block until the response head arrives, for the common case:
//
//	res, err := client.Get(ctx, "http://127.0.0.1:8080/hello", nil)
//	if err != nil { ... }
//	defer res.Body.Close()
//
// NewRequest returns a ClientRequest that is written like Node's and
// reports Node's events through the optional callbacks of Events. The
// callbacks of one request run one at a time, in Node's order, on a
// goroutine of their own: a callback may call any method of the request,
// and events that it causes are delivered after it returns.
//
// # Life of a request
//
// NewRequest queues the request on its Agent, which hands it a free
// connection of its pool (getName's key) or dials one (socket). What is
// written before the connection exists is kept and sent when it does.
// The first Write, FlushHeaders or End fixes the head (ERR_HTTP_HEADERS_SENT
// afterwards). Response heads are read as they come: 1xx other than 101
// are reported (Information, Continue) and the next head read; a 101 or a
// 2xx answer to CONNECT hands the connection to OnUpgrade or OnConnect;
// the final response is reported with a streamed Body. When the body has
// been read to its end, and the request was written to its end, the
// connection goes back to the Agent if both sides allow keep-alive;
// otherwise it is closed. Close comes last.
package client
