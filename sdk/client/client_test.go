package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk/client"
)

const wait = 10 * time.Second

// recv waits for a value from ch, failing the test after wait.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func readAll(t *testing.T, res *client.IncomingMessage) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func newAgent(t *testing.T, o client.AgentOptions) *client.Agent {
	a := client.NewAgent(o)
	t.Cleanup(a.Destroy)
	return a
}

func TestGetAgainstNode(t *testing.T) {
	addr := startNode(t)
	ctx := context.Background()
	res, err := client.Get(ctx, "http://"+addr+"/hello", &client.Options{Agent: newAgent(t, client.AgentOptions{KeepAlive: true})})
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "OK", res.StatusMessage)
	require.Equal(t, "1.1", res.HTTPVersion)
	require.Equal(t, []string{"a=1", "b=2"}, res.Headers.Values("set-cookie"))
	require.Equal(t, "v", res.Headers.Get("x-mixed-case"))
	require.Contains(t, res.RawHeaders, "X-Mixed-Case", "raw headers keep their casing")
	require.Equal(t, "hello", readAll(t, res))
	require.True(t, res.Complete())
}

type echoed struct {
	Method     string   `json:"method"`
	URL        string   `json:"url"`
	RawHeaders []string `json:"rawHeaders"`
	Body       string   `json:"body"`
	Trailers   []string `json:"trailers"`
}

func decodeEcho(t *testing.T, res *client.IncomingMessage) echoed {
	t.Helper()
	var e echoed
	require.NoError(t, json.Unmarshal([]byte(readAll(t, res)), &e))
	return e
}

func TestChunkedRequestWithTrailersAgainstNode(t *testing.T) {
	addr := startNode(t)
	req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/echo?x=1", Method: "POST",
		Headers: map[string][]string{"X-Custom": {"a", "b"}}, Auth: "user:pw", Agent: newAgent(t, client.AgentOptions{})})
	require.NoError(t, err)
	require.NoError(t, req.AddTrailers("X-Sum", "42"))
	require.NoError(t, req.Write([]byte("one,")))
	require.True(t, req.HeadersSent())
	require.ErrorIs(t, req.SetHeader("X-Late", "1"), &client.Error{Code: "ERR_HTTP_HEADERS_SENT"})
	require.NoError(t, req.End([]byte("two")))
	require.ErrorIs(t, req.Write([]byte("x")), &client.Error{Code: "ERR_STREAM_WRITE_AFTER_END"})
	res, err := req.Response(context.Background())
	require.NoError(t, err)
	e := decodeEcho(t, res)
	require.Equal(t, "POST", e.Method)
	require.Equal(t, "/echo?x=1", e.URL)
	require.Equal(t, "one,two", e.Body)
	require.Equal(t, []string{"X-Sum", "42"}, e.Trailers)
	// Node's order: the headers given, then Host and Authorization, then
	// Connection and the framing.
	require.Equal(t, []string{"X-Custom", "a", "X-Custom", "b", "Host", addr, "Authorization", "Basic dXNlcjpwdw==",
		"Connection", "close", "Transfer-Encoding", "chunked"}, e.RawHeaders)
	require.True(t, req.WritableEnded())
	require.True(t, req.WritableFinished())
}

func TestResponseTrailersAgainstNode(t *testing.T) {
	addr := startNode(t)
	res, err := client.Get(context.Background(), "http://"+addr+"/chunked", &client.Options{NoAgent: true})
	require.NoError(t, err)
	require.Equal(t, "chunked", res.Headers.Get("transfer-encoding"))
	require.Equal(t, "one,two,three", readAll(t, res))
	require.Equal(t, []string{"X-Checksum", "abc", "x-more", "yes"}, res.RawTrailers)
	require.Equal(t, "abc", res.Trailers.Get("x-checksum"))
	require.Equal(t, []string{"yes"}, res.TrailersDistinct["x-more"])
}

func TestExpectContinueAgainstNode(t *testing.T) {
	addr := startNode(t)
	t.Run("100 then the body", func(t *testing.T) {
		var events []string
		var mu sync.Mutex
		add := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
		var req *client.ClientRequest
		var err error
		req, err = client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/", Method: "PUT",
			Headers: map[string][]string{"Expect": {"100-continue"}}, NoAgent: true,
			Events: client.Events{
				OnContinue: func() {
					add("continue")
					require.NoError(t, req.End([]byte("payload")))
				},
				OnInformation: func(i *client.Information) { add("information " + i.StatusMessage) },
			}})
		require.NoError(t, err)
		require.True(t, req.HeadersSent(), "an Expect header sends the head at once")
		res, err := req.Response(context.Background())
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
		require.Equal(t, "got payload", readAll(t, res))
		mu.Lock()
		require.Equal(t, []string{"continue", "information Continue"}, events)
		mu.Unlock()
	})
	t.Run("417 without a 100", func(t *testing.T) {
		continued := make(chan struct{}, 1)
		req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/", Method: "PUT",
			Headers: map[string][]string{"Expect": {"100-continue"}, "X-Refuse": {"1"}}, NoAgent: true,
			Events: client.Events{OnContinue: func() { continued <- struct{}{} }}})
		require.NoError(t, err)
		res, err := req.Response(context.Background())
		require.NoError(t, err)
		require.Equal(t, 417, res.StatusCode)
		require.Equal(t, "refused", readAll(t, res))
		require.Empty(t, continued)
	})
}

func TestEarlyHintsAgainstNode(t *testing.T) {
	addr := startNode(t)
	infos := make(chan *client.Information, 4)
	res, err := client.Get(context.Background(), "http://"+addr+"/early", &client.Options{NoAgent: true,
		Events: client.Events{OnInformation: func(i *client.Information) { infos <- i }}})
	require.NoError(t, err)
	require.Equal(t, "after hints", readAll(t, res))
	info := recv(t, infos, "the 103")
	require.Equal(t, 103, info.StatusCode)
	require.Equal(t, "Early Hints", info.StatusMessage)
	require.Equal(t, "</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script", info.Headers.Get("link"))
	require.Equal(t, []string{"Link", "</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script"}, info.RawHeaders)
}

func TestUpgradeAgainstNode(t *testing.T) {
	addr := startNode(t)
	type upgraded struct {
		res  *client.IncomingMessage
		conn net.Conn
		head []byte
	}
	got := make(chan upgraded, 1)
	req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/ws",
		Headers: map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"echo"}},
		Events: client.Events{OnUpgrade: func(res *client.IncomingMessage, c net.Conn, head []byte) {
			got <- upgraded{res, c, head}
		}}})
	require.NoError(t, err)
	require.NoError(t, req.End(nil))
	u := recv(t, got, "the upgrade")
	defer u.conn.Close()
	res, err := req.Response(context.Background())
	require.NoError(t, err)
	require.Same(t, u.res, res, "Response returns the 101")
	require.Equal(t, 101, u.res.StatusCode)
	require.True(t, u.res.Upgrade)
	require.Equal(t, "echo", u.res.Headers.Get("upgrade"))
	_, err = u.conn.Write([]byte("ping\x00\xff"))
	require.NoError(t, err)
	buf := make([]byte, 6)
	_, err = io.ReadFull(u.conn, buf)
	require.NoError(t, err)
	require.Equal(t, "ping\x00\xff", string(append(u.head, buf...))[:6])
}

func TestConnectAgainstNode(t *testing.T) {
	addr := startNode(t)
	type tunnel struct {
		res  *client.IncomingMessage
		conn net.Conn
	}
	got := make(chan tunnel, 1)
	req, err := client.NewRequest(context.Background(), client.Options{Method: "CONNECT", Host: "127.0.0.1",
		Port: portOf(t, addr), Path: "example.test:80",
		Events: client.Events{OnConnect: func(res *client.IncomingMessage, c net.Conn, head []byte) {
			require.Empty(t, head)
			got <- tunnel{res, c}
		}}})
	require.NoError(t, err)
	require.NoError(t, req.End(nil))
	tn := recv(t, got, "the tunnel")
	require.Equal(t, 200, tn.res.StatusCode)
	require.Equal(t, "Connection Established", tn.res.StatusMessage)
	require.Equal(t, "yes", tn.res.Headers.Get("x-tunnel"))
	// A request inside the tunnel, on the tunnel's connection.
	inner, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/hello",
		NoAgent: true, CreateConnection: func(context.Context) (net.Conn, error) { return tn.conn, nil }})
	require.NoError(t, err)
	require.NoError(t, inner.End(nil))
	res, err := inner.Response(context.Background())
	require.NoError(t, err)
	require.Equal(t, "hello", readAll(t, res))
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	var n int
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}
