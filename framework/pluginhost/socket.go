package pluginhost

import (
	"io"
	"net"
	"sync"

	"github.com/hostd/hostd/framework/metrics"
	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/protocol"
)

// ServeSocket hands an upgrade or CONNECT, and the client's socket, to the
// plugin. Where it can, it passes the descriptor and forgets the socket,
// so that tunnelled bytes never cross the host; otherwise it relays them
// until both sides are done. It releases the slot Acquire reserved.
func (in *Instance) ServeSocket(event protocol.Event, req *server.IncomingMessage, conn net.Conn, head []byte) {
	defer in.release()
	st := in.open()
	defer in.close(st)
	rh := st.requestHead(event, req)
	rh.Data = head
	fd := -1
	if !in.relay {
		fd = dupDescriptor(conn)
	}
	if fd >= 0 {
		rh.Flags |= protocol.ReqSocketFD
	} else {
		rh.Flags |= protocol.ReqSocketRelay
	}
	frame, off := protocol.Begin(st.frame[:0], st.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	st.frame = frame
	socks := in.metrics.Sockets(event)
	if fd >= 0 {
		// The Writer owns the copy from here; the host lets go of its own.
		_ = in.w.WriteFD(frame, fd)
		conn.Close()
		socks.Passed()
		return
	}
	if err := in.w.Write(frame); err != nil {
		conn.Close()
		return
	}
	socks.Relaying()
	socks.In(len(head)) // the bytes read past the request head
	defer socks.Closed()
	in.relaySocket(st, conn, socks)
}

// relaySocket copies bytes between the client and a plugin that takes its
// socket as frames, until both directions end or either side closes.
func (in *Instance) relaySocket(st *stream, conn net.Conn, socks *metrics.Sockets) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var r io.Reader = conn
		if socks != nil {
			r = &countingReader{r: conn, socks: socks}
		}
		in.relayFromClient(st, r)
	}()
	in.relayToClient(st, conn, socks)
	conn.Close()
	st.fail(errStreamClosed)
	wg.Wait()
}

// relayFromClient sends what the client writes as SockData, within the
// plugin's credit; the client's end of file becomes SockEnd.
func (in *Instance) relayFromClient(st *stream, conn io.Reader) {
	// Frames are encoded here, not with st.send, whose buffer
	// relayToClient uses meanwhile.
	err := st.pump(conn, protocol.TypeSockData)
	switch {
	case err == io.EOF:
		_ = in.w.Write(protocol.AppendHeader(nil, st.id, protocol.TypeSockEnd, 0))
	case err != nil:
		_ = in.w.Write(protocol.AppendHeader(nil, st.id, protocol.TypeSockClose, 0))
		st.fail(errClientGone)
	}
}

// countingReader counts the bytes relayed from the client.
type countingReader struct {
	r     io.Reader
	socks *metrics.Sockets
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.socks.In(n)
	return n, err
}

// relayToClient writes the plugin's SockData to the client until the
// plugin closes the socket or the stream fails; socks, when not nil,
// counts the bytes.
func (in *Instance) relayToClient(st *stream, conn net.Conn, socks *metrics.Sockets) {
	for {
		batch, err := st.next()
		if err != nil {
			return
		}
		for len(batch) > 0 {
			t, p, rest := record(batch)
			batch = rest
			switch t {
			case protocol.TypeSockData:
				if _, err := conn.Write(p); err != nil {
					_ = st.send(protocol.TypeSockClose, nil)
					return
				}
				socks.Out(len(p))
				st.unacked += len(p)
				if st.unacked >= protocol.Window/4 {
					_ = st.send(protocol.TypeCredit, protocol.AppendUint32(nil, uint32(st.unacked)))
					st.unacked = 0
				}
			case protocol.TypeSockEnd:
				if cw, ok := conn.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			case protocol.TypeSockClose:
				return
			}
		}
	}
}

// ServeClientError hands a client error to the plugin, which may write an
// answer on the socket; the server closes it afterwards.
func (in *Instance) ServeClientError(ce *server.ClientError, conn net.Conn) {
	defer in.release()
	st := in.open()
	defer in.close(st)
	rh := protocol.RequestHead{
		Event:       protocol.EventClientError,
		Flags:       protocol.ReqSocketRelay,
		RemoteAddr:  []byte(conn.RemoteAddr().String()),
		LocalAddr:   []byte(conn.LocalAddr().String()),
		Data:        ce.RawPacket,
		ErrCode:     []byte(ce.Code),
		BytesParsed: uint32(ce.BytesParsed),
	}
	if ce.HeadersSent {
		// The engine's socket refuses writes then; this tells the plugin.
		rh.Flags |= protocol.ReqHeadersSent
	}
	frame, off := protocol.Begin(st.frame[:0], st.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	st.frame = frame
	if err := in.w.Write(frame); err != nil {
		return
	}
	in.relayToClient(st, conn, nil)
}
