package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hostd/hostd/protocol"
)

// runtime is a plugin process's side of both planes: it serves the
// Control service and dispatches data-plane frames to streams.
type runtime struct {
	protocol.UnimplementedControlServer

	p        any
	log      hclog.Logger
	settings atomic.Pointer[settings]
	w        *protocol.Writer

	mu      sync.Mutex
	streams map[uint32]*stream

	inFlight atomic.Int64
	sockets  atomic.Int64
	total    atomic.Uint64

	// The goroutines of the data plane take turns: one holds the reader
	// role (r) until a request arrives, passes the role through lead to
	// an idle goroutine (idleCount of them wait), and runs the request
	// itself, so that the handler starts without a hand-off. ended
	// receives the error that ended the connection.
	r         *protocol.Reader
	lead      chan struct{}
	idleCount atomic.Int64
	ended     chan error

	release memoryRelease
}

// maxIdleWorkers bounds the goroutines kept waiting for the reader role.
// Reusing a goroutine keeps its grown stack, which spares each request
// the stack growth and goroutine start that otherwise dominate a small
// handler.
const maxIdleWorkers = 256

// settings are the server options hostd passes to Configure.
type settings struct {
	rejectBody     bool // rejectNonStandardBodyWrites
	joinDuplicates bool // joinDuplicateHeaders
}

// newRuntime returns a runtime for p. A plugin process (Serve) releases
// its memory when idle; a connection served in another program
// (ServeConn) leaves that to the program.
func newRuntime(p any, log hclog.Logger, releaseWhenIdle bool) *runtime {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	rt := &runtime{p: p, log: log, streams: make(map[uint32]*stream), lead: make(chan struct{})}
	rt.settings.Store(&settings{})
	rt.release.enabled = releaseWhenIdle
	return rt
}

func (rt *runtime) configure(name string, cfg []byte, s settings) error {
	if c, ok := rt.p.(Configurer); ok {
		if err := c.Configure(&Config{Name: name, raw: cfg}); err != nil {
			return err
		}
	}
	rt.settings.Store(&s)
	return nil
}

// Configure implements the Control service.
func (rt *runtime) Configure(_ context.Context, req *protocol.ConfigureRequest) (*protocol.ConfigureResponse, error) {
	if req.ProtocolVersion != protocol.Version {
		return nil, status.Errorf(codes.FailedPrecondition,
			"hostd speaks protocol version %d and this plugin version %d: rebuild the plugin against hostd's sdk", req.ProtocolVersion, protocol.Version)
	}
	s := settings{rejectBody: req.RejectNonStandardBodyWrites, joinDuplicates: req.JoinDuplicateHeaders}
	if err := rt.configure(req.Name, req.ConfigJson, s); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, protocol.ConfigRefused(err.Error(), ce.Key, ce.Reason)
		}
		return nil, protocol.ConfigRefused(err.Error(), "", "")
	}
	return &protocol.ConfigureResponse{
		Events:          events(rt.p).Names(),
		RelaySockets:    req.RelaySockets || asksRelay(rt.p),
		ProtocolVersion: protocol.Version,
	}, nil
}

// Health implements the Control service.
func (rt *runtime) Health(context.Context, *protocol.HealthRequest) (*protocol.HealthResponse, error) {
	return &protocol.HealthResponse{Serving: true}, nil
}

// Stats implements the Control service.
func (rt *runtime) Stats(context.Context, *protocol.StatsRequest) (*protocol.StatsResponse, error) {
	return &protocol.StatsResponse{
		InFlight:      uint64(max(rt.inFlight.Load(), 0)),
		OpenSockets:   uint64(max(rt.sockets.Load(), 0)),
		RequestsTotal: rt.total.Load(),
	}, nil
}

// Shutdown implements the Control service. The host drains a plugin
// before shutting it down, and kills it afterwards; nothing is left to do.
func (rt *runtime) Shutdown(context.Context, *protocol.ShutdownRequest) (*protocol.ShutdownResponse, error) {
	return &protocol.ShutdownResponse{}, nil
}

// serveConn serves the data plane until the connection ends.
func (rt *runtime) serveConn(c *net.UnixConn) error {
	rt.w = protocol.NewWriter(c, rt.busy)
	rt.r = protocol.NewReader(c)
	rt.ended = make(chan error, 1)
	go rt.serve()
	return <-rt.ended
}

// serve is the life of a data-plane goroutine: it reads frames until a
// request arrives, passes the reader role on, runs the request, and waits
// for the role again. The goroutine that reads a request runs it: a
// hand-off to another goroutine at this point would delay every request
// by a wake-up, while the next reader's wake-up is off the request's path.
func (rt *runtime) serve() {
	for {
		st, err := rt.readRequest()
		if err != nil {
			rt.r.Close()
			rt.abortAll()
			// Only the goroutine holding the role sends on lead or closes
			// it: idle goroutines end.
			close(rt.lead)
			rt.ended <- err
			return
		}
		select {
		case rt.lead <- struct{}{}:
		default:
			go rt.serve()
		}
		rt.run(st)
		if rt.idleCount.Add(1) > maxIdleWorkers {
			rt.idleCount.Add(-1)
			return
		}
		_, ok := <-rt.lead
		rt.idleCount.Add(-1)
		if !ok {
			return
		}
	}
}

// readRequest delivers frames to their streams until a Request frame
// opens a new one, which it returns.
func (rt *runtime) readRequest() (*stream, error) {
	for {
		f, err := rt.r.Next()
		if err != nil {
			return nil, err
		}
		if f.Type == protocol.TypeRequest {
			st, err := rt.open(f)
			if err != nil {
				return nil, err
			}
			if st.head.Flags&protocol.ReqSocketFD != 0 {
				fd, ok := rt.r.TakeFD()
				if !ok {
					return nil, fmt.Errorf("%w: socket descriptor missing", protocol.ErrFrame)
				}
				st.fd = fd
			}
			return st, nil
		}
		rt.mu.Lock()
		st := rt.streams[f.Stream]
		rt.mu.Unlock()
		if st == nil {
			continue // a stream that already ended; its late frames are moot
		}
		if err := st.deliver(f); err != nil {
			return nil, err
		}
	}
}

// busy reports whether more than one stream is in flight, when frames
// are worth gathering into one write.
func (rt *runtime) busy() bool { return rt.inFlight.Load() > 1 }

// open registers the stream a Request frame starts.
func (rt *runtime) open(f protocol.Frame) (*stream, error) {
	st := newStream(rt, f.Stream, f.Payload)
	if err := protocol.DecodeRequestHead(st.payload, &st.head); err != nil {
		return nil, err
	}
	st.res.init(st) // after the head: the method decides whether a body may follow
	switch st.head.Event {
	case protocol.EventRequest, protocol.EventCheckContinue, protocol.EventCheckExpectation:
		if st.head.Flags&protocol.ReqBodyFollows == 0 {
			// The whole body, if any, came with the request, outside
			// flow control.
			st.body, st.bodyDone = st.head.Data, true
		} else {
			st.streamed = true
		}
	case protocol.EventUpgrade, protocol.EventConnect:
		if st.head.Flags&protocol.ReqSocketFD != 0 {
			st.bodyDone = true
		} else {
			// Relayed: the socket exists from now on, so that SockData
			// arriving before the handler starts waits for it.
			st.sock = &relayConn{st: st}
			st.streamed = true
		}
	case protocol.EventClientError, protocol.EventTimeout:
		st.sock = &relayConn{st: st, writeOnly: true, begun: st.head.Flags&protocol.ReqHeadersSent != 0}
		st.bodyDone = true
	default:
		st.bodyDone = true
	}
	rt.mu.Lock()
	rt.streams[f.Stream] = st
	rt.mu.Unlock()
	rt.inFlight.Add(1)
	rt.total.Add(1)
	return st, nil
}

// forget unregisters a finished stream.
func (rt *runtime) forget(st *stream) {
	rt.mu.Lock()
	idle := false
	if rt.streams[st.id] == st {
		delete(rt.streams, st.id)
		idle = rt.inFlight.Add(-1) == 0
	}
	rt.mu.Unlock()
	if idle {
		rt.release.idle()
	}
}

// abortAll aborts every stream: the host is gone.
func (rt *runtime) abortAll() {
	rt.mu.Lock()
	list := make([]*stream, 0, len(rt.streams))
	for _, st := range rt.streams {
		list = append(list, st)
	}
	rt.mu.Unlock()
	for _, st := range list {
		st.abort()
	}
}

// run calls the handler for a stream's event.
func (rt *runtime) run(st *stream) {
	defer func() {
		if v := recover(); v != nil {
			rt.log.Error("handler panicked", "event", st.head.Event, "url", string(st.head.URL), "panic", v)
			st.reset(fmt.Sprint(v))
		}
	}()
	p := rt.p
	switch st.head.Event {
	case protocol.EventRequest:
		p.(RequestHandler).HandleRequest(&st.req, &st.res)
	case protocol.EventCheckContinue:
		p.(CheckContinueHandler).HandleCheckContinue(&st.req, &st.res)
	case protocol.EventCheckExpectation:
		p.(CheckExpectationHandler).HandleCheckExpectation(&st.req, &st.res)
	case protocol.EventUpgrade, protocol.EventConnect:
		rt.runSocket(st)
	case protocol.EventClientError:
		rt.runClientError(st)
	case protocol.EventTimeout:
		rt.runTimeout(st)
	case protocol.EventDropRequest:
		// Nothing goes back to hostd: the exchange is over when the
		// handler returns (or panics).
		defer func() { st.end(); rt.forget(st) }()
		p.(DropRequestHandler).HandleDropRequest(&st.req)
	default:
		st.reset(fmt.Sprintf("unknown event %d", st.head.Event))
	}
}
