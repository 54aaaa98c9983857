package pluginhost

import (
	"errors"
	"io"
	"time"
	"unsafe"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/protocol"
)

// inlineBody: a request body of at most this many bytes, with a known
// length and no Expect, travels in the request's frame when all of it has
// arrived with the head. One still on its way streams, as a larger one
// does: the plugin sees the request at once, as a Node handler does.
const inlineBody = 16 << 10

var errTimeout = errors.New("pluginhost: the plugin did not answer in time")

// ServeHTTP hands a request-like event to the plugin and writes its
// answer to res. It releases the slot Acquire reserved.
func (in *Instance) ServeHTTP(event protocol.Event, req *server.IncomingMessage, res *server.ServerResponse) {
	in.metrics.Begin()
	defer in.metrics.End()
	st := in.open()
	defer in.close(st)
	defer st.releaseSlot() // the reader may release it first: see applyEnd
	req.SetAbortHook(st.onAbort)
	defer req.SetAbortHook(nil) // before the stream goes back to the pool
	var timer *time.Timer
	if d := in.spec.RequestTimeout; d > 0 {
		// The timer may fire as the stream goes back to the pool: it fails
		// the stream only while it still serves this request.
		id := st.id
		timer = time.AfterFunc(d, func() { st.failIf(in, id, errTimeout) })
		defer timer.Stop()
	}

	st.mu.Lock()
	st.res = res // before the request leaves: the reader may apply its End
	st.mu.Unlock()
	h := req.Head()
	rh := st.requestHead(event, req)
	awaitCredit := event == protocol.EventCheckContinue || h.Get("expect") != nil
	switch kind := h.RequestBody(); {
	case kind == http1.BodyNone:
	case kind == http1.BodyLength && h.ContentLength <= inlineBody && !awaitCredit && int64(req.Buffered()) == h.ContentLength:
		if cap(st.body) < int(h.ContentLength) {
			st.body = make([]byte, inlineBody)
		}
		if _, err := io.ReadFull(req, st.body[:h.ContentLength]); err != nil {
			return // the client went away; the connection is closing
		}
		rh.Data = st.body[:h.ContentLength]
	default:
		rh.Flags |= protocol.ReqBodyFollows
		if awaitCredit {
			// The client waits for "100 Continue", which reading the body
			// sends: read only once the plugin asks for the body.
			rh.Flags |= protocol.ReqAwaitCredit
			st.mu.Lock()
			st.credit = 0 // the stream is registered: a Credit frame may race this
			st.mu.Unlock()
		}
	}
	frame, off := protocol.Begin(st.frame[:0], st.id, protocol.TypeRequest)
	frame = protocol.Finish(protocol.AppendRequestHead(frame, &rh), off)
	st.frame = frame
	if in.metrics != nil {
		st.sent = time.Now()
	}
	if err := in.w.Write(frame); err != nil {
		st.fail(errPluginGone)
	}
	if rh.Flags&protocol.ReqBodyFollows != 0 {
		st.pumpDone = make(chan struct{})
		go st.pumpBody(req)
	}

	if !in.relayResponse(st, res) {
		// Answer a failed stream at once: the client may be waiting to
		// send the rest of its body until it hears from us.
		st.mu.Lock()
		err := st.err
		st.mu.Unlock()
		in.failed(st, res, err)
	}
	if st.pumpDone != nil {
		st.stopPump()
		select {
		case <-st.pumpDone:
		default:
			// The pump is reading a slow client's body: let the client
			// have the answer before waiting for that read.
			_ = res.Flush()
			<-st.pumpDone
		}
	}
}

// relayResponse applies the plugin's frames to res until the response
// ends (true) or the stream fails (false).
func (in *Instance) relayResponse(st *stream, res *server.ServerResponse) bool {
	for first := true; ; first = false {
		batch, err := st.next()
		if err == errAnswered {
			if err := st.answerErr; err != nil {
				in.log.Error("plugin sent a bad response frame", "type", protocol.TypeEnd, "error", err)
				st.fail(err)
				return false
			}
			return true
		}
		if err != nil {
			return false
		}
		if first && in.metrics != nil {
			in.metrics.Hop(time.Since(st.sent))
		}
		for len(batch) > 0 {
			t, p, rest := record(batch)
			batch = rest
			done, err := in.apply(st, res, t, p)
			if err != nil {
				in.log.Error("plugin sent a bad response frame", "type", t, "error", err)
				st.fail(err)
				return false
			}
			if done {
				return true
			}
		}
	}
}

// apply replays one frame of the plugin on res.
func (in *Instance) apply(st *stream, res *server.ServerResponse, t protocol.Type, p []byte) (done bool, err error) {
	switch t {
	case protocol.TypeHead:
		if err := protocol.DecodeResponseHead(p, &st.head); err != nil {
			return false, err
		}
		if err := res.ApplyHead(st.serverHead(&st.head, -1)); err != nil {
			return false, err
		}
		if st.head.Flags&protocol.HeadFlush != 0 {
			return false, ignoreGone(res.FlushHeaders())
		}
	case protocol.TypeInfo:
		if err := protocol.DecodeInfo(p, &st.info); err != nil {
			return false, err
		}
		if s := st.info.Status; s != 100 && s != 102 && s != 103 {
			return false, errInfoStatus
		}
		return false, ignoreGone(writeInfo(res, &st.info))
	case protocol.TypeBody:
		if _, err := res.Write(p); err != nil {
			return false, ignoreGone(err)
		}
		st.unacked += len(p)
		if st.unacked >= protocol.Window/4 {
			_ = st.send(protocol.TypeCredit, protocol.AppendUint32(nil, uint32(st.unacked)))
			st.unacked = 0
		}
	case protocol.TypeEnd:
		e := &st.end
		if err := protocol.DecodeEnd(p, e); err != nil {
			return false, err
		}
		if e.HasHead {
			if err := res.ApplyHead(st.serverHead(&e.Head, len(e.Data))); err != nil {
				return false, err
			}
		}
		if len(e.Trailers) > 0 {
			if err := res.AddTrailers(strs(e.Trailers)...); err != nil {
				return false, err
			}
		}
		if e.WantFinished {
			in.tellFinished(st.id, res)
		}
		return true, ignoreGone(res.End(e.Data))
	case protocol.TypeReset:
		in.log.Error("handler failed", "message", string(p))
		if res.HeadersSent() {
			res.Destroy()
		} else {
			PlainAnswer(res, 500)
		}
		return true, nil
	case protocol.TypeSetTimeout:
		s, err := protocol.DecodeSetTimeout(p)
		if err != nil {
			return false, err
		}
		st.timeoutHeard.Store(s.Callback)
		st.timeoutHeardReq.Store(s.RequestCallback)
		var f func()
		if (s.Callback || s.RequestCallback) && !st.timeoutSet {
			st.timeoutSet = true // once: the engine keeps every callback
			req, in, id := res.Req(), st.in, st.id
			f = func() { st.timeout(in, id, req, res) }
		}
		res.SetTimeout(time.Duration(s.Millis)*time.Millisecond, f)
	default:
		return false, errors.New("unexpected frame " + t.String())
	}
	return false, nil
}

// ignoreGone drops the errors of writing to a client that is gone: the
// stream learns it from OnAborted.
func ignoreGone(err error) error {
	if err == nil {
		return nil
	}
	var he *httpspec.Error
	if !errors.As(err, &he) || he.Code == httpspec.CodeStreamDestroyed {
		return nil
	}
	return err
}

// tellFinished tells the plugin, once the response is done, whether it
// reached the client's socket (Finished) or not (Abort), as its End asked.
func (in *Instance) tellFinished(id uint32, res *server.ServerResponse) {
	res.OnClose(func() {
		t := protocol.TypeAbort
		if res.WritableFinished() {
			t = protocol.TypeFinished
		}
		_ = in.w.Write(protocol.AppendHeader(nil, id, t, 0))
	})
}

// timeout tells the plugin its SetTimeout passed, when one of its
// callbacks hears it: a response's always, a request's only while the
// request is still arriving. Otherwise the socket is destroyed, as Node
// destroys it when no listener hears the timeout.
func (st *stream) timeout(in *Instance, id uint32, req *server.IncomingMessage, res *server.ServerResponse) {
	// The sweeper may call this as the exchange ends and the stream goes
	// back to the pool: it acts only while the stream serves this request.
	st.mu.Lock()
	serves := st.serves(in, id)
	st.mu.Unlock()
	if !serves {
		return
	}
	if !st.timeoutHeard.Load() && !(st.timeoutHeardReq.Load() && !req.Received()) {
		res.Destroy()
		return
	}
	_ = in.w.Write(protocol.AppendHeader(nil, id, protocol.TypeTimeout, 0))
}

// serverHead views a plugin's response head as the engine's, without
// copies: the strings alias the stream's batch buffer, and ApplyHead
// keeps none of them. An implicit head that comes with the whole body in
// an End frame (end bytes of it, else -1) declares its length, as Node's
// end(data) does.
func (st *stream) serverHead(h *protocol.ResponseHead, end int) server.Head {
	st.hfields = st.hfields[:0]
	for _, f := range h.Fields {
		st.hfields = append(st.hfields, str(f))
	}
	length := h.Length
	if end >= 0 && length < 0 && h.Flags&protocol.HeadExplicit == 0 {
		length = int64(end)
	}
	return server.Head{
		Status:                  int(h.Status),
		Reason:                  str(h.Reason),
		Fields:                  st.hfields,
		Length:                  length,
		NoDate:                  h.Flags&protocol.HeadNoDate != 0,
		Strict:                  h.Flags&protocol.HeadStrict != 0,
		RemovedConnection:       h.Flags&protocol.HeadRemovedConnection != 0,
		RemovedContentLength:    h.Flags&protocol.HeadRemovedContentLength != 0,
		RemovedTransferEncoding: h.Flags&protocol.HeadRemovedTransferEncoding != 0,
	}
}

// writeInfo writes a 1xx response.
func writeInfo(res *server.ServerResponse, i *protocol.Info) error {
	switch i.Status {
	case 100:
		// The plugin's first read may have made the engine send it
		// already: the client gets one.
		if res.ContinueSent() {
			return nil
		}
		return res.WriteContinue()
	case 102:
		return res.WriteProcessing()
	default: // 103
		return res.WriteEarlyHints(strs(i.Fields)...)
	}
}

// errInfoStatus refuses an Info frame whose status the host does not
// relay: 101 belongs to upgrades, and 1xx codes without a meaning are not
// sent.
var errInfoStatus = errors.New("pluginhost: an informational status other than 100, 102 or 103")

// failed answers for a stream that ended without a response.
func (in *Instance) failed(st *stream, res *server.ServerResponse, err error) {
	switch {
	case errors.Is(err, errClientGone):
		_ = st.send(protocol.TypeAbort, nil)
		return
	case errors.Is(err, errTimeout):
		_ = st.send(protocol.TypeAbort, nil)
		in.log.Warn("request timed out", "timeout", in.spec.RequestTimeout)
		answerOrClose(res, 504)
	default:
		_ = st.send(protocol.TypeAbort, nil)
		in.log.Error("request failed: no answer from the plugin", "error", err)
		answerOrClose(res, 502)
	}
}

// answerOrClose answers with code if nothing was written yet, or closes
// the connection, whose response cannot be completed.
func answerOrClose(res *server.ServerResponse, code int) {
	if res.HeadersSent() {
		res.Destroy()
		return
	}
	PlainAnswer(res, code)
}

// PlainAnswer writes one of the host's own short plain-text answers, such
// as 404, 502 or 503, with extra headers (names and values alternating).
// Headers a plugin had set on res are dropped first.
func PlainAnswer(res *server.ServerResponse, code int, headers ...string) {
	for _, name := range res.GetHeaderNames() {
		_ = res.RemoveHeader(name)
	}
	res.StatusCode, res.StatusMessage = code, ""
	for i := 0; i+1 < len(headers); i += 2 {
		_ = res.SetHeader(headers[i], headers[i+1])
	}
	_ = res.SetHeader("Content-Type", "text/plain; charset=utf-8")
	_ = res.EndString(httpspec.StatusText(code) + "\n")
}

// requestHead describes req for the plugin. Its slices view req's buffer
// and the stream's scratch: it is encoded at once.
func (st *stream) requestHead(event protocol.Event, req *server.IncomingMessage) protocol.RequestHead {
	h := req.Head()
	st.fields = appendFields(st.fields[:0], req.RawFields())
	st.addrs = req.AppendRemoteAddress(st.addrs[:0])
	remote := len(st.addrs)
	st.addrs = req.AppendLocalAddress(st.addrs)
	var flags uint8
	if req.Encrypted() {
		flags = protocol.ReqEncrypted
	}
	return protocol.RequestHead{
		Event:      event,
		Flags:      flags,
		Major:      h.Major,
		Minor:      h.Minor,
		Method:     bytesOf(h.Method),
		URL:        h.Target,
		Fields:     st.fields,
		RemoteAddr: st.addrs[:remote],
		LocalAddr:  st.addrs[remote:],
	}
}

func appendFields(dst [][]byte, fields []http1.Field) [][]byte {
	for _, f := range fields {
		dst = append(dst, f.Name, f.Value)
	}
	return dst
}

// str views b as a string without copying; b must not change while the
// string is in use.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// bytesOf views s as bytes without copying, for encoding only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// strs converts a field list to strings (copies: they may outlive the
// frame).
func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i := range b {
		out[i] = string(b[i])
	}
	return out
}
