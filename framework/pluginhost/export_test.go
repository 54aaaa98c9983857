package pluginhost

import (
	"net"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/protocol"
)

// Attach returns an instance serving events over conn, the host's end of
// a data plane, with no process and no control plane behind it: the test
// plays the plugin on the other end. It is what launch does once go-plugin
// has started and configured a process. Stop, Drain, Stats and Pid need
// that process and must not be called.
func Attach(conn *net.UnixConn, spec Spec, hooks Hooks, events ...string) *Instance {
	resp := &protocol.ConfigureResponse{ProtocolVersion: protocol.Version, Events: events}
	in := newInstance(&spec, 1, &process{}, nil, conn, resp, hclog.NewNullLogger())
	in.hooks = &testHooks{frame: hooks.Frame, death: hooks.Death, closed: make(chan struct{}, 1)}
	go in.readLoop()
	return in
}

// Hooks pause the instance's reader goroutine: Frame between the lookup
// of a frame's stream and its delivery (found: the stream was open),
// Death once the data plane has ended, before its streams fail.
type Hooks struct {
	Frame func(f protocol.Frame, found bool)
	Death func()
}

// Reserve takes a request slot as Plugin.Acquire does; false once the
// instance's data plane has ended.
func (in *Instance) Reserve() bool { return in.acquire() }

// OpenStreams counts the streams the instance still tracks, once none is
// left or after a while: a client may have its answer before the
// goroutine that served it has closed its stream.
func (in *Instance) OpenStreams() int {
	deadline := time.After(10 * time.Second)
	for {
		in.mu.Lock()
		n := len(in.streams)
		in.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-in.hooks.closed:
		case <-deadline:
			return n
		}
	}
}
