package sdktest

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hostd/hostd/internal/socketpair"
	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
)

// Dial raises an upgrade (or, for Method CONNECT, a connect) event and
// returns the client's end of the socket the handler gets, with req.Head
// as the bytes read past the request head. The handler writes its own
// "HTTP/1.1 101" (or "200 Connection Established") on it, as in Node.
//
// By default the handler's socket is a descriptor passed to the plugin,
// as hostd does on Linux; WithRelaySockets relays its bytes as frames
// instead. The test's cleanup (or, without a test, Close) closes the
// connection.
func (h *Host) Dial(req Request) net.Conn {
	if h.t != nil {
		h.t.Helper()
	}
	req, rh := h.requestHead(req, protocol.EventUpgrade)
	rh.Data = req.Head
	if req.Method == "CONNECT" {
		rh.Event = protocol.EventConnect
	}
	if err := h.deadErr(); err != nil {
		h.fatalf("sdktest: %v", err)
	}
	client, server, err := socketpair.Conns()
	if err != nil {
		h.fatalf("sdktest: %v", err)
	}
	h.cleanup(func() { client.Close() })
	if !h.opts.relay {
		// hostd passes a copy of the descriptor, which the Writer owns
		// from then on, and forgets the socket.
		fd, err := dupDescriptor(server)
		server.Close()
		if err != nil {
			h.fatalf("sdktest: %v", err)
		}
		rh.Flags |= protocol.ReqSocketFD
		frame, off := protocol.Begin(nil, h.newID(), protocol.TypeRequest)
		frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
		if err := h.w.WriteFD(frame, fd); err != nil {
			h.fatalf("sdktest: sending the socket: %v", err)
		}
		return client
	}
	s := &relay{h: h, conn: server, credit: protocol.Window, pluginCredit: protocol.Window,
		creditWake: make(chan struct{}, 1), inboxWake: make(chan struct{}, 1)}
	s.id = h.open(s)
	rh.Flags |= protocol.ReqSocketRelay
	frame, off := protocol.Begin(nil, s.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	if err := h.w.Write(frame); err != nil {
		h.fatalf("sdktest: sending the request: %v", err)
	}
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		s.fromClient()
	}()
	go func() {
		defer h.wg.Done()
		s.toClient()
	}()
	return client
}

// Dial is New followed by Host.Dial.
//
// It needs a test, which closes the Host; without one use New, Host.Dial
// and Close.
func Dial(t testing.TB, p any, req Request, opts ...Option) net.Conn {
	t.Helper()
	return New(t, p, opts...).Dial(req)
}

// relay is the host's side of a relayed socket, as hostd's: the client's
// bytes go to the plugin as SockData within its credit, and the plugin's
// SockData is written to the client.
type relay struct {
	h    *Host
	id   uint32
	conn *net.UnixConn

	mu           sync.Mutex
	credit       int64 // bytes the plugin accepts now
	creditWake   chan struct{}
	inbox        []protocol.Frame
	inboxWake    chan struct{}
	closed       bool  // the stream is over: SockClose either way, or a failure
	pluginSent   int64 // SockData bytes received from the plugin
	pluginCredit int64 // credit granted to the plugin, the window included
	written      int64 // SockData bytes written to the client
}

func (s *relay) deliver(f protocol.Frame) error {
	switch f.Type {
	case protocol.TypeCredit:
		n, err := protocol.DecodeUint32(f.Payload)
		if err != nil {
			return &ProtocolError{Err: err}
		}
		s.mu.Lock()
		s.credit += int64(n)
		s.mu.Unlock()
		signal(s.creditWake)
		return nil
	case protocol.TypeSockData, protocol.TypeSockEnd, protocol.TypeSockClose:
		s.mu.Lock()
		if f.Type == protocol.TypeSockData {
			s.pluginSent += int64(len(f.Payload))
			if s.pluginSent > s.pluginCredit {
				s.mu.Unlock()
				return protocolErrorf("the plugin sent %d socket bytes with %d of credit", s.pluginSent, s.pluginCredit)
			}
		}
		s.inbox = append(s.inbox, protocol.Frame{Type: f.Type, Payload: append([]byte(nil), f.Payload...)})
		s.mu.Unlock()
		signal(s.inboxWake)
		return nil
	}
	return protocolErrorf("a %v frame on a socket stream", f.Type)
}

// fail ends the stream; a protocol error fails the test at cleanup.
func (s *relay) fail(err error) {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		s.h.mu.Lock()
		s.h.bad = append(s.h.bad, err)
		s.h.mu.Unlock()
	}
	s.close()
}

func (s *relay) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.h.forget(s.id)
	s.conn.Close()
	signal(s.creditWake)
	signal(s.inboxWake)
}

// fromClient sends what the test writes to the plugin.
func (s *relay) fromClient() {
	buf := make([]byte, protocol.MaxChunk)
	for {
		s.mu.Lock()
		for s.credit <= 0 && !s.closed {
			s.mu.Unlock()
			<-s.creditWake
			s.mu.Lock()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		want := int(min(s.credit, protocol.MaxChunk))
		s.credit -= int64(want)
		s.mu.Unlock()
		n, err := s.conn.Read(buf[:want])
		s.mu.Lock()
		s.credit += int64(want - n)
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		if n > 0 && s.h.send(s.id, protocol.TypeSockData, buf[:n]) != nil {
			return
		}
		switch {
		case err == io.EOF:
			_ = s.h.send(s.id, protocol.TypeSockEnd, nil)
			return
		case err != nil:
			_ = s.h.send(s.id, protocol.TypeSockClose, nil)
			s.close()
			return
		}
	}
}

// toClient writes what the plugin sends to the test.
func (s *relay) toClient() {
	for {
		s.mu.Lock()
		for len(s.inbox) == 0 && !s.closed {
			s.mu.Unlock()
			<-s.inboxWake
			s.mu.Lock()
		}
		if len(s.inbox) == 0 {
			s.mu.Unlock()
			return
		}
		f := s.inbox[0]
		s.inbox = s.inbox[1:]
		s.mu.Unlock()
		switch f.Type {
		case protocol.TypeSockData:
			if _, err := s.conn.Write(f.Payload); err != nil {
				_ = s.h.send(s.id, protocol.TypeSockClose, nil)
				s.close()
				return
			}
			s.mu.Lock()
			s.written += int64(len(f.Payload))
			grant := 0
			if s.written == s.pluginCredit {
				grant = protocol.Window
				s.pluginCredit += int64(grant)
			}
			s.mu.Unlock()
			if grant > 0 {
				_ = s.h.send(s.id, protocol.TypeCredit, protocol.AppendUint32(nil, uint32(grant)))
			}
		case protocol.TypeSockEnd:
			_ = s.conn.CloseWrite()
		case protocol.TypeSockClose:
			s.close()
			return
		}
	}
}

// ClientError raises the clientError event for ce, as hostd does for a
// request it refused, and returns the bytes the handler wrote on its
// socket once it returned.
func (h *Host) ClientError(ce sdk.ClientError) []byte {
	if h.t != nil {
		h.t.Helper()
	}
	if ce.RemoteAddr == "" {
		ce.RemoteAddr = "127.0.0.1:40000"
	}
	if err := h.deadErr(); err != nil {
		h.fatalf("sdktest: %v", err)
	}
	rh := protocol.RequestHead{
		Event:       protocol.EventClientError,
		Flags:       protocol.ReqSocketRelay,
		RemoteAddr:  []byte(ce.RemoteAddr),
		LocalAddr:   []byte("127.0.0.1:8080"),
		Data:        ce.RawPacket,
		ErrCode:     []byte(ce.Code),
		BytesParsed: uint32(ce.BytesParsed),
	}
	if ce.HeadersSent {
		rh.Flags |= protocol.ReqHeadersSent
	}
	return h.raiseOnSocket(&rh).out
}

// raiseOnSocket raises a clientError or timeout event and waits until its
// handler is done with its write-only socket.
func (h *Host) raiseOnSocket(rh *protocol.RequestHead) *clientErr {
	s := &clientErr{h: h, event: rh.Event, done: make(chan struct{})}
	s.id = h.open(s)
	frame, off := protocol.Begin(nil, s.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, rh), off)
	if err := h.w.Write(frame); err != nil {
		h.fatalf("sdktest: sending the %v event: %v", rh.Event, err)
	}
	t := time.NewTimer(h.opts.timeout)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		h.forget(s.id)
		h.fatalf("sdktest: the %v handler did not return within %v", rh.Event, h.opts.timeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		h.fatalf("sdktest: %v: %v", rh.Event, s.err)
	}
	return s
}

// ClientError is New followed by Host.ClientError.
// With a nil t it closes the Host it made.
func ClientError(t testing.TB, p any, ce sdk.ClientError, opts ...Option) []byte {
	if t != nil {
		t.Helper()
	}
	h := New(t, p, opts...)
	if t == nil {
		defer h.Close()
	}
	return h.ClientError(ce)
}

// clientErr collects what a clientError or timeout handler writes.
type clientErr struct {
	h     *Host
	id    uint32
	event protocol.Event
	done  chan struct{}

	mu     sync.Mutex
	out    []byte
	err    error
	over   bool
	kept   bool  // a timeout handler returned leaving the socket open
	sent   int64 // SockData bytes received
	credit int64 // credit granted beyond the initial window
}

func (s *clientErr) deliver(f protocol.Frame) error {
	switch f.Type {
	case protocol.TypeSockData:
		s.mu.Lock()
		s.out = append(s.out, f.Payload...)
		s.sent += int64(len(f.Payload))
		if s.sent > protocol.Window+s.credit {
			s.mu.Unlock()
			return protocolErrorf("the plugin sent %d socket bytes with %d of credit", s.sent, protocol.Window+s.credit)
		}
		grant := 0
		if s.sent == protocol.Window+s.credit {
			grant = protocol.Window
			s.credit += int64(grant)
		}
		s.mu.Unlock()
		if grant > 0 {
			_ = s.h.send(s.id, protocol.TypeCredit, protocol.AppendUint32(nil, uint32(grant)))
		}
		return nil
	case protocol.TypeSockEnd:
		return nil
	case protocol.TypeSockClose:
		s.fail(nil)
		return nil
	case protocol.TypeEnd:
		if s.event == protocol.EventTimeout && len(f.Payload) == 0 {
			s.mu.Lock()
			s.kept = true
			s.mu.Unlock()
			s.fail(nil)
			return nil
		}
	}
	return protocolErrorf("a %v frame on a %v stream", f.Type, s.event)
}

func (s *clientErr) fail(err error) {
	s.mu.Lock()
	if s.over {
		s.mu.Unlock()
		return
	}
	s.over, s.err = true, err
	s.mu.Unlock()
	s.h.forget(s.id)
	close(s.done)
}

// dupDescriptor returns a new descriptor for c's socket.
func dupDescriptor(c *net.UnixConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) {
		fd, derr = syscall.Dup(int(s))
		if derr == nil {
			syscall.CloseOnExec(fd)
		}
	}); err != nil {
		return -1, err
	}
	return fd, derr
}
