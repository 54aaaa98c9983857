package pluginhost

import (
	"errors"
	"time"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

// errHandlerSlow ends a timeout stream whose handler took longer than its
// limit.
var errHandlerSlow = errors.New("pluginhost: the timeout handler did not return in time")

// ServeTimeout tells the plugin that socket has been inactive (Node's
// server 'timeout' event) and relays what its handler writes. The socket
// stays open only if the handler returns without writing, ending or
// closing it, as a Node listener that does nothing leaves it; otherwise,
// and if the plugin fails or has not returned within limit (the
// inactivity that raised the event), it is destroyed: a broken or slow
// handler costs its own socket and nothing else. It releases the slot
// Acquire reserved. The caller runs it on a goroutine of its own, so that
// the engine's timeout event does not wait for the plugin.
func (in *Instance) ServeTimeout(socket *server.TimeoutSocket, limit time.Duration) {
	defer in.release()
	st := in.open()
	defer in.close(st)
	rh := protocol.RequestHead{
		Event:      protocol.EventTimeout,
		Flags:      protocol.ReqSocketRelay,
		RemoteAddr: []byte(socket.RemoteAddr().String()),
		LocalAddr:  []byte(socket.LocalAddr().String()),
	}
	if socket.HeadersSent() {
		rh.Flags |= protocol.ReqHeadersSent
	}
	frame, off := protocol.Begin(st.frame[:0], st.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	st.frame = frame
	if err := in.w.Write(frame); err != nil {
		socket.Close()
		return
	}
	id := st.id
	timer := time.AfterFunc(limit, func() { st.failIf(in, id, errHandlerSlow) })
	keep := in.relayTimeout(st, socket)
	timer.Stop()
	if !keep {
		socket.Close()
	}
}

// relayTimeout writes the timeout handler's bytes to the client until the
// handler returns or ends the socket, and reports whether the socket may
// stay open.
func (in *Instance) relayTimeout(st *stream, socket *server.TimeoutSocket) (keep bool) {
	wrote := false
	for {
		batch, err := st.next()
		if err != nil {
			// The plugin is gone, or slow: its socket is closed too.
			_ = st.send(protocol.TypeSockClose, nil)
			return false
		}
		for len(batch) > 0 {
			t, p, rest := record(batch)
			batch = rest
			switch t {
			case protocol.TypeSockData:
				switch _, err := socket.Write(p); {
				case errors.Is(err, server.ErrResponseBegun):
					// The response began after the event was raised: the
					// bytes are dropped, as ReqHeadersSent would have had
					// the plugin do, and the response goes on.
				case err != nil:
					_ = st.send(protocol.TypeSockClose, nil)
					return false
				default:
					wrote = true
				}
				st.unacked += len(p)
				if st.unacked >= protocol.Window/4 {
					_ = st.send(protocol.TypeCredit, protocol.AppendUint32(nil, uint32(st.unacked)))
					st.unacked = 0
				}
			case protocol.TypeEnd:
				// The handler returned and left the socket open; bytes it
				// wrote leave nothing an HTTP client could read after.
				return !wrote
			default: // TypeSockEnd, TypeSockClose, TypeReset (a panic)
				return false
			}
		}
	}
}
