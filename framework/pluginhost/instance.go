package pluginhost

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/hostd/hostd/framework/metrics"
	"github.com/hostd/hostd/protocol"
)

// Instance is one generation of a plugin: its process, control client and
// data plane.
type Instance struct {
	spec   *Spec // immutable
	gen    uint64
	log    hclog.Logger
	proc   *process
	client *goplugin.Client
	ctl    protocol.ControlClient
	w      *protocol.Writer
	r      *protocol.Reader
	events protocol.EventSet // immutable
	relay  bool              // immutable
	// metrics is set before the instance serves; nil records nothing.
	metrics *metrics.Plugin

	mu      sync.Mutex
	streams map[uint32]*stream
	nextID  uint32

	inflight atomic.Int64  // streams open on the host side
	closed   atomic.Bool   // draining or stopped: acquire must not use it
	stopping atomic.Bool   // Stop was called: the data plane closing is expected
	dead     chan struct{} // closed when the data plane ends
	deadErr  error         // set before dead is closed
	onDeath  func(*Instance, error)

	hooks *testHooks // nil but in tests; immutable
}

// testHooks let a test pause readLoop where it races with the goroutines
// serving the streams.
type testHooks struct {
	// frame runs between the lookup of a frame's stream and its delivery;
	// found tells whether the stream was open.
	frame func(f protocol.Frame, found bool)
	// death runs once the data plane has ended, before its streams fail.
	death func()
	// closed is signalled each time a stream is closed.
	closed chan struct{}
}

func newInstance(spec *Spec, gen uint64, proc *process, ctl protocol.ControlClient, conn *net.UnixConn, resp *protocol.ConfigureResponse, log hclog.Logger) *Instance {
	in := &Instance{
		spec:    spec,
		gen:     gen,
		log:     log,
		proc:    proc,
		client:  proc.client,
		ctl:     ctl,
		r:       protocol.NewReader(conn),
		relay:   resp.RelaySockets || spec.RelaySockets || !canPassDescriptors,
		streams: make(map[uint32]*stream),
		dead:    make(chan struct{}),
	}
	in.w = protocol.NewWriter(conn, in.busy)
	for _, name := range resp.Events {
		// A name this host does not know cannot be routed to: skip it.
		if e, err := protocol.ParseEvent(name); err == nil {
			in.events |= protocol.EventSetOf(e)
		}
	}
	return in
}

// busy reports whether more than one stream is in flight, when frames
// are worth gathering into one write.
func (in *Instance) busy() bool { return in.inflight.Load() > 1 }

// Handles reports whether the plugin implements the event.
func (in *Instance) Handles(event protocol.Event) bool { return in.events.Has(event) }

// Generation returns the instance's generation number.
func (in *Instance) Generation() uint64 { return in.gen }

// readLoop dispatches the plugin's frames to streams until the data plane
// ends.
func (in *Instance) readLoop() {
	var err error
	for {
		var f protocol.Frame
		f, err = in.r.Next()
		if err != nil {
			break
		}
		in.mu.Lock()
		st := in.streams[f.Stream]
		in.mu.Unlock()
		if in.hooks != nil && in.hooks.frame != nil {
			in.hooks.frame(f, st != nil)
		}
		if st != nil {
			st.deliver(in, f)
		}
	}
	in.r.Close()
	in.w.Close()
	in.deadErr = err
	close(in.dead)
	// Mark the plugin down before failing the streams, so that a client
	// retrying after its 502 finds the routes at 503, not this instance.
	if !in.stopping.Load() && in.onDeath != nil {
		in.onDeath(in, err)
	}
	in.mu.Lock()
	list := make(map[uint32]*stream, len(in.streams))
	for id, st := range in.streams {
		list[id] = st
	}
	in.mu.Unlock()
	if in.hooks != nil && in.hooks.death != nil {
		in.hooks.death()
	}
	for id, st := range list {
		st.failIf(in, id, errPluginGone)
	}
}

// acquire reserves a request slot, or reports why none is available.
func (in *Instance) acquire() bool {
	n := in.inflight.Add(1)
	if in.closed.Load() || in.isDead() || (in.spec.MaxConcurrent > 0 && n > int64(in.spec.MaxConcurrent)) {
		in.inflight.Add(-1)
		return false
	}
	return true
}

func (in *Instance) isDead() bool {
	select {
	case <-in.dead:
		return true
	default:
		return false
	}
}

// release returns a slot taken by acquire.
func (in *Instance) release() { in.inflight.Add(-1) }

// Release returns the slot Acquire reserved, for a caller that does not
// serve the event after all.
func (in *Instance) Release() { in.release() }

// open registers a new stream.
func (in *Instance) open() *stream {
	st := streamPool.Get().(*stream)
	in.mu.Lock()
	in.nextID++
	st.reset(in, in.nextID)
	in.streams[st.id] = st
	in.mu.Unlock()
	select {
	case <-in.dead:
		st.fail(errPluginGone)
	default:
	}
	return st
}

// close unregisters a stream and pools it.
func (in *Instance) close(st *stream) {
	in.mu.Lock()
	delete(in.streams, st.id)
	in.mu.Unlock()
	st.mu.Lock()
	st.in = nil // the reader may still hold st: it must drop what it has
	st.res = nil
	st.mu.Unlock()
	if in.hooks != nil && in.hooks.closed != nil {
		signal(in.hooks.closed)
	}
	streamPool.Put(st)
}

// Drain stops giving the instance new requests and waits until its
// in-flight requests are done and the plugin holds no upgraded socket, or
// until ctx ends.
func (in *Instance) Drain(ctx context.Context) error {
	in.closed.Store(true)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if in.inflight.Load() == 0 {
			st, err := in.ctl.Stats(ctx, &protocol.StatsRequest{})
			if err != nil || st.InFlight == 0 && st.OpenSockets == 0 {
				return nil // an unreachable plugin has nothing left to drain
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-in.dead:
			return nil
		case <-tick.C:
		}
	}
}

// Stop ends the process and what it started: a polite Shutdown, then
// go-plugin's kill, then the process group's.
func (in *Instance) Stop() {
	in.closed.Store(true)
	in.stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_, _ = in.ctl.Shutdown(ctx, &protocol.ShutdownRequest{})
	cancel()
	in.proc.end(true)
	in.w.Close()
	<-in.dead
}

// Stats asks the plugin for its counters.
func (in *Instance) Stats(ctx context.Context) (*protocol.StatsResponse, error) {
	return in.ctl.Stats(ctx, &protocol.StatsRequest{})
}

// Pid returns the plugin's process id, or 0.
func (in *Instance) Pid() int {
	if rc := in.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Healthy asks the plugin whether it is serving.
func (in *Instance) Healthy(ctx context.Context) error {
	if in.isDead() {
		return errPluginGone
	}
	h, err := in.ctl.Health(ctx, &protocol.HealthRequest{})
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if !h.Serving {
		return fmt.Errorf("health check: not serving: %s", h.Message)
	}
	return nil
}
