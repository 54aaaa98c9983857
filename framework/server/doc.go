// Package server is hostd's HTTP/1.1 engine: a server with the events and
// the request and response objects of Node's http.Server, on the parser
// of package http1.
//
// Each connection has a goroutine that reads requests and runs handlers.
// The costs a server pays per connection are kept off the request path:
//   - Timeouts (headers, request, keep-alive, socket) are enforced by one
//     sweeper goroutine per server from timestamps the connections store,
//     so a request costs no timer operation.
//   - A connection between requests holds no buffer: it waits on the
//     socket and takes a buffer from a pool once bytes arrive.
//   - A connection idle for a second hands its wait over to a fresh
//     goroutine on the smallest stack; once a few hundred have done so,
//     the server runs a collection and returns the memory to the system
//     (at most every 10 seconds). An idle keep-alive connection costs
//     about 4 KiB of resident memory.
package server
