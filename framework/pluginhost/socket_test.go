package pluginhost_test

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/pluginhost"
	"github.com/hostd/hostd/protocol"
)

const upgradeRequest = "GET /s/ HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n"

const switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n"

// awaitSockData collects relayed bytes until it has n of them.
func (s *pstream) awaitSockData(t testing.TB, n int) string {
	t.Helper()
	var got []byte
	for len(got) < n {
		got = append(got, s.await(t, protocol.TypeSockData).Payload...)
	}
	return string(got)
}

func TestARelayedSocketCarriesBothWays(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "s", pluginhost.Spec{RelaySockets: true})
	c := h.dial(t)
	c.write(t, upgradeRequest)
	s := p.request(t)
	require.NotZero(t, s.head.Flags&protocol.ReqSocketRelay)

	p.send(s.id, protocol.TypeSockData, []byte(switching+"hi"))
	buf := make([]byte, len(switching)+2)
	_, err := io.ReadFull(c.br, buf)
	require.NoError(t, err)
	require.Equal(t, switching+"hi", string(buf))

	c.write(t, "ping")
	require.Equal(t, "ping", s.awaitSockData(t, 4))

	// Half-closes travel both ways, then the plugin closes the socket.
	p.send(s.id, protocol.TypeSockEnd, nil)
	rest, err := io.ReadAll(c.br)
	require.NoError(t, err)
	require.Empty(t, rest)
	require.NoError(t, c.conn.(*net.TCPConn).CloseWrite())
	s.await(t, protocol.TypeSockEnd)
	p.send(s.id, protocol.TypeSockClose, nil)
}

// A plugin that floods a relayed socket without credit, to a client that
// does not read, is cut off like a flooded response: the socket closes,
// the plugin hears SockClose, and the instance serves on.
func TestAPluginThatFloodsARelayedSocketLosesIt(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "s", pluginhost.Spec{RelaySockets: true})
	c := h.dial(t)
	require.NoError(t, c.conn.(*net.TCPConn).SetReadBuffer(64<<10))
	c.write(t, upgradeRequest)
	s := p.request(t)

	chunk := make([]byte, protocol.MaxChunk)
	frame := append(protocol.AppendHeader(nil, s.id, protocol.TypeSockData, len(chunk)), chunk...)
	for sent := 0; sent < flood; sent += len(chunk) {
		p.raw(frame)
	}
	// Once this request is answered, the host has read all of the flood.
	other := h.dial(t)
	other.get(t, "/s/other")
	s2 := p.request(t)
	p.answer(s2.id, 200, "still serving")
	other.requireAnswer(t, 200, "still serving")

	got, err := io.ReadAll(c.br)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil
	}
	require.NoError(t, err)
	require.Less(t, len(got), flood)
	s.await(t, protocol.TypeSockClose)
}

// A client error goes to the plugin with the bytes received; the plugin
// writes its own answer on the socket, which the server then closes.
func TestAClientErrorIsAnsweredByThePlugin(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "clientError", pluginhost.Spec{})
	c := h.dial(t)
	c.write(t, "GET / HTTP/1.1\r\nBad Header\r\n\r\n")
	s := p.request(t)
	require.Equal(t, protocol.EventClientError, s.head.Event)
	require.Equal(t, "HPE_INVALID_HEADER_TOKEN", string(s.head.ErrCode))
	require.Contains(t, string(s.head.Data), "Bad Header")

	answer := "HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
	p.send(s.id, protocol.TypeSockData, []byte(answer))
	p.send(s.id, protocol.TypeSockClose, nil)
	got, err := io.ReadAll(c.br)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil
	}
	require.NoError(t, err)
	require.Equal(t, answer, string(got))
}

// A plugin that dies while it handles a client error or a relayed socket
// leaves the client's socket closed, not hanging.
func TestAPluginThatDiesClosesTheSocketsItHeld(t *testing.T) {
	h := newHost(t)
	_, p := h.attach(t, "clientError", pluginhost.Spec{RelaySockets: true})
	h.mu.Lock()
	h.routes["s"] = h.routes["clientError"]
	h.mu.Unlock()
	bad := h.dial(t)
	bad.write(t, "GET / HTTP/1.1\r\nBad Header\r\n\r\n")
	p.request(t)
	upgraded := h.dial(t)
	upgraded.write(t, upgradeRequest)
	s := p.request(t)
	p.send(s.id, protocol.TypeSockData, []byte(switching+"partial"))

	p.close()
	bad.requireClosed(t)
	got, err := io.ReadAll(upgraded.br)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil
	}
	require.NoError(t, err)
	require.Equal(t, switching+"partial", string(got))
}
