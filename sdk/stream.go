package sdk

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hostd/hostd/protocol"
)

// stream is the plugin's side of one event. The data-plane goroutine
// delivers frames to it; the handler's goroutine reads the body and
// writes the response.
type stream struct {
	rt      *runtime
	id      uint32
	payload []byte // a copy of the Request frame's payload, which head points into
	head    protocol.RequestHead
	fd      int // the client's socket, for upgrade and CONNECT with ReqSocketFD

	mu sync.Mutex
	// bodyWake (body bytes, end or abort arrived) and sendWake (credit or
	// abort arrived) are made, under mu, by the first goroutine that
	// waits; most streams never wait.
	bodyWake  chan struct{}
	sendWake  chan struct{}
	body      []byte // request body received and not yet read: body[bodyOff:]
	bodyOff   int
	bodyDone  bool
	trailers  [][]byte
	aborted   bool
	onAbort   []func()
	onClose   []func() // the request's close listeners (Request.OnClose)
	ackWanted bool     // the End asked hostd for Finished: the stream waits for it
	over      bool     // the exchange is over: delivered, ended unacknowledged, or aborted
	ctx       context.Context
	cancel    context.CancelFunc
	streamed  bool // body bytes arrive in frames under flow control: credit them back as read
	unacked   int  // body bytes read and not yet credited back to the host
	credit    int  // response body bytes the host will still accept
	asked     bool // the first read sent the credit an awaiting host waits for
	ended     bool
	onTimeout []func()
	// onReqTimeout: Request.SetTimeout's callbacks, which hear a timeout
	// only while the request body is still arriving.
	onReqTimeout []func()
	sock         *relayConn

	fields [][]byte // field list scratch for encoding; guarded by res.mu

	// Storage inside the stream for what a small request needs, so that
	// it costs one allocation rather than several.
	inlinePayload [512]byte
	inlineHead    [24][]byte
	inlineFields  [16][]byte

	req Request
	res Response
}

func newStream(rt *runtime, id uint32, payload []byte) *stream {
	st := &stream{rt: rt, id: id, fd: -1, credit: protocol.Window}
	if len(payload) <= len(st.inlinePayload) {
		st.payload = append(st.inlinePayload[:0], payload...)
	} else {
		st.payload = append([]byte(nil), payload...)
	}
	st.head.Fields = st.inlineHead[:0]
	st.fields = st.inlineFields[:0]
	st.req.st = st
	st.res.st = st
	return st
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// deliver applies a frame from the host.
func (st *stream) deliver(f protocol.Frame) error {
	switch f.Type {
	case protocol.TypeReqBody:
		st.mu.Lock()
		st.appendBody(f.Payload)
		st.mu.Unlock()
		st.wakeBody()
	case protocol.TypeReqEnd:
		tr, err := copyFields(f.Payload)
		if err != nil {
			return err
		}
		st.mu.Lock()
		st.bodyDone, st.trailers = true, tr
		st.mu.Unlock()
		st.wakeBody()
	case protocol.TypeAbort:
		st.abort()
	case protocol.TypeFinished:
		go st.delivered()
	case protocol.TypeCredit:
		n, err := protocol.DecodeUint32(f.Payload)
		if err != nil {
			return err
		}
		st.mu.Lock()
		st.credit += int(n)
		st.mu.Unlock()
		st.wakeSend()
	case protocol.TypeTimeout:
		st.mu.Lock()
		var fs []func()
		if !st.bodyDone { // as Node emits the request's timeout first
			fs = append(fs, st.onReqTimeout...)
		}
		fs = append(fs, st.onTimeout...)
		st.mu.Unlock()
		for _, fn := range fs {
			go fn()
		}
	case protocol.TypeSockData, protocol.TypeSockEnd, protocol.TypeSockClose:
		st.mu.Lock()
		sock := st.sock
		st.mu.Unlock()
		if sock != nil {
			sock.deliver(f)
		}
	default:
		return protocol.ErrFrame
	}
	return nil
}

// appendBody queues body bytes for the reader; called with mu held. Bytes
// already read are reclaimed before the buffer grows, so that it holds
// about what the host may send unread (the window), not the whole body.
func (st *stream) appendBody(p []byte) {
	if st.bodyOff > 0 && len(st.body)+len(p) > cap(st.body) {
		n := copy(st.body, st.body[st.bodyOff:])
		st.body, st.bodyOff = st.body[:n], 0
	}
	st.body = append(st.body, p...)
}

// copyFields decodes a field list into a private copy.
func copyFields(p []byte) ([][]byte, error) {
	fields, err := protocol.DecodeFields(p)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, len(p))
	out := make([][]byte, len(fields))
	for i, f := range fields {
		start := len(buf)
		buf = append(buf, f...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out, nil
}

// abort marks the stream aborted: the client went away, or hostd gave up.
func (st *stream) abort() {
	st.mu.Lock()
	if st.aborted {
		st.mu.Unlock()
		return
	}
	st.aborted = true
	fs := st.onAbort
	st.onAbort = nil
	cancel := st.cancel
	sock := st.sock
	st.mu.Unlock()
	st.wakeBody()
	st.wakeSend()
	if cancel != nil {
		cancel()
	}
	if sock != nil {
		sock.closeFromHost()
	}
	for _, f := range fs {
		go f()
	}
	go func() {
		st.res.raiseClose()
		st.end()
	}()
	st.rt.forget(st)
}

// delivered runs the listeners of an exchange whose response hostd has
// written to the client's socket, and forgets the stream.
func (st *stream) delivered() {
	st.res.delivered()
	st.end()
	st.rt.forget(st)
}

// end ends the exchange for the request: its context is canceled and its
// close listeners run, once.
func (st *stream) end() {
	st.mu.Lock()
	if st.over {
		st.mu.Unlock()
		return
	}
	st.over = true
	fs := st.onClose
	st.onClose = nil
	cancel := st.cancel
	st.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	for _, f := range fs {
		f()
	}
}

// listened reports whether anything waits for the end of the exchange:
// then the response asks hostd to say when it reached the client.
func (st *stream) listened() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.onClose) > 0 || st.ctx != nil
}

// context returns the stream's context, made on first use.
func (st *stream) context() context.Context {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ctx == nil {
		st.ctx, st.cancel = context.WithCancel(context.Background())
		if st.aborted {
			st.cancel()
		}
	}
	return st.ctx
}

// readBody reads request body bytes, waiting for them.
func (st *stream) readBody(p []byte) (int, error) { return st.readBodyUntil(p, nil) }

// readBodyUntil is readBody with a deadline, which deadline returns each
// time the read waits, so that a deadline set meanwhile applies (nil or
// the zero time: none).
func (st *stream) readBodyUntil(p []byte, deadline func() time.Time) (int, error) {
	st.mu.Lock()
	if st.head.Flags&protocol.ReqAwaitCredit != 0 && !st.asked {
		st.asked = true
		st.mu.Unlock()
		_ = st.send(protocol.TypeCredit, protocol.AppendUint32(nil, protocol.Window))
		st.mu.Lock()
	}
	for st.bodyOff == len(st.body) && !st.bodyDone && !st.aborted && !st.ended {
		ch := st.bodyChan()
		st.mu.Unlock()
		if err := wait(ch, deadline); err != nil {
			return 0, err
		}
		st.mu.Lock()
	}
	if st.bodyOff < len(st.body) {
		n := copy(p, st.body[st.bodyOff:])
		st.bodyOff += n
		grant := 0
		if st.streamed {
			st.unacked += n
		}
		if st.unacked >= protocol.Window/4 && !st.aborted && !st.ended {
			grant, st.unacked = st.unacked, 0
		}
		st.mu.Unlock()
		if grant > 0 {
			_ = st.send(protocol.TypeCredit, protocol.AppendUint32(nil, uint32(grant)))
		}
		return n, nil
	}
	aborted, done := st.aborted, st.bodyDone
	st.mu.Unlock()
	switch {
	case aborted:
		return 0, ErrAborted
	case done:
		return 0, io.EOF
	}
	// The response ended first: hostd sends no more of the body.
	return 0, io.ErrUnexpectedEOF
}

// takeCredit waits until hostd accepts body bytes and returns how many of
// want may be sent now.
func (st *stream) takeCredit(want int) (int, error) { return st.takeCreditUntil(want, nil) }

// takeCreditUntil is takeCredit with a deadline, as readBodyUntil has.
func (st *stream) takeCreditUntil(want int, deadline func() time.Time) (int, error) {
	st.mu.Lock()
	for st.credit <= 0 && !st.aborted {
		ch := st.sendChan()
		st.mu.Unlock()
		if err := wait(ch, deadline); err != nil {
			return 0, err
		}
		st.mu.Lock()
	}
	defer st.mu.Unlock()
	if st.aborted {
		return 0, ErrAborted
	}
	n := min(want, st.credit, protocol.MaxChunk)
	st.credit -= n
	return n, nil
}

// wait waits for a signal on c, or until the deadline passes.
func wait(c chan struct{}, deadline func() time.Time) error {
	var dl time.Time
	if deadline != nil {
		dl = deadline()
	}
	if dl.IsZero() {
		<-c
		return nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// errTooLarge refuses a frame larger than protocol.MaxFrame, which hostd
// would take for a broken data plane and close, failing every request of
// the plugin. Only a head, 1xx or trailers can be that large.
var errTooLarge = errors.New("sdk: response head or trailers too large for one frame of the data plane (1 MiB)")

// maxResetMessage bounds the message of a Reset frame.
const maxResetMessage = 4 << 10

// send writes one frame with payload p.
func (st *stream) send(t protocol.Type, p []byte) error {
	if 5+len(p) > protocol.MaxFrame {
		return errTooLarge
	}
	bp := frameBufs.Get().(*[]byte)
	frame := protocol.AppendHeader((*bp)[:0], st.id, t, len(p))
	frame = append(frame, p...)
	err := st.rt.w.Write(frame) // copies the frame
	putFrameBuf(bp, frame)
	return err
}

// sendFrame writes one frame whose payload enc appends, encoding in place.
func (st *stream) sendFrame(t protocol.Type, enc func([]byte) []byte) error {
	bp := frameBufs.Get().(*[]byte)
	frame, off := protocol.Begin((*bp)[:0], st.id, t)
	frame = protocol.Finish(enc(frame), off)
	var err error
	if len(frame)-off-4 > protocol.MaxFrame {
		err = errTooLarge
	} else {
		err = st.rt.w.Write(frame) // copies the frame
	}
	putFrameBuf(bp, frame)
	return err
}

// frameBufs holds encoding buffers, so that goroutines of a stream (a
// tunnel reads and writes on two) and streams in turn share few.
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func putFrameBuf(bp *[]byte, b []byte) {
	if cap(b) <= 2*protocol.MaxChunk {
		*bp = b[:0]
		frameBufs.Put(bp)
	}
}

// bodyChan returns the channel to wait on for body bytes; called with mu
// held.
func (st *stream) bodyChan() chan struct{} {
	if st.bodyWake == nil {
		st.bodyWake = make(chan struct{}, 1)
	}
	return st.bodyWake
}

// sendChan returns the channel to wait on for credit; called with mu
// held.
func (st *stream) sendChan() chan struct{} {
	if st.sendWake == nil {
		st.sendWake = make(chan struct{}, 1)
	}
	return st.sendWake
}

// wakeBody wakes a goroutine waiting for body bytes, if one waits. The
// state it waits on must have changed, under mu, before.
func (st *stream) wakeBody() {
	st.mu.Lock()
	ch := st.bodyWake
	st.mu.Unlock()
	if ch != nil {
		signal(ch)
	}
}

// wakeSend wakes a goroutine waiting for credit, if one waits.
func (st *stream) wakeSend() {
	st.mu.Lock()
	ch := st.sendWake
	st.mu.Unlock()
	if ch != nil {
		signal(ch)
	}
}

// finish records that the response ended. hostd then sends nothing more
// on the stream, not even the rest of the request body, which it stops
// sending: the stream is done, whether or not its body was.
func (st *stream) finish() {
	st.mu.Lock()
	st.ended = true
	relayed := st.sock != nil
	wait := st.ackWanted
	st.mu.Unlock()
	st.wakeBody() // a Read waiting for body that will not come
	if !relayed && !wait {
		st.end()
		st.rt.forget(st)
	}
}

// reset tells the host the handler failed.
func (st *stream) reset(msg string) {
	st.mu.Lock()
	ended := st.ended
	st.ended = true
	st.mu.Unlock()
	if !ended {
		_ = st.send(protocol.TypeReset, []byte(msg[:min(len(msg), maxResetMessage)]))
	}
	st.rt.forget(st)
}
