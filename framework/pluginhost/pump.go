package pluginhost

import (
	"io"
	"sync"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

// pumpState is shared by a stream's pump and its serving goroutine,
// guarded by the stream's mu.
type pumpState struct {
	stop bool // the response ended: send nothing more
}

var pumpBufs = sync.Pool{New: func() any { b := make([]byte, protocol.MaxChunk); return &b }}

// pumpBody sends the request body to the plugin as it arrives, never more
// than the plugin has room for, so a slow plugin slows its client.
func (st *stream) pumpBody(req *server.IncomingMessage) {
	defer close(st.pumpDone)
	bp := pumpBufs.Get().(*[]byte)
	defer pumpBufs.Put(bp)
	frame := make([]byte, 0, protocol.HeaderSize+protocol.MaxChunk)
	for {
		want, err := st.takeCredit(protocol.MaxChunk)
		if err != nil {
			return
		}
		n, rerr := req.Read((*bp)[:want])
		st.mu.Lock()
		st.credit += want - n // what the read did not use goes back
		stop := st.pump.stop
		st.mu.Unlock()
		if stop {
			return
		}
		if n > 0 {
			frame = protocol.AppendHeader(frame[:0], st.id, protocol.TypeReqBody, n)
			frame = append(frame, (*bp)[:n]...)
			if st.in.w.Write(frame) != nil {
				return
			}
		}
		switch {
		case rerr == io.EOF:
			frame, off := protocol.Begin(frame[:0], st.id, protocol.TypeReqEnd)
			frame = protocol.AppendFields(frame, req.RawTrailers())
			_ = st.in.w.Write(protocol.Finish(frame, off))
			return
		case rerr != nil:
			// The client went away or sent a malformed chunk; the server
			// aborts the request, which reaches the plugin as an Abort.
			return
		}
	}
}

// stopPump stops the pump once the response has ended.
func (st *stream) stopPump() {
	st.mu.Lock()
	st.pump.stop = true
	st.mu.Unlock()
	signal(st.creditWake)
}
