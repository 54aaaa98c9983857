package server

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"
)

// A timeout that fires between the read of a request head and its
// dispatch closes the connection (and answers 408). The dispatch used to
// set stateActive over stateClosed: the handler ran for a closed
// connection, and its unfinished response waited for an end that no
// longer came, until another tick expired the connection again (calling
// the ClientError handler a second time), or for ever on a manual clock.
func TestADispatchAfterTheConnectionClosedRunsNoHandler(t *testing.T) {
	ran := make(chan struct{}, 1)
	srv := New(Options{Logger: hclog.NewNullLogger(), Handlers: Handlers{
		Request: func(*IncomingMessage, *ServerResponse) { ran <- struct{}{} }, // never answers
	}})
	client, server := net.Pipe()
	defer client.Close()
	c := srv.newConn(server)
	go func() { _, _ = client.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")) }()
	require.True(t, c.readHead())

	c.destroy() // the timeout's expire, or Close, lands here

	dispatched := make(chan bool, 1)
	go func() { dispatched <- c.dispatch() }()
	select {
	case more := <-dispatched:
		require.False(t, more, "the connection is done")
	case <-time.After(10 * time.Second):
		t.Fatal("dispatch waits for a response on a closed connection")
	}
	select {
	case <-ran:
		t.Fatal("a handler ran for a closed connection")
	default:
	}
	require.Equal(t, stateClosed, c.state.Load(), "stateClosed is terminal")
	c.end()
	require.Zero(t, srv.ConnectionCount())
}
