package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk/client"
)

type nodeStats struct {
	Connections int `json:"connections"`
	MaxOpen     int `json:"maxOpen"`
}

// stats returns (and resets) the Node server's connection counts, on a
// connection of its own.
func stats(t *testing.T, addr string) nodeStats {
	t.Helper()
	res, err := client.Get(context.Background(), "http://"+addr+"/stats", &client.Options{NoAgent: true})
	require.NoError(t, err)
	var s nodeStats
	require.NoError(t, json.Unmarshal([]byte(readAll(t, res)), &s))
	return s
}

func TestKeepAliveReuseAgainstNode(t *testing.T) {
	addr := startNode(t)
	stats(t, addr)
	agent := newAgent(t, client.AgentOptions{KeepAlive: true})
	var reused []bool
	for i := 0; i < 3; i++ {
		req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/hello", Agent: agent})
		require.NoError(t, err)
		require.NoError(t, req.End(nil))
		res, err := req.Response(context.Background())
		require.NoError(t, err)
		require.Equal(t, "timeout=5", res.Headers.Get("keep-alive"))
		require.Equal(t, "hello", readAll(t, res))
		reused = append(reused, req.ReusedSocket())
	}
	require.Equal(t, []bool{false, true, true}, reused)
	name, err := agent.GetName(client.Options{URL: "http://" + addr + "/"})
	require.NoError(t, err)
	require.Equal(t, addr+":", name, "getName is host:port:localAddress")
	require.Len(t, agent.FreeSockets()[name], 1)
	require.Empty(t, agent.Sockets())
	s := stats(t, addr)
	require.Equal(t, 2, s.Connections, "one for the three requests, one for /stats")
}

func TestUnreadResponseIsNotReused(t *testing.T) {
	addr := startNode(t)
	stats(t, addr)
	agent := newAgent(t, client.AgentOptions{KeepAlive: true})
	res, err := client.Get(context.Background(), "http://"+addr+"/hello", &client.Options{Agent: agent})
	require.NoError(t, err)
	require.NoError(t, res.Body.Close(), "closed before its end: the connection cannot carry another")
	res, err = client.Get(context.Background(), "http://"+addr+"/hello", &client.Options{Agent: agent})
	require.NoError(t, err)
	require.Equal(t, "hello", readAll(t, res))
	require.False(t, res.Req.ReusedSocket())
	require.Equal(t, 3, stats(t, addr).Connections)
}

func TestPoolLimitsUnder200ConcurrentRequestsAgainstNode(t *testing.T) {
	addr := startNode(t)
	for _, tc := range []struct {
		name string
		opts client.AgentOptions
		max  int
	}{
		{"maxSockets with keep-alive", client.AgentOptions{KeepAlive: true, MaxSockets: 5}, 5},
		{"maxSockets without keep-alive", client.AgentOptions{MaxSockets: 3}, 3},
		{"maxTotalSockets", client.AgentOptions{KeepAlive: true, MaxTotalSockets: 4, Scheduling: client.FIFO}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stats(t, addr)
			agent := newAgent(t, tc.opts)
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := client.Get(context.Background(), fmt.Sprintf("http://%s/slow?ms=2&id=%d", addr, i), &client.Options{Agent: agent})
					if err != nil {
						errs <- err
						return
					}
					var b [64]byte
					n, _ := res.Body.Read(b[:])
					for n < len(fmt.Sprintf("slow %d", i)) {
						m, err := res.Body.Read(b[n:])
						if err != nil {
							break
						}
						n += m
					}
					if string(b[:n]) != fmt.Sprintf("slow %d", i) {
						errs <- fmt.Errorf("request %d got %q", i, b[:n])
					}
					res.Body.Close()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			s := stats(t, addr)
			require.LessOrEqual(t, s.MaxOpen, tc.max+1, "the agent's connections, plus the one asking for the stats")
			if tc.opts.KeepAlive {
				require.LessOrEqual(t, s.Connections, tc.max+1)
			}
			require.Empty(t, agent.Requests())
		})
	}
}

func TestFreeSocketSchedulingLIFOAndFIFO(t *testing.T) {
	addr := startNode(t)
	for _, tc := range []struct {
		sched client.Scheduling
		want  int // which of the two connections the next request takes
	}{{client.LIFO, 1}, {client.FIFO, 0}} {
		agent := newAgent(t, client.AgentOptions{KeepAlive: true, Scheduling: tc.sched})
		// Two requests at once make two connections; they are freed in order.
		var locals []string
		var conns [2]*client.IncomingMessage
		for i := range conns {
			req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/hello", Agent: agent})
			require.NoError(t, err)
			require.NoError(t, req.End(nil))
			conns[i], err = req.Response(context.Background())
			require.NoError(t, err)
			locals = append(locals, req.Socket().LocalAddr().String())
		}
		for _, res := range conns {
			readAll(t, res)
		}
		require.Len(t, agent.FreeSockets()[addr+":"], 2)
		req, err := client.NewRequest(context.Background(), client.Options{URL: "http://" + addr + "/hello", Agent: agent})
		require.NoError(t, err)
		require.NoError(t, req.End(nil))
		res, err := req.Response(context.Background())
		require.NoError(t, err)
		readAll(t, res)
		require.Equal(t, locals[tc.want], req.Socket().LocalAddr().String())
	}
}

func TestServerKeepAliveHintIsHonoured(t *testing.T) {
	// A server that announces timeout=1: a second or less leaves no time
	// to reuse the socket, so the agent does not keep it (Node's rule).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=1\r\n\r\nok"))
				}
			}()
		}
	}()
	agent := newAgent(t, client.AgentOptions{KeepAlive: true})
	for i := 0; i < 2; i++ {
		res, err := client.Get(context.Background(), "http://"+ln.Addr().String()+"/", &client.Options{Agent: agent})
		require.NoError(t, err)
		require.Equal(t, "ok", readAll(t, res))
		require.False(t, res.Req.ReusedSocket())
		require.Empty(t, agent.FreeSockets())
	}
	require.Len(t, accepted, 2)
}

func TestAgentDestroyClosesFreeSockets(t *testing.T) {
	addr := startNode(t)
	agent := client.NewAgent(client.AgentOptions{KeepAlive: true})
	res, err := client.Get(context.Background(), "http://"+addr+"/hello", &client.Options{Agent: agent})
	require.NoError(t, err)
	readAll(t, res)
	free := agent.FreeSockets()[addr+":"]
	require.Len(t, free, 1)
	agent.Destroy()
	require.Empty(t, agent.FreeSockets())
	_, err = free[0].Write([]byte("x"))
	require.Error(t, err)
	t.Run("in use: its request fails", func(t *testing.T) {
		res, err := client.Get(context.Background(), "http://"+addr+"/hold", &client.Options{Agent: agent})
		require.NoError(t, err)
		agent.Destroy()
		_, err = io.ReadAll(res.Body)
		require.ErrorIs(t, err, client.ErrAborted)
	})
	t.Run("the agent stays usable, as in Node", func(t *testing.T) {
		res, err := client.Get(context.Background(), "http://"+addr+"/hello", &client.Options{Agent: agent})
		require.NoError(t, err)
		require.Equal(t, "hello", readAll(t, res))
		require.False(t, res.Req.ReusedSocket())
	})
}

// closingServer answers every request with answer and reports each
// connection's end on closed.
func closingServer(t *testing.T, answer string, closed chan<- struct{}) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { c.Close(); closed <- struct{}{} }()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					_, _ = c.Write([]byte(answer))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestIdleSocketsTimeOut(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		opts   client.AgentOptions
	}{
		{"the agent's timeout", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", client.AgentOptions{KeepAlive: true, Timeout: 50 * time.Millisecond}},
		{"the server's Keep-Alive hint less a second", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=2\r\n\r\nok",
			client.AgentOptions{KeepAlive: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan struct{}, 1)
			addr := closingServer(t, tc.answer, closed)
			agent := newAgent(t, tc.opts)
			res, err := client.Get(context.Background(), "http://"+addr+"/", &client.Options{Agent: agent})
			require.NoError(t, err)
			require.Equal(t, "ok", readAll(t, res))
			require.Len(t, agent.FreeSockets()[addr+":"], 1)
			recv(t, closed, "the idle socket to be closed by the agent")
			require.Empty(t, agent.FreeSockets())
		})
	}
}

func TestMaxFreeSocketsAgainstNode(t *testing.T) {
	addr := startNode(t)
	agent := newAgent(t, client.AgentOptions{KeepAlive: true, MaxFreeSockets: 1})
	var res [3]*client.IncomingMessage
	for i := range res {
		var err error
		res[i], err = client.Get(context.Background(), "http://"+addr+"/hello", &client.Options{Agent: agent})
		require.NoError(t, err)
	}
	require.Len(t, agent.Sockets()[addr+":"], 3, "three responses unread: three sockets in use")
	for _, r := range res {
		readAll(t, r)
	}
	require.Len(t, agent.FreeSockets()[addr+":"], 1)
	require.Empty(t, agent.Sockets())
}

// Node's advice for ReusedSocket: a request that fails with ECONNRESET on
// a reused socket (the server closed it as it was reused) may be retried.
func TestReusedSocketLetsIdempotentRequestsRetry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				_, _ = c.Read(buf) // the next request: closed unanswered
			}()
		}
	}()
	agent := newAgent(t, client.AgentOptions{KeepAlive: true})
	url := "http://" + ln.Addr().String() + "/"
	res, err := client.Get(context.Background(), url, &client.Options{Agent: agent})
	require.NoError(t, err)
	require.Equal(t, "ok", readAll(t, res))

	get := func() (*client.ClientRequest, *client.IncomingMessage, error) {
		req, err := client.NewRequest(context.Background(), client.Options{URL: url, Agent: agent})
		require.NoError(t, err)
		require.NoError(t, req.End(nil))
		res, err := req.Response(context.Background())
		return req, res, err
	}
	req, _, err := get()
	require.ErrorIs(t, err, client.ErrSocketHangUp)
	require.True(t, req.ReusedSocket(), "the failure came on a reused socket: a GET may be retried")
	req, res, err = get()
	require.NoError(t, err)
	require.False(t, req.ReusedSocket())
	require.Equal(t, "ok", readAll(t, res))
}
