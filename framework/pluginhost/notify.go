package pluginhost

import (
	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

// Notify tells the plugin of an event it hears but does not answer, such
// as dropRequest: it sends the request head and returns without waiting,
// and what the plugin may send back on the stream is dropped. It releases
// the slot Acquire reserved.
func (in *Instance) Notify(event protocol.Event, req *server.IncomingMessage) {
	defer in.release()
	st := in.open()
	defer in.close(st)
	rh := st.requestHead(event, req)
	frame, off := protocol.Begin(st.frame[:0], st.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	st.frame = frame
	_ = in.w.Write(frame) // a plugin that is gone has nothing to hear
}
