package pluginhost

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

// maxInbox bounds what a stream queues from its plugin. A plugin that
// respects flow control never comes near it; one that does not is cut off.
const maxInbox = 2*protocol.Window + protocol.MaxFrame

var (
	errPluginGone   = errors.New("pluginhost: plugin process ended")
	errClientGone   = errors.New("pluginhost: client went away")
	errFlowControl  = errors.New("pluginhost: plugin ignored flow control")
	errStreamClosed = errors.New("pluginhost: stream closed")
)

// directEnd bounds the End frames the reader applies itself (see
// deliver): below the engine's writev threshold, applying one only fills
// the response's buffer, and TryFlush never waits for the client. The
// reader does so only with one stream in flight: under load, it would
// take on the writes of every connection, which their own goroutines
// share between the CPUs.
const directEnd = 4 << 10

// stream is the host's side of one event sent to a plugin. The instance's
// reader goroutine queues the plugin's frames in the inbox; the goroutine
// serving the request takes them in batches.
type stream struct {
	in *Instance
	id uint32

	mu         sync.Mutex
	wake       chan struct{} // inbox, failure or abort
	inbox      []byte        // records: type (1 byte), length (4 bytes), payload
	spare      []byte
	err        error // why the stream ended early: errPluginGone, errClientGone, ...
	credit     int   // request body bytes the plugin will still accept
	creditWake chan struct{}
	// res is the response the stream answers; waiting: its goroutine is
	// blocked in next() with nothing queued; direct: the reader is
	// applying an End frame itself; answered: it did, with answerErr.
	res       *server.ServerResponse
	slotHeld  bool // ServeHTTP: the request slot Acquire reserved is not yet released
	waiting   bool
	direct    bool
	answered  bool
	answerErr error

	frame    []byte   // encoding scratch, used by the serving goroutine
	fields   [][]byte // encoding scratch
	hfields  []string // decoding scratch: a head's fields as strings
	addrs    []byte   // encoding scratch: the two addresses
	body     []byte   // inline request body scratch
	head     protocol.ResponseHead
	end      protocol.End
	info     protocol.Info
	unacked  int       // response body bytes written to the client, not yet credited
	sent     time.Time // when the request frame left, for the hop metric
	onAbort  func()
	pumpDone chan struct{}
	// pumpStopped: the response ended, the pump sends nothing more.
	// Guarded by mu.
	pumpStopped bool
	// The plugin's SetTimeout callbacks: whether it has a response's and a
	// request's (read by the engine's timeout), and whether the engine has
	// the callback that tells it (serving goroutine only).
	timeoutHeard, timeoutHeardReq atomic.Bool
	timeoutSet                    bool
}

var streamPool = sync.Pool{New: func() any {
	st := &stream{wake: make(chan struct{}, 1), creditWake: make(chan struct{}, 1)}
	st.onAbort = st.clientGone
	return st
}}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// deliver queues a frame of in's plugin, unless the stream no longer
// serves it: the reader looks a stream up before delivering, and a stream
// that ends in between goes back to the pool, maybe to serve another
// request already. Called by the reader goroutine.
func (st *stream) deliver(in *Instance, f protocol.Frame) {
	st.mu.Lock()
	if !st.serves(in, f.Stream) {
		st.mu.Unlock()
		return
	}
	if f.Type == protocol.TypeCredit {
		if n, err := protocol.DecodeUint32(f.Payload); err == nil {
			st.credit += int(n)
		}
		st.mu.Unlock()
		signal(st.creditWake)
		return
	}
	if st.takesDirectEnd(in, f) {
		st.direct = true
		st.mu.Unlock()
		st.applyEnd(in, f.Payload)
		return
	}
	if st.err == nil {
		if len(st.inbox)+len(f.Payload) > maxInbox {
			st.err = errFlowControl
		} else {
			st.inbox = append(st.inbox, byte(f.Type))
			st.inbox = binary.BigEndian.AppendUint32(st.inbox, uint32(len(f.Payload)))
			st.inbox = append(st.inbox, f.Payload...)
		}
	}
	st.mu.Unlock()
	signal(st.wake)
}

// takesDirectEnd reports whether the reader applies f itself: a small
// End frame for a stream whose goroutine waits with nothing queued, when
// no other stream is in flight and no goroutine of the stream pumps a
// request body (it may be writing "100 Continue" to the client). Called
// with mu held.
func (st *stream) takesDirectEnd(in *Instance, f protocol.Frame) bool {
	return f.Type == protocol.TypeEnd && len(f.Payload) <= directEnd &&
		st.waiting && !st.direct && !st.answered && len(st.inbox) == 0 && st.err == nil &&
		st.pumpDone == nil && !in.busy()
}

// applyEnd applies a small End frame to the response on the reader's
// goroutine and writes it to the client as far as the socket takes it at
// once, then lets the stream's goroutine finish the exchange. The answer
// reaches the client without waiting for that goroutine to wake up. The
// stream's goroutine is blocked in next() meanwhile (direct is set).
func (st *stream) applyEnd(in *Instance, payload []byte) {
	if in.metrics != nil {
		in.metrics.Hop(time.Since(st.sent))
	}
	_, err := in.apply(st, st.res, protocol.TypeEnd, payload)
	if err == nil {
		// The plugin is done with the request: a client that sends the
		// next one as soon as it has this answer must find the slot free.
		st.releaseSlot()
		st.res.TryFlush()
	}
	st.mu.Lock()
	st.direct, st.answered, st.answerErr = false, true, err
	st.mu.Unlock()
	signal(st.wake)
}

// releaseSlot releases the instance's request slot the stream holds, once.
func (st *stream) releaseSlot() {
	st.mu.Lock()
	held := st.slotHeld
	st.slotHeld = false
	in := st.in
	st.mu.Unlock()
	if held {
		in.release()
	}
}

// serves reports whether st is stream id of in. Called with mu held.
func (st *stream) serves(in *Instance, id uint32) bool { return st.in == in && st.id == id }

// fail ends the stream early with err, waking its goroutines.
func (st *stream) fail(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	st.mu.Unlock()
	signal(st.wake)
	signal(st.creditWake)
}

// failIf is fail for a stream that may have ended and been reused since
// the caller found it: it fails st only while st is stream id of in.
func (st *stream) failIf(in *Instance, id uint32, err error) {
	st.mu.Lock()
	serves := st.serves(in, id)
	if serves && st.err == nil {
		st.err = err
	}
	st.mu.Unlock()
	if serves {
		signal(st.wake)
		signal(st.creditWake)
	}
}

// clientGone is the request's OnAborted callback.
func (st *stream) clientGone() { st.fail(errClientGone) }

// errAnswered: the reader applied the stream's End (applyEnd).
var errAnswered = errors.New("pluginhost: answered by the reader")

// next waits for frames and returns a batch of records (valid until the
// next call), or the error that ended the stream once nothing is queued:
// errAnswered when the reader applied the End itself.
func (st *stream) next() ([]byte, error) {
	st.mu.Lock()
	for st.direct || len(st.inbox) == 0 && st.err == nil && !st.answered {
		st.waiting = true
		st.mu.Unlock()
		<-st.wake
		st.mu.Lock()
	}
	st.waiting = false
	defer st.mu.Unlock()
	if st.answered {
		return nil, errAnswered
	}
	if len(st.inbox) == 0 {
		return nil, st.err
	}
	batch := st.inbox
	st.inbox, st.spare = st.spare[:0], batch
	return batch, nil
}

// record splits the first record off a batch.
func record(batch []byte) (t protocol.Type, payload, rest []byte) {
	n := binary.BigEndian.Uint32(batch[1:])
	return protocol.Type(batch[0]), batch[5 : 5+n], batch[5+n:]
}

// takeCredit waits until the plugin accepts body bytes; it returns how
// many of want may go now, or the stream's error.
func (st *stream) takeCredit(want int) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.credit <= 0 && st.err == nil && !st.pumpStopped {
		st.mu.Unlock()
		<-st.creditWake
		st.mu.Lock()
	}
	switch {
	case st.err != nil:
		return 0, st.err
	case st.pumpStopped:
		return 0, errStreamClosed
	}
	n := min(want, st.credit, protocol.MaxChunk)
	st.credit -= n
	return n, nil
}

// send writes one frame on the stream.
func (st *stream) send(t protocol.Type, payload []byte) error {
	st.frame = protocol.AppendHeader(st.frame[:0], st.id, t, len(payload))
	st.frame = append(st.frame, payload...)
	return st.in.w.Write(st.frame)
}

// reset prepares a pooled stream for a new id. The reader goroutine may
// still hold it from its previous use: what it checks is set under mu.
func (st *stream) reset(in *Instance, id uint32) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.in, st.id = in, id
	st.slotHeld = true
	st.inbox, st.spare = st.inbox[:0], st.spare[:0]
	st.err = nil
	st.waiting, st.direct, st.answered, st.answerErr = false, false, false, nil
	st.credit = protocol.Window
	st.unacked = 0
	st.pumpDone = nil
	st.pumpStopped = false
	st.timeoutHeard.Store(false)
	st.timeoutHeardReq.Store(false)
	st.timeoutSet = false
	select {
	case <-st.wake:
	default:
	}
	select {
	case <-st.creditWake:
	default:
	}
}
