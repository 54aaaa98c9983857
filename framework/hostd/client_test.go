package hostd_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/sdk/client"
)

// The client half (sdk/client) against hostd and its shipped plugins:
// upgrade to echo with a byte echo, CONNECT through tunnel with a request
// inside the tunnel, and Expect: 100-continue.
func TestClientAgainstHostdPlugins(t *testing.T) {
	h := hostdtest.Start(t, config(eventsConfig))
	ctx := context.Background()

	t.Run("upgrade to echo, then a byte echo", func(t *testing.T) {
		got := make(chan net.Conn, 1)
		req, err := client.NewRequest(ctx, client.Options{URL: h.URL + "/echo", NoAgent: true,
			Headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"bytes"}},
			Events: client.Events{OnUpgrade: func(res *client.IncomingMessage, c net.Conn, head []byte) {
				if res.StatusCode == 101 && len(head) == 0 {
					got <- c
				}
			}}})
		require.NoError(t, err)
		require.NoError(t, req.End(nil))
		var c net.Conn
		select {
		case c = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no upgrade")
		}
		defer c.Close()
		_, err = c.Write([]byte("\x00\x01ping\xff"))
		require.NoError(t, err)
		buf := make([]byte, 7)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
		require.Equal(t, "\x00\x01ping\xff", string(buf))
	})

	t.Run("CONNECT through tunnel, then a request inside", func(t *testing.T) {
		// The target: an HTTP server of the test (hostd refuses tunnels to
		// its own listeners).
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "inside "+r.URL.Path)
		}))
		defer target.Close()
		tunnels := make(chan net.Conn, 1)
		req, err := client.NewRequest(ctx, client.Options{Method: "CONNECT", Host: "127.0.0.1", Port: portOf(t, h.Addr),
			Path: target.Listener.Addr().String(), NoAgent: true,
			Events: client.Events{OnConnect: func(res *client.IncomingMessage, c net.Conn, head []byte) {
				if res.StatusCode == 200 {
					tunnels <- c
				} else {
					c.Close()
				}
			}}})
		require.NoError(t, err)
		require.NoError(t, req.End(nil))
		res, err := req.Response(ctx)
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
		tunnel := <-tunnels
		defer tunnel.Close()
		inner, err := client.Get(ctx, target.URL+"/tunnelled", &client.Options{NoAgent: true,
			CreateConnection: func(context.Context) (net.Conn, error) { return tunnel, nil }})
		require.NoError(t, err)
		b, err := io.ReadAll(inner.Body)
		require.NoError(t, err)
		require.Equal(t, "inside /tunnelled", string(b))
	})

	t.Run("Expect: 100-continue", func(t *testing.T) {
		var req *client.ClientRequest
		continued := make(chan struct{}, 1)
		req, err := client.NewRequest(ctx, client.Options{URL: h.URL + "/expect", Method: "POST", NoAgent: true,
			Headers: map[string][]string{"Expect": {"100-continue"}, "Content-Length": {"5"}},
			Events: client.Events{OnContinue: func() {
				continued <- struct{}{}
				_ = req.End([]byte("hello"))
			}}})
		require.NoError(t, err)
		res, err := req.Response(ctx)
		require.NoError(t, err)
		require.Len(t, continued, 1)
		_, err = io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
	})
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := net.LookupPort("tcp", p)
	require.NoError(t, err)
	return n
}
