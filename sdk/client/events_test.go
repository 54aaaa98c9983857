package client_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/sdk/client"
)

// recorder collects a request's events as Node's names.
type recorder struct {
	mu     sync.Mutex
	events []string
	last   string
	done   chan struct{}
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	if e == r.last {
		close(r.done)
	}
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func code(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code + " " + ce.Message
	}
	return err.Error()
}

// stage is one case's request and recorder.
type stage struct {
	r     *client.ClientRequest
	ready chan struct{} // closed once r is set
	rec   *recorder
}

// req returns the request once NewRequest has returned it: its first
// events may run before.
func (s *stage) req() *client.ClientRequest {
	<-s.ready
	return s.r
}

// The event sequences of Node's documentation (the list under
// http.request), one row per case it lists, plus the cases of a
// context (Node's signal), a timeout and an upgrade nobody takes; each
// case Node's client can run on the same servers (testdata/order.js) is
// checked against what Node v20 does too.
func TestEventOrder(t *testing.T) {
	addr := startNode(t)
	refused := func() string { // a port nobody listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		a := ln.Addr().String()
		ln.Close()
		return a
	}()
	hello, cut, hold := "http://"+addr+"/hello", "http://"+addr+"/cut", "http://"+addr+"/hold"
	hangUp := rawServer(t, "")
	node := nodeEventOrder(t, addr, hangUp, refused)

	for _, tc := range []struct {
		name string // a case of Node's list
		url  string
		// before runs after NewRequest returns; onSocket and onResponse
		// run in those events.
		before     func(s *stage)
		onSocket   func(s *stage)
		onResponse func(s *stage, res *client.IncomingMessage)
		opts       func(o *client.Options, s *stage)
		want       []string
	}{
		{name: "success", url: hello,
			onResponse: func(s *stage, res *client.IncomingMessage) {
				b, err := io.ReadAll(res.Body)
				if err == nil && string(b) == "hello" {
					s.rec.add("res end")
				}
			},
			want: []string{"socket", "finish", "response", "res end", "close", "res close"}},
		{name: "connection error", url: "http://" + refused + "/",
			want: []string{"socket", "error ECONNREFUSED connect ECONNREFUSED " + refused, "close"}},
		{name: "closed before the response", url: "http://" + hangUp + "/",
			want: []string{"socket", "finish", "error ECONNRESET socket hang up", "close"}},
		{name: "closed after the response", url: cut,
			onResponse: func(s *stage, res *client.IncomingMessage) { _, _ = io.Copy(io.Discard, res.Body) },
			want:       []string{"socket", "finish", "response", "aborted ECONNRESET aborted", "close", "res close"}},
		{name: "destroy before a socket is assigned", url: hello,
			opts:   func(o *client.Options, s *stage) { o.Agent = busyAgent(t, hold) },
			before: func(s *stage) { s.req().Destroy(nil) },
			want:   []string{"error ECONNRESET socket hang up", "close"}},
		{name: "destroy before the connection succeeds", url: hello,
			opts:     func(o *client.Options, _ *stage) { stallDial(o) },
			onSocket: func(s *stage) { s.req().Destroy(nil) },
			want:     []string{"socket", "error ECONNRESET socket hang up", "close"}},
		{name: "destroy after the response", url: hold,
			onResponse: func(s *stage, res *client.IncomingMessage) { s.req().Destroy(nil) },
			want:       []string{"socket", "finish", "response", "aborted ECONNRESET aborted", "close", "res close"}},
		{name: "abort before a socket is assigned", url: hello,
			opts:   func(o *client.Options, s *stage) { o.Agent = busyAgent(t, hold) },
			before: func(s *stage) { s.req().Abort() },
			want:   []string{"abort", "close"}},
		{name: "abort before the connection succeeds", url: hello,
			opts:     func(o *client.Options, _ *stage) { stallDial(o) },
			onSocket: func(s *stage) { s.req().Abort() },
			want:     []string{"socket", "abort", "error ECONNRESET socket hang up", "close"}},
		{name: "abort after the response", url: hold,
			onResponse: func(s *stage, res *client.IncomingMessage) { s.req().Abort() },
			want:       []string{"socket", "finish", "response", "abort", "aborted ECONNRESET aborted", "close", "res close"}},
		{name: "context cancelled before the response", url: "http://" + silentServer(t) + "/",
			want: []string{"socket", "finish", "error ABORT_ERR The operation was aborted", "close"}},
		{name: "timeout notifies only", url: hold,
			opts: func(o *client.Options, s *stage) { o.Timeout = 30 * time.Millisecond },
			want: []string{"socket", "finish", "response", "timeout", "aborted ECONNRESET aborted", "close", "res close"}},
		{name: "upgrade without a handler closes the connection", url: "http://" + addr + "/ws",
			opts: func(o *client.Options, s *stage) {
				o.Headers = map[string][]string{"Connection": {"Upgrade"}, "Upgrade": {"echo"}}
			},
			want: []string{"socket", "finish", "close"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &stage{ready: make(chan struct{}), rec: &recorder{last: tc.want[len(tc.want)-1], done: make(chan struct{})}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := s.rec
			o := client.Options{URL: tc.url, Agent: newAgent(t, client.AgentOptions{KeepAlive: true}), Events: client.Events{
				OnSocket: func(net.Conn) {
					rec.add("socket")
					if tc.onSocket != nil {
						tc.onSocket(s)
					}
				},
				OnFinish: func() { rec.add("finish") },
				OnResponse: func(res *client.IncomingMessage) {
					rec.add("response")
					if tc.onResponse != nil {
						tc.onResponse(s, res)
					}
				},
				OnTimeout: func() {
					rec.add("timeout")
					s.req().Destroy(nil)
				},
				OnAbort:         func() { rec.add("abort") },
				OnError:         func(err error) { rec.add("error " + code(err)) },
				OnClose:         func() { rec.add("close") },
				OnAborted:       func(_ *client.IncomingMessage, err error) { rec.add("aborted " + code(err)) },
				OnResponseClose: func(*client.IncomingMessage) { rec.add("res close") },
			}}
			if tc.opts != nil {
				tc.opts(&o, s)
			}
			if strings.Contains(tc.name, "context") {
				o.Events.OnFinish = func() { rec.add("finish"); cancel() }
			}
			var err error
			s.r, err = client.NewRequest(ctx, o)
			close(s.ready)
			require.NoError(t, err)
			if tc.before != nil {
				tc.before(s)
			}
			_ = s.req().End(nil)
			select {
			case <-rec.done:
			case <-time.After(wait):
				t.Fatalf("got %q, want %q", rec.list(), tc.want)
			}
			require.Equal(t, tc.want, rec.list())
			if want, ok := node[tc.name]; ok {
				require.Equal(t, want, rec.list(), "Node v20's own order")
			}
		})
	}
}

// busyAgent returns an agent whose only socket serves a response that
// never ends, so that the next request waits in its queue.
func busyAgent(t *testing.T, holdURL string) *client.Agent {
	a := newAgent(t, client.AgentOptions{MaxSockets: 1})
	req, err := client.NewRequest(context.Background(), client.Options{URL: holdURL, Agent: a})
	require.NoError(t, err)
	require.NoError(t, req.End(nil))
	_, err = req.Response(context.Background())
	require.NoError(t, err)
	return a
}

// stallDial makes the connection wait until the request gives up.
func stallDial(o *client.Options) {
	o.CreateConnection = func(ctx context.Context) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

func TestQueuedRequestIsCountedInRequests(t *testing.T) {
	addr := startNode(t)
	agent := busyAgent(t, "http://"+addr+"/hold")
	req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/hello", Agent: agent})
	require.NoError(t, err)
	require.Equal(t, map[string]int{addr + ":": 1}, agent.Requests())
	require.Len(t, agent.Sockets()[addr+":"], 1)
	req.Destroy(nil)
	require.Empty(t, agent.Requests())
}

//go:embed testdata/order.js
var orderJS []byte

// nodeEventOrder runs testdata/order.js and returns its sequences by
// case name, in our names: res 'aborted' and the res 'error' that follows
// it are one OnAborted with that error.
func nodeEventOrder(t *testing.T, addr, hangUp, refused string) map[string][]string {
	bin := testutil.Node(t)
	script := filepath.Join(t.TempDir(), "order.js")
	require.NoError(t, os.WriteFile(script, orderJS, 0o600))
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	out, err := exec.Command(bin, script, port(addr), port(hangUp), port(refused)).Output()
	require.NoError(t, err)
	seqs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var c struct {
			Name   string   `json:"name"`
			Events []string `json:"events"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &c))
		var evs []string
		aborted := -1
		for _, e := range c.Events {
			switch {
			case e == "res aborted":
				aborted = len(evs)
				evs = append(evs, "aborted")
			case strings.HasPrefix(e, "res error ") && aborted >= 0:
				evs[aborted] += strings.TrimPrefix(e, "res error")
			default:
				evs = append(evs, e)
			}
		}
		seqs[c.Name] = evs
	}
	require.Len(t, seqs, 10)
	return seqs
}
