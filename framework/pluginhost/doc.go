// Package pluginhost runs plugins as separate processes and forwards
// server events to them.
//
// Lifecycle. A Plugin is one name of the configuration, served by one
// current generation at a time: an Instance, which is one process and its
// data-plane socket. Each method does one thing, in this order:
//
//   - Start launches the first generation: go-plugin starts the process
//     and checks its handshake (protocol version), Configure hands it its
//     config table, Health must answer serving; only then is the
//     generation published (an atomic pointer the router reads).
//   - Swap launches generation N+1 the same way, publishes it, and drains
//     generation N in the background: N receives no new requests, finishes
//     those in flight and keeps its upgraded sockets until they close or
//     the drain timeout passes; then N is stopped. A new generation that
//     fails to start or to answer Health is refused, and N keeps serving.
//   - Drain and Stop end a generation; Stop on a Plugin drains and stops
//     its current generation and forbids restarts.
//
// A generation that dies (its data plane closes without Stop) fails only
// its own in-flight requests: 502 while their head was not sent, a closed
// connection after. The Plugin then restarts with exponential backoff, and
// while it is down its routes answer 503 with Retry-After.
//
// Processes never outlive the host: each holds the plugin end of a
// socketpair and exits when it closes, which the kernel does when the host
// dies, however it dies; on Linux they also get SIGKILL as their parent
// death signal. Each plugin leads its own process group, which the host
// kills once the plugin has stopped, crashed or failed to start, so that
// what a plugin starts ends with it; and each gets its own folder for
// go-plugin's socket, removed then too (process.go). A plugin's stdout
// and stderr go to the host's log (output.go).
package pluginhost
