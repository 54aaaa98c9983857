package client

import (
	"context"
	"math"
	"net"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Scheduling is how an Agent picks a free connection: LIFO (the default)
// takes the most recently used one, FIFO the least recently used one.
type Scheduling uint8

const (
	LIFO Scheduling = iota
	FIFO
)

// AgentOptions are the options of Node's new http.Agent. The zero value
// is Node's default: no keep-alive, no limits.
type AgentOptions struct {
	// KeepAlive keeps connections open in the pool when no request uses
	// them. KeepAliveMsecs is the TCP keep-alive initial delay (default
	// 1s) of pooled connections.
	KeepAlive      bool
	KeepAliveMsecs time.Duration
	// MaxSockets limits the connections per origin (getName), and
	// MaxTotalSockets across origins; 0 means no limit. MaxFreeSockets
	// limits the idle connections per origin (0 means 256).
	MaxSockets      int
	MaxTotalSockets int
	MaxFreeSockets  int
	Scheduling      Scheduling
	// Timeout is the connections' idle timeout: requests report
	// OnTimeout after it, and an idle pooled connection is closed after
	// it (or after the server's Keep-Alive: timeout hint less a second,
	// whichever is shorter).
	Timeout time.Duration
}

// Agent pools connections per origin as Node's http.Agent does: a request
// takes a free connection of its origin, or a new one while under the
// limits, or waits in the origin's queue. A connection is given to the
// next request, or kept free, only after its response was read to the
// end and both sides allowed keep-alive; otherwise it is closed.
type Agent struct {
	opts AgentOptions

	mu       sync.Mutex
	sockets  map[string][]*Socket        // in use (dialling included); guarded by mu
	free     map[string][]*Socket        // idle, oldest first; guarded by mu
	requests map[string][]*ClientRequest // waiting; guarded by mu
	total    int                         // sockets in use and free; guarded by mu
}

// DefaultAgent is Node v20's http.globalAgent: keep-alive, LIFO, a 5 s
// idle timeout.
var DefaultAgent = NewAgent(AgentOptions{KeepAlive: true, Timeout: 5 * time.Second})

// NewAgent returns an Agent with the given options.
func NewAgent(opts AgentOptions) *Agent {
	if opts.KeepAliveMsecs <= 0 {
		opts.KeepAliveMsecs = time.Second
	}
	if opts.MaxSockets <= 0 {
		opts.MaxSockets = math.MaxInt
	}
	if opts.MaxTotalSockets <= 0 {
		opts.MaxTotalSockets = math.MaxInt
	}
	if opts.MaxFreeSockets <= 0 {
		opts.MaxFreeSockets = 256
	}
	return &Agent{opts: opts, sockets: map[string][]*Socket{}, free: map[string][]*Socket{},
		requests: map[string][]*ClientRequest{}}
}

// Options returns the agent's options, with the defaults filled in.
func (a *Agent) Options() AgentOptions { return a.opts }

// GetName is Node's agent.getName for a request's options: the key of
// the pool its connection comes from.
func (a *Agent) GetName(o Options) (string, error) {
	r, err := o.resolve()
	if err != nil {
		return "", err
	}
	return r.name(), nil
}

// Sockets returns the connections in use per origin (agent.sockets).
func (a *Agent) Sockets() map[string][]net.Conn { return a.view(a.sockets) }

// FreeSockets returns the idle connections per origin (agent.freeSockets).
func (a *Agent) FreeSockets() map[string][]net.Conn { return a.view(a.free) }

// Requests returns how many requests wait for a connection per origin
// (agent.requests).
func (a *Agent) Requests() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string]int, len(a.requests))
	for k, q := range a.requests {
		m[k] = len(q)
	}
	return m
}

func (a *Agent) view(src map[string][]*Socket) map[string][]net.Conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string][]net.Conn, len(src))
	for k, list := range src {
		for _, s := range list {
			m[k] = append(m[k], s)
		}
	}
	return m
}

// Destroy closes every connection of the agent, in use or free, as
// agent.destroy does: their requests fail, and the agent stays usable
// (requests still waiting get new connections).
func (a *Agent) Destroy() {
	a.mu.Lock()
	var all []*Socket
	for _, l := range a.sockets {
		all = append(all, l...)
	}
	for _, l := range a.free {
		all = append(all, l...)
	}
	a.mu.Unlock()
	for _, s := range all {
		a.remove(s)
	}
}

// addRequest gives r a connection, now or when one comes free.
func (a *Agent) addRequest(r *ClientRequest) {
	name := r.name
	a.mu.Lock()
	if free := a.free[name]; len(free) > 0 {
		var s *Socket
		if a.opts.Scheduling == FIFO {
			s, a.free[name] = free[0], free[1:]
		} else {
			s, a.free[name] = free[len(free)-1], free[:len(free)-1]
		}
		if len(a.free[name]) == 0 {
			delete(a.free, name)
		}
		s.reclaimed = true
		a.sockets[name] = append(a.sockets[name], s)
		a.mu.Unlock()
		go a.reuse(s, r)
		return
	}
	if len(a.sockets[name]) < a.opts.MaxSockets && a.total < a.opts.MaxTotalSockets {
		s := a.createLocked(name)
		a.mu.Unlock()
		a.start(s, r)
		return
	}
	a.requests[name] = append(a.requests[name], r)
	a.mu.Unlock()
}

// createLocked counts a new socket for name. Caller holds mu.
func (a *Agent) createLocked(name string) *Socket {
	s := newSocket(name)
	a.sockets[name] = append(a.sockets[name], s)
	a.total++
	return s
}

// start assigns the new socket s to r and dials it.
func (a *Agent) start(s *Socket, r *ClientRequest) {
	keepAlive := time.Duration(-1)
	if a.opts.KeepAlive {
		keepAlive = a.opts.KeepAliveMsecs
	}
	go s.connect(r.dialContext(), &r.target, keepAlive)
	r.onSocket(s, false)
}

// reuse stops the idle watcher of a free socket and gives it to r; a
// socket the server closed meanwhile is dropped and r asks again.
func (a *Agent) reuse(s *Socket, r *ClientRequest) {
	_ = s.nc.SetReadDeadline(time.Now())
	<-s.idleDone
	_ = s.nc.SetReadDeadline(time.Time{})
	if s.idleErr != nil && !isTimeout(s.idleErr) || s.w > s.r {
		a.remove(s)
		a.addRequest(r)
		return
	}
	r.onSocket(s, true)
}

// cancel takes r out of the queue, if it waits there.
func (a *Agent) cancel(r *ClientRequest) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.requests[r.name]
	for i, x := range q {
		if x == r {
			a.requests[r.name] = append(q[:i:i], q[i+1:]...)
			if len(a.requests[r.name]) == 0 {
				delete(a.requests, r.name)
			}
			return
		}
	}
}

// release is called when the request using s is done with it. reusable
// says whether the exchange left the connection fit for another one
// (keepHint: the server's Keep-Alive header value, if any).
func (a *Agent) release(s *Socket, reusable bool, keepHint string) {
	a.mu.Lock()
	if !reusable || s.isClosed() {
		a.mu.Unlock()
		a.remove(s)
		return
	}
	name := s.name
	if q := a.requests[name]; len(q) > 0 {
		r := q[0]
		a.requests[name] = q[1:]
		if len(a.requests[name]) == 0 {
			delete(a.requests, name)
		}
		a.mu.Unlock()
		r.onSocket(s, true)
		return
	}
	timeout, ok := a.keepSocketAlive(keepHint)
	if !a.opts.KeepAlive || !ok || len(a.free[name]) >= a.opts.MaxFreeSockets {
		a.mu.Unlock()
		a.remove(s)
		return
	}
	a.sockets[name] = without(a.sockets[name], s)
	if len(a.sockets[name]) == 0 {
		delete(a.sockets, name)
	}
	a.free[name] = append(a.free[name], s)
	s.reclaimed = false
	s.idleErr = nil
	s.idleDone = make(chan struct{})
	a.mu.Unlock()
	a.watchIdle(s, timeout)
}

// keepHintRE reads the timeout of a Keep-Alive response header.
var keepHintRE = regexp.MustCompile(`^timeout=(\d+)`)

// keepSocketAlive is Node's agent.keepSocketAlive: the idle timeout of a
// pooled socket is the agent's, or the server's hint less one second if
// shorter; a hint of a second or less means the socket cannot be kept.
func (a *Agent) keepSocketAlive(hint string) (time.Duration, bool) {
	timeout := a.opts.Timeout
	if m := keepHintRE.FindStringSubmatch(hint); m != nil {
		secs, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, false
		}
		server := time.Duration(secs)*time.Second - time.Second
		if server <= 0 {
			return 0, false
		}
		if timeout == 0 || server < timeout {
			timeout = server
		}
	}
	return timeout, true
}

// watchIdle reads from a free socket until the server closes it, sends
// something (which no request asked for), or the idle timeout passes;
// then the socket leaves the pool, unless a request reclaimed it first.
func (a *Agent) watchIdle(s *Socket, timeout time.Duration) {
	if timeout > 0 {
		_ = s.nc.SetReadDeadline(time.Now().Add(timeout))
	}
	if s.r != s.w {
		s.r, s.w = 0, 0 // bytes past the response: the socket is not reusable
		s.idleErr = errUnexpectedData
		close(s.idleDone)
		a.remove(s)
		return
	}
	go func() {
		var b [1]byte
		n, err := s.nc.Read(b[:])
		if n > 0 {
			err = errUnexpectedData
		}
		a.mu.Lock()
		s.idleErr = err
		close(s.idleDone)
		reclaimed := s.reclaimed
		a.mu.Unlock()
		if !reclaimed {
			a.remove(s)
		}
	}()
}

// remove forgets s and closes it, and lets a waiting request have the
// room it leaves.
func (a *Agent) remove(s *Socket) {
	a.detach(s)
	s.Close()
}

// detach forgets s without closing it (an upgraded or CONNECT socket now
// belongs to its handler), then lets a waiting request have the room it
// leaves.
func (a *Agent) detach(s *Socket) {
	a.mu.Lock()
	found := false
	for _, m := range []map[string][]*Socket{a.sockets, a.free} {
		if l, ok := m[s.name]; ok && contains(l, s) {
			m[s.name] = without(l, s)
			if len(m[s.name]) == 0 {
				delete(m, s.name)
			}
			found = true
		}
	}
	if found {
		a.total--
	}
	// Give the room to the socket's origin first, then to any other.
	var next *ClientRequest
	var ns *Socket
	for _, name := range a.waitingOrigins(s.name) {
		if len(a.sockets[name]) < a.opts.MaxSockets && a.total < a.opts.MaxTotalSockets {
			q := a.requests[name]
			next, a.requests[name] = q[0], q[1:]
			if len(a.requests[name]) == 0 {
				delete(a.requests, name)
			}
			ns = a.createLocked(name)
			break
		}
	}
	a.mu.Unlock()
	if next != nil {
		a.start(ns, next)
	}
}

// waitingOrigins lists the origins with waiting requests, first the
// given one. Caller holds mu.
func (a *Agent) waitingOrigins(first string) []string {
	var names []string
	if len(a.requests[first]) > 0 {
		names = append(names, first)
	}
	for name, q := range a.requests {
		if name != first && len(q) > 0 {
			names = append(names, name)
		}
	}
	return names
}

func contains(l []*Socket, s *Socket) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func without(l []*Socket, s *Socket) []*Socket {
	for i, x := range l {
		if x == s {
			return append(l[:i:i], l[i+1:]...)
		}
	}
	return l
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// dialContext is the context a request's connection is dialled with: the
// dial stops when the request is destroyed.
func (r *ClientRequest) dialContext() context.Context { return r.dialCtx }
