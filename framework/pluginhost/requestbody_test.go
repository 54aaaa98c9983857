package pluginhost_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

// The host sends a request body no faster than the plugin credits it: a
// slow plugin slows its client, and neither side buffers the whole body.
func TestTheHostSendsARequestBodyWithinThePluginsCredit(t *testing.T) {
	const size = 1 << 20 // four windows
	h := newHost(t)
	_, p := h.attach(t, "p", pluginhost.Spec{})
	c := h.dial(t)
	written := make(chan error, 1)
	go func() {
		_, err := c.conn.Write([]byte(fmt.Sprintf("POST /p/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", size, strings.Repeat("b", size))))
		written <- err
	}()
	s := p.request(t)
	require.NotZero(t, s.head.Flags&protocol.ReqBodyFollows)
	require.Zero(t, s.head.Flags&protocol.ReqAwaitCredit)

	allowed, got := protocol.Window, 0
	for got < size {
		f := s.await(t, protocol.TypeReqBody)
		got += len(f.Payload)
		require.LessOrEqual(t, got, allowed, "the host sent past the plugin's credit")
		if got == allowed {
			// Credit in uneven steps, as a plugin reading slowly would.
			p.send(s.id, protocol.TypeCredit, protocol.AppendUint32(nil, 100<<10))
			allowed += 100 << 10
		}
	}
	s.await(t, protocol.TypeReqEnd)
	require.NoError(t, <-written)
	p.answer(s.id, 200, fmt.Sprint(got))
	c.requireAnswer(t, 200, fmt.Sprint(size))
}

// With "Expect: 100-continue" the host reads no body, and so sends no
// "100 Continue", until the plugin asks for the body with its first
// credit.
func TestTheHostAwaitsThePluginsCreditBeforeContinue(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "p", pluginhost.Spec{})
	c := h.dial(t)
	c.write(t, "POST /p/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	s := p.request(t)
	require.NotZero(t, s.head.Flags&protocol.ReqAwaitCredit)
	p.send(s.id, protocol.TypeCredit, protocol.AppendUint32(nil, protocol.Window))
	line, err := c.br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	blank, err := c.br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "\r\n", blank)
	c.write(t, "hello")
	require.Equal(t, "hello", string(s.await(t, protocol.TypeReqBody).Payload))
	s.await(t, protocol.TypeReqEnd)
	p.answer(s.id, 200, "thanks")
	c.requireAnswer(t, 200, "thanks")
}
