package sdktest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk/internal/wiretest"
)

// Event is the event a request is sent as: the protocol's one event
// type, Node's event names.
type Event = protocol.Event

// Events of Request.Event; the zero Event also sends a request event.
const (
	EventRequest          = protocol.EventRequest
	EventCheckContinue    = protocol.EventCheckContinue
	EventCheckExpectation = protocol.EventCheckExpectation
)

// Request is a request as hostd hands it to a plugin.
type Request struct {
	// Event is the event to raise; the handler must implement its
	// interface (sdk.RequestHandler for EventRequest).
	Event Event
	// Method defaults to GET, URL to "/", HTTPVersion to "1.1" (also
	// "1.0", "2.0" or "0.9").
	Method, URL, HTTPVersion string
	// Headers are the raw header fields, names and values alternating,
	// as Request.RawHeaders returns them.
	Headers []string
	// Body is the request body, nil for none. It streams to the handler
	// in frames, within the flow-control window the handler grants as it
	// reads, and then ends with Trailers (names and values alternating).
	Body     io.Reader
	Trailers []string
	// Inline sends Body whole inside the request frame instead, as hostd
	// does for a small body of known length. It is ignored for a request
	// that waits for "100 Continue" (EventCheckContinue or an Expect
	// header), whose body hostd sends only once the handler reads it.
	Inline bool
	// RemoteAddr and LocalAddr default to 127.0.0.1:40000 and
	// 127.0.0.1:8080.
	RemoteAddr, LocalAddr string
	// Head is, for Dial, the bytes the client sent past the request head.
	Head []byte
}

// Recorder is what a handler sent in answer to one request. Headers and
// trailers are as the handler set them: hostd adds the framing headers
// (Content-Length or Transfer-Encoding, Date, Connection) itself.
type Recorder struct {
	// Status and StatusMessage are the final status; StatusMessage is
	// empty unless the handler set one.
	Status        int
	StatusMessage string
	// Headers holds the response header fields, names as set and values
	// alternating, in order; a name repeats for each of its values.
	Headers []string
	// Body is the response body.
	Body []byte
	// Trailers holds the trailer fields, names and values alternating.
	Trailers []string
	// Informational lists the 1xx responses sent before the head.
	Informational []Informational
	// Timeouts lists the durations the handler passed to SetTimeout.
	Timeouts []time.Duration
	// Ended reports that the handler ended the response.
	Ended bool
	// Reset reports that the handler failed (it panicked, for example):
	// hostd answers 500, or cuts the connection if the head was sent.
	// ResetMessage is its reason.
	Reset        bool
	ResetMessage string
	// Aborted reports that the test aborted the exchange.
	Aborted bool

	// wire is what the SDK's own tests check of the protocol
	// (sdk/internal/wiretest).
	wire wiretest.Recording
}

// Informational is a 1xx response.
type Informational struct {
	Status  int
	Headers []string
}

// Header returns the first value of the response header name, compared
// without case, or "".
func (r *Recorder) Header(name string) string {
	if v := r.Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value of the response header name, in order.
func (r *Recorder) Values(name string) []string { return values(r.Headers, name) }

// Trailer returns the first value of the trailer name, or "".
func (r *Recorder) Trailer(name string) string {
	if v := values(r.Trailers, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func values(fields []string, name string) []string {
	var out []string
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.EqualFold(fields[i], name) {
			out = append(out, fields[i+1])
		}
	}
	return out
}

// Do sends req to the plugin and waits until the handler ends its
// response (or fails), within the Host's timeout.
func (h *Host) Do(req Request) *Recorder {
	if h.t != nil {
		h.t.Helper()
	}
	return h.Start(req).Wait()
}

// Exchange is one request in progress, for tests that act while the
// handler runs: abort it, fire its timeout, read what it sent so far.
type Exchange struct {
	h           *Host
	id          uint32
	req         Request
	awaitCredit bool // the request waits for the plugin's first credit

	mu         sync.Mutex
	rec        Recorder
	headSeen   bool
	err        error // a protocol error, or why the exchange could not finish
	done       chan struct{}
	finished   bool
	credit     int64 // request body bytes the plugin accepts now
	credited   int64 // request body credit the plugin granted in all
	sent       int64 // request body bytes sent
	creditWake chan struct{}
	respBody   int64 // response body bytes received in Body frames
	respCredit int64 // response body credit granted to the plugin, the initial window included
}

// withDefaults fills what a test left out of req.
func (req Request) withDefaults() Request {
	if req.Method == "" {
		req.Method = "GET"
	}
	if req.URL == "" {
		req.URL = "/"
	}
	if req.RemoteAddr == "" {
		req.RemoteAddr = "127.0.0.1:40000"
	}
	if req.LocalAddr == "" {
		req.LocalAddr = "127.0.0.1:8080"
	}
	return req
}

// requestHead fills req's defaults and returns it with its head for
// event, without a body.
func (h *Host) requestHead(req Request, event protocol.Event) (Request, protocol.RequestHead) {
	req = req.withDefaults()
	major, minor, err := parseVersion(req.HTTPVersion)
	if err != nil {
		h.fatalf("sdktest: %v", err)
	}
	return req, protocol.RequestHead{
		Event:      event,
		Major:      major,
		Minor:      minor,
		Method:     []byte(req.Method),
		URL:        []byte(req.URL),
		Fields:     toBytes(req.Headers),
		RemoteAddr: []byte(req.RemoteAddr),
		LocalAddr:  []byte(req.LocalAddr),
	}
}

// Start sends req to the plugin and returns at once.
func (h *Host) Start(req Request) *Exchange {
	if h.t != nil {
		h.t.Helper()
	}
	req, rh := h.requestHead(req, protocol.EventRequest)
	if len(req.Headers)%2 != 0 || len(req.Trailers)%2 != 0 {
		h.fatalf("sdktest: Request.Headers and Request.Trailers alternate names and values; got an odd count")
	}
	x := &Exchange{
		h:          h,
		req:        req,
		done:       make(chan struct{}),
		creditWake: make(chan struct{}, 1),
		respCredit: protocol.Window,
		rec:        Recorder{wire: wiretest.Recording{Length: -1}},
	}
	if req.Event != 0 {
		rh.Event = req.Event
	}
	awaitCredit := req.Event == EventCheckContinue || len(values(req.Headers, "expect")) > 0
	pump := false
	switch {
	case req.Body == nil:
	case req.Inline && !awaitCredit:
		body, err := io.ReadAll(req.Body)
		if err != nil {
			h.fatalf("sdktest: reading Request.Body: %v", err)
		}
		rh.Data = body
	default:
		rh.Flags |= protocol.ReqBodyFollows
		pump = true
		x.credit = protocol.Window
		if awaitCredit {
			rh.Flags |= protocol.ReqAwaitCredit
			x.credit, x.awaitCredit = 0, true
		}
	}
	if err := h.deadErr(); err != nil {
		h.fatalf("sdktest: %v", err)
	}
	x.id = h.open(x)
	frame, off := protocol.Begin(nil, x.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	if err := h.w.Write(frame); err != nil {
		h.fatalf("sdktest: sending the request: %v", err)
	}
	if pump {
		// Not waited for by Close: it may be stuck reading a Body that
		// never ends; it sends nothing once the exchange is over.
		go x.pumpBody()
	}
	return x
}

func parseVersion(v string) (major, minor uint8, err error) {
	switch v {
	case "", "1.1":
		return 1, 1, nil
	case "1.0":
		return 1, 0, nil
	case "2.0":
		return 2, 0, nil
	case "0.9":
		return 0, 9, nil
	}
	return 0, 0, fmt.Errorf("Request.HTTPVersion %q: want 1.1, 1.0, 2.0 or 0.9", v)
}

func toBytes(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte(s[i])
	}
	return out
}

// Wait waits until the handler ends its response, fails, or the exchange
// is aborted, and returns what it sent. It fails the test on a protocol
// error or when the Host's timeout passes first.
func (x *Exchange) Wait() *Recorder {
	if x.h.t != nil {
		x.h.t.Helper()
	}
	t := time.NewTimer(x.h.opts.timeout)
	defer t.Stop()
	select {
	case <-x.done:
	case <-t.C:
		x.finish(nil)
		x.h.fatalf("sdktest: %s %s: the handler did not end its response within %v (does it call End?); it sent %v",
			x.req.Method, x.req.URL, x.h.opts.timeout, x.Recorder().wire.FrameTypes())
	}
	x.mu.Lock()
	err := x.err
	x.mu.Unlock()
	if err != nil {
		x.h.fatalf("sdktest: %s %s: %v", x.req.Method, x.req.URL, err)
	}
	return x.Recorder()
}

// Recorder returns a copy of what the handler has sent so far.
func (x *Exchange) Recorder() *Recorder {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec := x.rec
	rec.Headers = append([]string(nil), rec.Headers...)
	rec.Body = append([]byte(nil), rec.Body...)
	rec.Trailers = append([]string(nil), rec.Trailers...)
	rec.Informational = append([]Informational(nil), rec.Informational...)
	rec.Timeouts = append([]time.Duration(nil), rec.Timeouts...)
	rec.wire.Frames = append([]wiretest.Frame(nil), rec.wire.Frames...)
	return &rec
}

// Abort tells the plugin that the client went away, as hostd does; the
// handler's reads and writes fail from then on. Wait returns at once.
func (x *Exchange) Abort() {
	x.mu.Lock()
	x.rec.Aborted = true
	x.mu.Unlock()
	_ = x.h.send(x.id, protocol.TypeAbort, nil)
	x.finish(nil)
}

// Timeout tells the plugin that the timeout its handler set with
// Response.SetTimeout or Request.SetTimeout passed.
func (x *Exchange) Timeout() { _ = x.h.send(x.id, protocol.TypeTimeout, nil) }

// flow gives the SDK's own tests the request body's flow control
// (wiretest.FlowOf).
type flow struct{ x *Exchange }

func (f flow) BodySent() int64 {
	f.x.mu.Lock()
	defer f.x.mu.Unlock()
	return f.x.sent
}

func (f flow) Credited() int64 {
	f.x.mu.Lock()
	defer f.x.mu.Unlock()
	return f.x.credited
}

func init() {
	wiretest.Register(
		func(rec any) *wiretest.Recording { return &rec.(*Recorder).wire },
		func(x any) wiretest.Flow { return flow{x.(*Exchange)} })
}

// finish ends the exchange, with err if it failed.
func (x *Exchange) finish(err error) {
	x.mu.Lock()
	if x.finished {
		x.mu.Unlock()
		return
	}
	x.finished = true
	if err != nil {
		x.err = err
	}
	x.mu.Unlock()
	x.h.forget(x.id)
	close(x.done)
	signal(x.creditWake)
}

func (x *Exchange) fail(err error) { x.finish(err) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// deliver applies a frame of the plugin; called by the read loop.
func (x *Exchange) deliver(f protocol.Frame) error {
	x.mu.Lock()
	x.rec.wire.Frames = append(x.rec.wire.Frames, wiretest.Frame{Type: f.Type, Payload: append([]byte(nil), f.Payload...)})
	x.mu.Unlock()
	switch f.Type {
	case protocol.TypeCredit:
		n, err := protocol.DecodeUint32(f.Payload)
		if err != nil {
			return &ProtocolError{Err: err}
		}
		x.mu.Lock()
		x.credit += int64(n)
		x.credited += int64(n)
		// Credit follows reads: beyond the window an awaiting request
		// is first granted, the plugin cannot have read more than it got.
		limit := x.sent
		if x.awaitCredit {
			limit += protocol.Window
		}
		credited, sent := x.credited, x.sent
		x.mu.Unlock()
		if credited > limit {
			return protocolErrorf("the plugin granted %d bytes of request body credit after receiving %d bytes", credited, sent)
		}
		signal(x.creditWake)
		return nil
	case protocol.TypeHead:
		var h protocol.ResponseHead
		if err := protocol.DecodeResponseHead(f.Payload, &h); err != nil {
			return &ProtocolError{Err: err}
		}
		x.mu.Lock()
		defer x.mu.Unlock()
		if x.headSeen {
			return protocolErrorf("a second response head")
		}
		x.applyHead(&h)
		return nil
	case protocol.TypeInfo:
		var i protocol.Info
		if err := protocol.DecodeInfo(f.Payload, &i); err != nil {
			return &ProtocolError{Err: err}
		}
		if i.Status != 100 && i.Status != 102 && i.Status != 103 {
			return protocolErrorf("an informational response with status %d, which hostd cannot send", i.Status)
		}
		x.mu.Lock()
		defer x.mu.Unlock()
		if x.headSeen {
			return protocolErrorf("a %d response after the head", i.Status)
		}
		x.rec.Informational = append(x.rec.Informational, Informational{Status: int(i.Status), Headers: toStrings(i.Fields)})
		return nil
	case protocol.TypeBody:
		if len(f.Payload) > protocol.MaxChunk {
			return protocolErrorf("a Body frame of %d bytes, more than MaxChunk", len(f.Payload))
		}
		x.mu.Lock()
		if !x.headSeen {
			x.mu.Unlock()
			return protocolErrorf("body bytes before the response head")
		}
		x.rec.Body = append(x.rec.Body, f.Payload...)
		x.respBody += int64(len(f.Payload))
		if x.respBody > x.respCredit {
			x.mu.Unlock()
			return protocolErrorf("the plugin sent %d response body bytes with %d of credit", x.respBody, x.respCredit)
		}
		// Credit only once the window is used up: a plugin that sends
		// past it cannot have waited for credit, and is caught.
		grant := 0
		if x.respBody == x.respCredit {
			grant = protocol.Window
			x.respCredit += int64(grant)
		}
		x.mu.Unlock()
		if grant > 0 {
			_ = x.h.send(x.id, protocol.TypeCredit, protocol.AppendUint32(nil, uint32(grant)))
		}
		return nil
	case protocol.TypeEnd:
		var e protocol.End
		if err := protocol.DecodeEnd(f.Payload, &e); err != nil {
			return &ProtocolError{Err: err}
		}
		x.mu.Lock()
		if e.HasHead {
			if x.headSeen {
				x.mu.Unlock()
				return protocolErrorf("an End with a head after the head")
			}
			x.applyHead(&e.Head)
		} else if !x.headSeen {
			x.mu.Unlock()
			return protocolErrorf("an End without a head, before any head")
		}
		x.rec.Body = append(x.rec.Body, e.Data...)
		x.rec.Trailers = toStrings(e.Trailers)
		x.rec.Ended = true
		x.mu.Unlock()
		if e.WantFinished {
			// As hostd does once the response is on the client's socket.
			_ = x.h.send(x.id, protocol.TypeFinished, nil)
		}
		x.finish(nil)
		return nil
	case protocol.TypeReset:
		x.mu.Lock()
		x.rec.Reset, x.rec.ResetMessage = true, string(f.Payload)
		x.mu.Unlock()
		x.finish(nil)
		return nil
	case protocol.TypeSetTimeout:
		s, err := protocol.DecodeSetTimeout(f.Payload)
		if err != nil {
			return &ProtocolError{Err: err}
		}
		x.mu.Lock()
		x.rec.Timeouts = append(x.rec.Timeouts, time.Duration(s.Millis)*time.Millisecond)
		x.mu.Unlock()
		return nil
	}
	return protocolErrorf("a %v frame on a request stream", f.Type)
}

// applyHead records a response head; called with mu held.
func (x *Exchange) applyHead(h *protocol.ResponseHead) {
	x.headSeen = true
	x.rec.Status = int(h.Status)
	x.rec.StatusMessage = string(h.Reason)
	x.rec.Headers = headerFields(h.Fields)
	x.rec.wire.HeadFlags = h.Flags
	x.rec.wire.Length = h.Length
}

// headerFields converts a response head's fields, where a header's
// further values come with an empty name, to names and values with the
// name repeated.
func headerFields(b [][]byte) []string {
	out := toStrings(b)
	for i := 2; i < len(out); i += 2 {
		if out[i] == "" {
			out[i] = out[i-2]
		}
	}
	return out
}

func toStrings(b [][]byte) []string {
	if len(b) == 0 {
		return nil
	}
	out := make([]string, len(b))
	for i := range b {
		out[i] = string(b[i])
	}
	return out
}

// pumpBody sends the request body within the plugin's credit, then its
// end, until the exchange finishes; hostd stops sending the body once the
// response has ended, and so does the pump.
func (x *Exchange) pumpBody() {
	buf := make([]byte, protocol.MaxChunk)
	for {
		want, ok := x.takeCredit()
		if !ok {
			return
		}
		n, err := x.req.Body.Read(buf[:want])
		x.mu.Lock()
		x.credit += int64(want - n)
		x.sent += int64(n)
		finished := x.finished
		x.mu.Unlock()
		if finished {
			return
		}
		if n > 0 {
			if x.h.send(x.id, protocol.TypeReqBody, buf[:n]) != nil {
				return
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			frame, off := protocol.Begin(nil, x.id, protocol.TypeReqEnd)
			frame = protocol.Finish(protocol.AppendFields(frame, x.req.Trailers), off)
			_ = x.h.w.Write(frame)
			return
		case err != nil:
			// The client went away mid-body: hostd aborts the request.
			x.Abort()
			return
		}
	}
}

// takeCredit waits until the plugin accepts body bytes and returns how
// many may go now, or false once the exchange is over.
func (x *Exchange) takeCredit() (int, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for x.credit <= 0 && !x.finished {
		x.mu.Unlock()
		<-x.creditWake
		x.mu.Lock()
	}
	if x.finished {
		return 0, false
	}
	n := int(min(x.credit, protocol.MaxChunk))
	x.credit -= int64(n)
	return n, true
}
