package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
)

// A response finished while the next pipelined request is already read
// must not wait for that request's response: Node writes it at once, and
// the next handler may take as long as it likes (a long poll).
func TestPipelinedResponseLeavesBeforeTheNextHandlerAnswers(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
		if req.URL() == "/slow" {
			close(started)
			go func() {
				<-release
				_ = res.EndString("slow")
			}()
			return
		}
		_ = res.EndString("fast")
	}}})
	c := dial(t, addr)
	c.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\nGET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	// The slow handler holds its response until the test ends: the first
	// answer can only come from a write that did not wait for it (the
	// client's read deadline fails the test otherwise).
	r := c.read()
	require.Equal(t, 200, r.status)
	require.Equal(t, "fast", r.body)
}
