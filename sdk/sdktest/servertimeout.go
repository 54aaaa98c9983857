package sdktest

import (
	"testing"

	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
)

// ServerTimeout raises the server timeout event (TimeoutHandler) for ev,
// as hostd does for a connection inactive for [server] timeout. It returns
// the bytes the handler wrote on its socket once it returned, and whether
// it left the socket open (it neither ended nor closed it). Empty
// addresses are filled in.
func (h *Host) ServerTimeout(ev sdk.Timeout) (out []byte, kept bool) {
	if h.t != nil {
		h.t.Helper()
	}
	if ev.RemoteAddr == "" {
		ev.RemoteAddr = "127.0.0.1:40000"
	}
	if ev.LocalAddr == "" {
		ev.LocalAddr = "127.0.0.1:8080"
	}
	if err := h.deadErr(); err != nil {
		h.fatalf("sdktest: %v", err)
	}
	rh := protocol.RequestHead{
		Event:      protocol.EventTimeout,
		Flags:      protocol.ReqSocketRelay,
		RemoteAddr: []byte(ev.RemoteAddr),
		LocalAddr:  []byte(ev.LocalAddr),
	}
	if ev.HeadersSent {
		rh.Flags |= protocol.ReqHeadersSent
	}
	s := h.raiseOnSocket(&rh)
	return s.out, s.kept
}

// ServerTimeout is New followed by Host.ServerTimeout.
// With a nil t it closes the Host it made.
func ServerTimeout(t testing.TB, p any, ev sdk.Timeout, opts ...Option) (out []byte, kept bool) {
	if t != nil {
		t.Helper()
	}
	h := New(t, p, opts...)
	if t == nil {
		defer h.Close()
	}
	return h.ServerTimeout(ev)
}
