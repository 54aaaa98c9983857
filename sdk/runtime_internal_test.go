package sdk

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/protocol"
)

// These tests look inside the runtime, at what no frame shows: which
// streams it still holds, its idle workers, its buffers. sdktest cannot
// be used here (it imports this package), so a few lines play the host.

type rawHost struct {
	rt     *runtime
	w      *protocol.Writer
	r      *protocol.Reader
	conn   *net.UnixConn
	served chan error
}

// startRaw serves p on a runtime whose host end the test drives.
func startRaw(t *testing.T, p any) *rawHost {
	t.Helper()
	hostEnd, pluginEnd := testutil.SocketPair(t)
	require.NoError(t, hostEnd.SetDeadline(time.Now().Add(10*time.Second)))
	h := &rawHost{rt: newRuntime(p, nil, false), w: protocol.NewWriter(hostEnd, nil), r: protocol.NewReader(hostEnd), conn: hostEnd, served: make(chan error, 1)}
	go func() { h.served <- h.rt.serveConn(pluginEnd) }()
	t.Cleanup(func() {
		hostEnd.Close()
		<-h.served
	})
	return h
}

func (h *rawHost) send(t *testing.T, id uint32, typ protocol.Type, payload []byte) {
	t.Helper()
	frame := append(protocol.AppendHeader(nil, id, typ, len(payload)), payload...)
	require.NoError(t, h.w.Write(frame))
}

func (h *rawHost) request(t *testing.T, id uint32, rh protocol.RequestHead) {
	t.Helper()
	if rh.Event == 0 {
		rh.Event = protocol.EventRequest
	}
	if rh.Method == nil {
		rh.Method, rh.URL, rh.Major, rh.Minor = []byte("POST"), []byte("/"), 1, 1
	}
	h.send(t, id, protocol.TypeRequest, protocol.AppendRequestHead(nil, &rh))
}

// until reads frames until one of type typ on stream id.
func (h *rawHost) until(t *testing.T, id uint32, typ protocol.Type) protocol.Frame {
	t.Helper()
	for {
		f, err := h.r.Next()
		require.NoError(t, err)
		if f.Stream == id && f.Type == typ {
			return f
		}
	}
}

func (h *rawHost) streams() int {
	h.rt.mu.Lock()
	defer h.rt.mu.Unlock()
	return len(h.rt.streams)
}

type handlerFunc func(*Request, *Response)

func (f handlerFunc) HandleRequest(req *Request, res *Response) { f(req, res) }

func TestStreamIsForgottenWhenTheResponseEndsBeforeTheBody(t *testing.T) {
	// hostd stops sending a request's body once the response has ended,
	// and sends no ReqEnd: the stream must not wait for one.
	type after struct {
		data []byte
		err  error
	}
	got := make(chan after, 1)
	h := startRaw(t, handlerFunc(func(req *Request, res *Response) {
		assert.NoError(t, res.EndString("no thanks"))
		var a after
		a.data, a.err = io.ReadAll(req)
		got <- a
	}))
	h.request(t, 1, protocol.RequestHead{Flags: protocol.ReqBodyFollows})
	h.send(t, 1, protocol.TypeReqBody, []byte("unwanted"))
	h.until(t, 1, protocol.TypeEnd)
	require.Eventually(t, func() bool { return h.streams() == 0 && h.rt.inFlight.Load() == 0 },
		5*time.Second, time.Millisecond, "the stream is still held: %d in flight", h.rt.inFlight.Load())
	select {
	case a := <-got:
		require.ErrorIs(t, a.err, io.ErrUnexpectedEOF, "the rest of the body will never come")
		require.Subset(t, []string{"", "unwanted"}, []string{string(a.data)})
	case <-time.After(5 * time.Second):
		t.Fatal("reading the body after End waits forever")
	}
}

func TestStreamIsForgottenOnceBothDirectionsEnd(t *testing.T) {
	read, release := make(chan struct{}), make(chan struct{})
	h := startRaw(t, handlerFunc(func(req *Request, res *Response) {
		_, _ = io.ReadAll(req)
		close(read)
		<-release
		assert.NoError(t, res.End())
	}))
	h.request(t, 1, protocol.RequestHead{Flags: protocol.ReqBodyFollows})
	h.send(t, 1, protocol.TypeReqEnd, protocol.AppendFields(nil, []string{}))
	<-read
	require.Equal(t, 1, h.streams(), "a stream whose body ended but not its response is held")
	close(release)
	h.until(t, 1, protocol.TypeEnd)
	require.Eventually(t, func() bool { return h.streams() == 0 && h.rt.inFlight.Load() == 0 }, 5*time.Second, time.Millisecond)
	require.Equal(t, uint64(1), h.rt.total.Load())
}

func TestIdleWorkersEndWithTheConnection(t *testing.T) {
	const n = 5
	started, gate := make(chan struct{}, n), make(chan struct{})
	h := startRaw(t, handlerFunc(func(req *Request, res *Response) {
		started <- struct{}{}
		<-gate
		assert.NoError(t, res.End())
	}))
	for id := uint32(1); id <= n; id++ {
		h.request(t, id, protocol.RequestHead{})
	}
	for range n {
		<-started // n handlers at once: n workers
	}
	close(gate)
	for range n {
		f, err := h.r.Next()
		require.NoError(t, err)
		require.Equal(t, protocol.TypeEnd, f.Type)
	}
	require.Eventually(t, func() bool { return h.rt.idleCount.Load() == n }, 5*time.Second, time.Millisecond)
	h.conn.Close()
	<-h.served
	h.served <- nil // for the cleanup
	require.Eventually(t, func() bool { return h.rt.idleCount.Load() == 0 }, 5*time.Second, time.Millisecond,
		"%d workers still wait for streams of a closed connection", h.rt.idleCount.Load())
}

func TestBodyBufferStaysBoundedForASlowReader(t *testing.T) {
	// The reader always leaves a little unread when the next frame comes,
	// as a slow handler does: the bytes it has read must be reclaimed.
	hostEnd, pluginEnd := testutil.SocketPair(t)
	go func() { _, _ = io.Copy(io.Discard, hostEnd) }() // credits
	rt := newRuntime(handlerFunc(nil), nil, false)
	rt.w = protocol.NewWriter(pluginEnd, nil)
	payload := protocol.AppendRequestHead(nil, &protocol.RequestHead{Event: protocol.EventRequest, Flags: protocol.ReqBodyFollows, Method: []byte("POST")})
	st, err := rt.open(protocol.Frame{Stream: 1, Type: protocol.TypeRequest, Payload: payload})
	require.NoError(t, err)
	chunk := bytes.Repeat([]byte("b"), protocol.MaxChunk)
	buf := make([]byte, protocol.MaxChunk)
	var read int
	for i := range 200 { // 12.5 MiB in all
		require.NoError(t, st.deliver(protocol.Frame{Stream: 1, Type: protocol.TypeReqBody, Payload: chunk}))
		want := protocol.MaxChunk
		if i == 0 {
			want -= 1000 // from now on 1000 bytes are always left unread
		}
		for got := 0; got < want; {
			n, err := st.readBody(buf[:want-got])
			require.NoError(t, err)
			got += n
			read += n
		}
	}
	require.Equal(t, 200*protocol.MaxChunk-1000, read)
	require.LessOrEqual(t, cap(st.body), 2*(protocol.Window+protocol.MaxChunk), "the buffer grew with the body")
}

// allEvents handles every event.
type allEvents struct{}

func (allEvents) HandleRequest(*Request, *Response)          {}
func (allEvents) HandleCheckContinue(*Request, *Response)    {}
func (allEvents) HandleCheckExpectation(*Request, *Response) {}
func (allEvents) HandleUpgrade(*Request, net.Conn, []byte)   {}
func (allEvents) HandleConnect(*Request, net.Conn, []byte)   {}
func (allEvents) HandleClientError(*ClientError, net.Conn)   {}
func (allEvents) HandleDropRequest(*Request)                 {}
func (allEvents) HandleTimeout(*Timeout, net.Conn)           {}
func (allEvents) Configure(c *Config) error                  { return c.Decode(&struct{}{}) }

func TestEventsListWhatThePluginImplements(t *testing.T) {
	require.Equal(t, protocol.EventSetOf(protocol.EventRequest), events(handlerFunc(nil)))
	require.Equal(t, protocol.EventSetOf(
		protocol.EventRequest, protocol.EventCheckContinue, protocol.EventCheckExpectation,
		protocol.EventUpgrade, protocol.EventConnect, protocol.EventClientError, protocol.EventDropRequest,
		protocol.EventTimeout,
	), events(allEvents{}))
	require.Zero(t, events(struct{}{}))
}

func TestControlService(t *testing.T) {
	ctx := t.Context()
	t.Run("Configure answers with the events and the relay choice", func(t *testing.T) {
		rt := newRuntime(allEvents{}, nil, true)
		resp, err := rt.Configure(ctx, &protocol.ConfigureRequest{ProtocolVersion: protocol.Version, Name: "x", ConfigJson: []byte(`{}`), RelaySockets: true, RejectNonStandardBodyWrites: true})
		require.NoError(t, err)
		require.Equal(t, []string{"request", "checkContinue", "checkExpectation", "upgrade", "connect", "clientError", "dropRequest", "timeout"}, resp.Events, "by Node's names, on the wire")
		require.True(t, resp.RelaySockets)
		require.Equal(t, uint32(protocol.Version), resp.ProtocolVersion)
		require.True(t, rt.settings.Load().rejectBody)
	})
	t.Run("a plugin may ask for its sockets relayed", func(t *testing.T) {
		for _, asks := range []bool{false, true} {
			rt := newRuntime(relayer{asks}, nil, true)
			resp, err := rt.Configure(ctx, &protocol.ConfigureRequest{ProtocolVersion: protocol.Version, Name: "x"})
			require.NoError(t, err)
			require.Equal(t, asks, resp.RelaySockets)
		}
	})
	t.Run("Configure refuses another protocol version", func(t *testing.T) {
		rt := newRuntime(allEvents{}, nil, true)
		_, err := rt.Configure(ctx, &protocol.ConfigureRequest{ProtocolVersion: protocol.Version + 1})
		require.Equal(t, codes.FailedPrecondition, status.Code(err))
		require.ErrorContains(t, err, "rebuild the plugin")
	})
	t.Run("Configure reports the plugin's refusal", func(t *testing.T) {
		rt := newRuntime(allEvents{}, nil, true)
		_, err := rt.Configure(ctx, &protocol.ConfigureRequest{ProtocolVersion: protocol.Version, Name: "x", ConfigJson: []byte(`{"unknown": 1}`)})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
		require.ErrorContains(t, err, `plugin x: config.unknown: unknown key`)
		key, reason, ok := protocol.RefusedKey(err)
		require.True(t, ok, "the key travels as a BadRequest detail")
		require.Equal(t, "unknown", key)
		require.Equal(t, "unknown key", reason)
	})
	t.Run("Health, Stats and Shutdown answer", func(t *testing.T) {
		release := make(chan struct{})
		h := startRaw(t, handlerFunc(func(req *Request, res *Response) {
			<-release
			assert.NoError(t, res.End())
		}))
		health, err := h.rt.Health(ctx, &protocol.HealthRequest{})
		require.NoError(t, err)
		require.True(t, health.Serving)
		h.request(t, 1, protocol.RequestHead{})
		require.Eventually(t, func() bool {
			st, err := h.rt.Stats(ctx, &protocol.StatsRequest{})
			return err == nil && st.InFlight == 1 && st.RequestsTotal == 1
		}, 5*time.Second, time.Millisecond)
		close(release)
		h.until(t, 1, protocol.TypeEnd)
		require.Eventually(t, func() bool {
			st, err := h.rt.Stats(ctx, &protocol.StatsRequest{})
			return err == nil && st.InFlight == 0 && st.OpenSockets == 0 && st.RequestsTotal == 1
		}, 5*time.Second, time.Millisecond)
		_, err = h.rt.Shutdown(ctx, &protocol.ShutdownRequest{})
		require.NoError(t, err)
	})
}

type upgradeFunc func(*Request, net.Conn, []byte)

func (f upgradeFunc) HandleUpgrade(req *Request, c net.Conn, head []byte) { f(req, c, head) }

func TestStatsCountOpenSockets(t *testing.T) {
	release := make(chan struct{})
	h := startRaw(t, upgradeFunc(func(req *Request, c net.Conn, head []byte) {
		<-release
		assert.NoError(t, c.Close())
	}))
	h.request(t, 1, protocol.RequestHead{Event: protocol.EventUpgrade, Flags: protocol.ReqSocketRelay, Method: []byte("GET"), URL: []byte("/ws")})
	open := func() uint64 {
		st, err := h.rt.Stats(t.Context(), &protocol.StatsRequest{})
		require.NoError(t, err)
		return st.OpenSockets
	}
	require.Eventually(t, func() bool { return open() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	h.until(t, 1, protocol.TypeSockClose)
	require.Eventually(t, func() bool { return open() == 0 && h.streams() == 0 }, 5*time.Second, time.Millisecond)
}

func TestRelayedSocketClosedByTheHost(t *testing.T) {
	// hostd sends SockClose when the client's connection fails, and Abort
	// when it gives up: the handler's calls fail as on a closed net.Conn.
	for _, typ := range []protocol.Type{protocol.TypeSockClose, protocol.TypeAbort} {
		t.Run(typ.String(), func(t *testing.T) {
			type after struct{ read, write error }
			reading := make(chan struct{})
			got := make(chan after, 1)
			h := startRaw(t, upgradeFunc(func(req *Request, c net.Conn, head []byte) {
				close(reading)
				var a after
				_, a.read = c.Read(make([]byte, 1))
				_, a.write = c.Write([]byte("x"))
				assert.NoError(t, c.Close(), "closing a socket the host closed does nothing")
				got <- a
			}))
			h.request(t, 1, protocol.RequestHead{Event: protocol.EventUpgrade, Flags: protocol.ReqSocketRelay, Method: []byte("GET"), URL: []byte("/ws")})
			<-reading
			h.send(t, 1, typ, nil)
			a := <-got
			require.ErrorIs(t, a.read, net.ErrClosed)
			require.ErrorIs(t, a.write, net.ErrClosed)
			require.Eventually(t, func() bool { return h.streams() == 0 }, 5*time.Second, time.Millisecond)
		})
	}
}

// relayer is a plugin that answers RelaySockets with its field.
type relayer struct{ asks bool }

func (r relayer) RelaySockets() bool                     { return r.asks }
func (relayer) HandleUpgrade(*Request, net.Conn, []byte) {}
