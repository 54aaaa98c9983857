package pluginhost_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// answerAll makes p a well-behaved plugin: it answers each request with
// its URL, until its data plane closes.
func (p *peer) answerAll() {
	go func() {
		for {
			select {
			case s := <-p.reqs:
				p.head(s.id, 200, 0, "Content-Type", "text/plain")
				p.body(s.id, "good ")
				p.end(s.id, string(s.head.URL))
			case <-p.gone:
				return
			}
		}
	}()
}

// TestAMisbehavingPluginDoesNotDisturbItsNeighbour runs each kind of
// misbehaviour on one instance while another answers a stream of requests
// beside it: every one of those answers must arrive whole and right.
func TestAMisbehavingPluginDoesNotDisturbItsNeighbour(t *testing.T) {
	h := newHost(t)
	_, good := h.attach(t, "good", pluginhost.Spec{})
	good.answerAll()

	stop := make(chan struct{})
	progress := make(chan struct{}, 1) // a good answer arrived
	// beside waits until the good plugin answers once more.
	beside := func(t *testing.T) {
		select {
		case <-progress:
		default:
		}
		select {
		case <-progress:
		case <-time.After(patience):
			t.Fatal("the good plugin stopped answering")
		}
	}
	var wg sync.WaitGroup
	var served int
	var failures []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			failures = append(failures, err.Error())
			return
		}
		defer c.Close()
		cl := &client{conn: c, br: bufio.NewReader(c)}
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			path := fmt.Sprintf("/good/%d", i)
			if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				failures = append(failures, err.Error())
				return
			}
			res, body, err := cl.response()
			if err != nil || res.StatusCode != 200 || body != "good "+path {
				failures = append(failures, fmt.Sprintf("%s: %v %q", path, err, body))
				return
			}
			served++
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}()

	// Each misbehaviour starts with the bad plugin's request in flight.
	misbehave := map[string]func(t *testing.T, p *peer, s *pstream, c *client){
		"floods without credit": func(t *testing.T, p *peer, s *pstream, c *client) {
			p.head(s.id, 200, protocol.HeadFlush)
			chunk := make([]byte, protocol.MaxChunk)
			frame := append(protocol.AppendHeader(nil, s.id, protocol.TypeBody, len(chunk)), chunk...)
			for sent := 0; sent < flood; sent += len(chunk) {
				p.raw(frame)
			}
			res, _, err := c.response()
			require.NotNil(t, res)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			s.await(t, protocol.TypeAbort)
		},
		"sends an unknown frame": func(t *testing.T, p *peer, s *pstream, c *client) {
			p.send(s.id, 99, nil)
			c.requireBadGateway(t)
		},
		"sends a bad frame length": func(t *testing.T, p *peer, s *pstream, c *client) {
			p.raw(frameLength(protocol.MaxFrame + 1))
			c.requireBadGateway(t)
		},
		"closes mid-body": func(t *testing.T, p *peer, s *pstream, c *client) {
			p.head(s.id, 200, protocol.HeadFlush)
			p.body(s.id, "partial")
			p.close()
			requireCut("partial")(t, c)
		},
		"answers twice": func(t *testing.T, p *peer, s *pstream, c *client) {
			p.answer(s.id, 200, "once")
			p.answer(s.id, 200, "twice")
			c.requireAnswer(t, 200, "once")
		},
	}
	for name, f := range misbehave {
		t.Run(name, func(t *testing.T) {
			_, bad := h.attach(t, "bad", pluginhost.Spec{})
			c := h.dial(t)
			require.NoError(t, c.conn.(*net.TCPConn).SetReadBuffer(64<<10))
			c.get(t, "/bad/")
			s := bad.request(t)
			beside(t)
			f(t, bad, s, c)
			beside(t)
		})
	}
	close(stop)
	wg.Wait()
	require.Empty(t, failures)
	require.NotZero(t, served)
}
