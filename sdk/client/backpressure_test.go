package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk/client"
)

// A body written before the request has a connection is not held whole
// in memory: beyond Node's high-water mark (16 KiB), Write waits for the
// connection, as Node's req.write returns false until 'drain'.
func TestWriteBeforeTheConnectionWaitsBeyondTheHighWaterMark(t *testing.T) {
	hold := make(chan struct{})
	uploaded := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-hold
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		uploaded <- int(n)
	}))
	t.Cleanup(srv.Close)
	// One socket: while the first request holds it, the second is queued.
	agent := client.NewAgent(client.AgentOptions{KeepAlive: true, MaxSockets: 1})
	t.Cleanup(agent.Destroy)
	first, err := client.NewRequest(context.Background(), client.Options{URL: srv.URL + "/hold", Agent: agent})
	require.NoError(t, err)
	require.NoError(t, first.End(nil))

	waiting := make(chan struct{}, 2)
	defer client.SetWriteWaits(func() { waiting <- struct{}{} })()

	t.Run("the Write returns once the connection took the bytes", func(t *testing.T) {
		second, err := client.NewRequest(context.Background(), client.Options{URL: srv.URL + "/upload", Method: "POST", Agent: agent})
		require.NoError(t, err)
		require.NoError(t, second.Write(make([]byte, 8<<10)), "below the mark: queued at once")
		wrote := make(chan error, 1)
		go func() { wrote <- second.Write(make([]byte, 64<<10)) }()
		select {
		case <-waiting:
		case err := <-wrote:
			t.Fatalf("Write returned (%v) before the request had a connection", err)
		}
		close(hold) // the first answer frees the socket for the second
		require.NoError(t, <-wrote)
		require.NoError(t, second.End(nil))
		require.Equal(t, 72<<10, <-uploaded)
		res, err := second.Response(context.Background())
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
	})

	t.Run("destroying the request ends the wait with Node's error", func(t *testing.T) {
		blocker, err := client.NewRequest(context.Background(), client.Options{URL: srv.URL + "/upload", Method: "POST", Agent: agent})
		require.NoError(t, err)
		require.NoError(t, blocker.Write([]byte("x"))) // holds the only socket: its body never ends
		queued, err := client.NewRequest(context.Background(), client.Options{URL: srv.URL + "/upload", Method: "POST", Agent: agent})
		require.NoError(t, err)
		wrote := make(chan error, 1)
		go func() { wrote <- queued.Write(make([]byte, 64<<10)) }()
		<-waiting
		queued.Destroy(nil)
		require.Equal(t, "ERR_STREAM_DESTROYED", codeOf(t, <-wrote))
		blocker.Destroy(nil)
	})
}
