package pluginhost

import (
	"io"
	"sync"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

var pumpBufs = sync.Pool{New: func() any { b := make([]byte, protocol.MaxChunk); return &b }}

// pump sends what r yields as frames of type t, never more than the
// plugin has credited, so that a slow plugin slows the client it reads
// from. It returns r's error (io.EOF at its end), or nil when the stream
// ended or stopped first.
func (st *stream) pump(r io.Reader, t protocol.Type) error {
	bp := pumpBufs.Get().(*[]byte)
	defer pumpBufs.Put(bp)
	frame := make([]byte, 0, protocol.HeaderSize+protocol.MaxChunk)
	for {
		want, err := st.takeCredit(protocol.MaxChunk)
		if err != nil {
			return nil
		}
		n, rerr := r.Read((*bp)[:want])
		st.mu.Lock()
		st.credit += want - n // what the read did not use goes back
		stop := st.pumpStopped
		st.mu.Unlock()
		if stop {
			return nil
		}
		if n > 0 {
			frame = protocol.AppendHeader(frame[:0], st.id, t, n)
			frame = append(frame, (*bp)[:n]...)
			if st.in.w.Write(frame) != nil {
				return nil
			}
		}
		if rerr != nil {
			return rerr
		}
	}
}

// pumpBody sends the request body to the plugin as it arrives, then its
// end and trailers. A read error means the client went away or sent a
// malformed chunk: the server aborts the request, which reaches the plugin
// as an Abort.
func (st *stream) pumpBody(req *server.IncomingMessage) {
	defer close(st.pumpDone)
	if st.pump(req, protocol.TypeReqBody) == io.EOF {
		frame, off := protocol.Begin(nil, st.id, protocol.TypeReqEnd)
		frame = protocol.AppendFields(frame, req.RawTrailers())
		_ = st.in.w.Write(protocol.Finish(frame, off))
	}
}

// stopPump stops the pump once the response has ended.
func (st *stream) stopPump() {
	st.mu.Lock()
	st.pumpStopped = true
	st.mu.Unlock()
	signal(st.creditWake)
}
