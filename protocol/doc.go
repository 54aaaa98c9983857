// Package protocol is the contract between hostd and its plugins, and the
// only package both sides import.
//
// A plugin is a process launched and supervised by go-plugin. Two channels
// join it to the host:
//
//   - The control plane is go-plugin's gRPC connection, serving the Control
//     service of hostd.proto: Configure (the plugin's config table), Health,
//     Stats and Shutdown. Handshake and Version below version it; a plugin
//     built against another Version is refused by go-plugin with an
//     "incompatible API version" error, never left hanging.
//
//   - The data plane is one Unix-domain stream socket per plugin process,
//     a socketpair whose plugin end the process inherits as file
//     descriptor DataPlaneFD. All request and response bytes travel on it,
//     as frames:
//
//     +----------------+----------------+--------+-------------------+
//     | length: uint32 | stream: uint32 | type:8 | payload ...       |
//     +----------------+----------------+--------+-------------------+
//
//     big-endian; length counts the bytes after itself (5 + payload), and
//     is at most MaxFrame. A stream is one event (a request, an upgrade, a
//     CONNECT, a client error); the host numbers streams, and frames of
//     many streams interleave, so handlers run concurrently and answer in
//     any order. Frame types and payloads are listed in frame.go.
//
// Bodies stream both ways under credit-based flow control: each side may
// send at most Window body bytes on a stream beyond what the other has
// acknowledged with Credit frames, so neither side buffers a whole body
// and a slow reader slows its writer.
//
// For an upgrade or CONNECT, the host passes the client's socket itself to
// the plugin (SCM_RIGHTS with the Request frame) and forgets it, so that
// tunnelled bytes never cross the host. When a descriptor cannot travel
// (another OS, a socket that is not a plain TCP or Unix connection, or a
// plugin that asks for it), the bytes are relayed as SockData frames.
//
// The encoding is hand-rolled rather than protobuf: it is about 10% of the
// cost of a small request, and the data plane is the hot path.
package protocol

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative hostd.proto
