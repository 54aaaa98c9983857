package client

import (
	"net"
	"sync"
)

// Events holds the optional callbacks of a ClientRequest, one per event
// of Node's ClientRequest (and of Electron's net.ClientRequest). A nil
// callback means no listener, which matters where Node's behaviour
// depends on one: without OnResponse the response body is read and
// discarded; without OnUpgrade or OnConnect the connection is closed.
//
// The callbacks of one request run one at a time, in order, on a
// goroutine of the request. A callback may call the request's methods;
// the events those cause come after it returns.
type Events struct {
	// OnSocket: a connection was assigned to the request. For a new
	// connection this is before it is established, as in Node: its
	// methods wait for the connection (and fail if it could not be made).
	OnSocket func(s net.Conn)
	// OnResponse: the final response head arrived. The callback should
	// read res.Body (here or on another goroutine) to its end or close it.
	OnResponse func(res *IncomingMessage)
	// OnInformation: a 1xx response other than 101 (100, 102, 103, ...).
	OnInformation func(info *Information)
	// OnContinue: a 100 Continue arrived (after an Expect: 100-continue).
	OnContinue func()
	// OnUpgrade: a 101 response; the connection and the bytes read past
	// the head now belong to the callback.
	OnUpgrade func(res *IncomingMessage, s net.Conn, head []byte)
	// OnConnect: the response to a CONNECT request; the connection (the
	// tunnel) and the bytes read past the head belong to the callback.
	OnConnect func(res *IncomingMessage, s net.Conn, head []byte)
	// OnTimeout: the connection was idle for the request's timeout. It
	// only notifies: call Destroy to give up.
	OnTimeout func()
	// OnFinish: the request was written to its end.
	OnFinish func()
	// OnAbort: Abort was called (deprecated in Node, kept for Electron).
	OnAbort func()
	// OnError: the request failed; Close follows.
	OnError func(err error)
	// OnClose: the last event of the request.
	OnClose func()

	// OnAborted: the response body ended early (the connection closed,
	// or the request was destroyed): Node's res 'aborted' followed by res
	// 'error' with err.
	OnAborted func(res *IncomingMessage, err error)
	// OnResponseClose: the response is done with (res 'close'), after
	// OnClose.
	OnResponseClose func(res *IncomingMessage)

	// OnRedirect (Electron): a redirect response arrived. Call
	// FollowRedirect from the callback to follow it; otherwise the
	// request is cancelled.
	OnRedirect func(r *Redirect)
	// OnLogin (Electron): a 401 or 407 challenge arrived (Digest, MD5 or
	// SHA-256, is answered in preference to Basic). Return the
	// credentials to retry with, or ok false to give up and receive the
	// challenge as the response.
	OnLogin func(info *AuthInfo) (username, password string, ok bool)
}

// Information is a 1xx response reported by OnInformation.
type Information struct {
	StatusCode       int
	StatusMessage    string
	HTTPVersion      string
	HTTPVersionMajor int
	HTTPVersionMinor int
	Headers          Headers
	RawHeaders       []string
}

// dispatcher runs a request's callbacks one at a time, in the order they
// were posted, on a goroutine of its own, like Node's event loop does for
// one request. It stops once the final event has run.
type dispatcher struct {
	mu      sync.Mutex
	queue   []func()
	running bool
}

// post queues f and starts the goroutine if none is running.
func (d *dispatcher) post(f func()) {
	d.mu.Lock()
	d.queue = append(d.queue, f)
	if d.running {
		d.mu.Unlock()
		return
	}
	d.running = true
	d.mu.Unlock()
	go d.run()
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		f := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		f()
	}
}
