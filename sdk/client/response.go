package client

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

// IncomingMessage is a response (Node's http.IncomingMessage on the
// client side). Trailers, TrailersDistinct and RawTrailers are filled
// when Body has been read to its end.
type IncomingMessage struct {
	StatusCode       int
	StatusMessage    string
	HTTPVersion      string
	HTTPVersionMajor int
	HTTPVersionMinor int
	// Headers follows Node's joining rules (joinDuplicateHeaders
	// included); HeadersDistinct has every value; RawHeaders is the flat
	// name, value list as received, casing kept.
	Headers          Headers
	HeadersDistinct  map[string][]string
	RawHeaders       []string
	Trailers         Headers
	TrailersDistinct map[string][]string
	RawTrailers      []string
	// Upgrade reports a 101 with Upgrade and Connection: upgrade fields.
	Upgrade bool
	// Body streams the body; Read returns io.EOF at its end, ErrAborted
	// (or the error given to Destroy) if it ends early, and an HPE_*
	// *Error for a malformed one. Close before the end discards the rest
	// with the connection.
	Body io.ReadCloser
	// Req is the request this response answers.
	Req *ClientRequest

	mu       sync.Mutex
	complete bool  // guarded by mu
	aborted  bool  // guarded by mu
	err      error // why the body ended early; guarded by mu
}

// Complete reports whether the whole body was received (message.complete).
func (m *IncomingMessage) Complete() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.complete }

// Aborted reports whether the body ended early (message.aborted).
func (m *IncomingMessage) Aborted() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.aborted }

// abort records that the body ends early with err; it reports false if
// the body had ended already.
func (m *IncomingMessage) abort(err error) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.complete || m.aborted {
		return false
	}
	m.aborted, m.err = true, err
	return true
}

func (m *IncomingMessage) abortErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// headInfo copies what outlives the read buffer out of a parsed head.
type headInfo struct {
	h     http1.Head // Fields and Reason cleared: they point into the buffer
	raw   []string
	major int
	minor int
	msg   string
}

// readHead reads one response head from s.
func (r *ClientRequest) readHead(s *Socket, p *http1.Parser) (*headInfo, error) {
	p.Reset()
	p.MaxHeaderSize = r.maxHeaderSize
	limit := headBuffer(r.maxHeaderSize)
	var h http1.Head
	for {
		err := p.ParseResponse(s.buf[s.r:s.w], &h)
		if err == nil {
			break
		}
		if err != http1.ErrNeedMore {
			return nil, parseError(err)
		}
		if ferr := s.fill(limit); ferr != nil {
			if errors.Is(ferr, io.EOF) || errors.Is(ferr, net.ErrClosed) {
				return nil, ErrSocketHangUp
			}
			if ferr == errBufferFull { // the parser refuses a head this long first
				return nil, parseError(http1.ErrHeaderOverflow)
			}
			return nil, netError(ferr)
		}
	}
	hi := &headInfo{raw: make([]string, 0, 2*len(h.Fields)), major: int(h.Major), minor: int(h.Minor), msg: string(h.Reason)}
	for _, f := range h.Fields {
		hi.raw = append(hi.raw, string(f.Name), string(f.Value))
	}
	s.r += h.Size
	h.Fields, h.Reason, h.Target = nil, nil, nil
	hi.h = h
	return hi, nil
}

func (r *ClientRequest) message(hi *headInfo) *IncomingMessage {
	return &IncomingMessage{
		StatusCode: hi.h.StatusCode, StatusMessage: hi.msg,
		HTTPVersion:      strconv.Itoa(hi.major) + "." + strconv.Itoa(hi.minor),
		HTTPVersionMajor: hi.major, HTTPVersionMinor: hi.minor,
		Headers:         httpspec.BuildHeaders(hi.raw, r.joinDuplicates, r.maxHeadersCount),
		HeadersDistinct: httpspec.BuildHeadersDistinct(hi.raw, r.maxHeadersCount),
		RawHeaders:      hi.raw,
		Upgrade:         hi.h.Upgrade,
		Req:             r,
	}
}

// readResponse reads heads until the final response (or a hand-over).
func (r *ClientRequest) readResponse(s *Socket) {
	var p http1.Parser
	for {
		hi, err := r.readHead(s, &p)
		if err != nil {
			r.fail(err)
			return
		}
		res := r.message(hi)
		code := hi.h.StatusCode
		switch {
		case r.method == "CONNECT":
			// Node hands over the connection for any answer to CONNECT.
			r.handOver(s, res, r.ev.OnConnect)
			return
		case code == 101:
			r.handOver(s, res, r.ev.OnUpgrade)
			return
		case code >= 100 && code < 200:
			info := &Information{StatusCode: code, StatusMessage: res.StatusMessage,
				HTTPVersion: res.HTTPVersion, HTTPVersionMajor: hi.major, HTTPVersionMinor: hi.minor,
				Headers: res.Headers, RawHeaders: hi.raw}
			if code == 100 {
				r.emit(func() {
					if r.ev.OnContinue != nil {
						r.ev.OnContinue()
					}
				})
			}
			r.emit(func() {
				if r.ev.OnInformation != nil {
					r.ev.OnInformation(info)
				}
			})
			continue
		}
		b := &body{r: r, res: res, s: s, h: hi.h, kind: hi.h.ResponseBody(r.method), remaining: hi.h.ContentLength}
		res.Body = b
		if b.kind == http1.BodyNone {
			// Complete before anyone can read it; the connection is
			// released after 'response'.
			b.end()
		}
		if r.electron(s, res, b) {
			return
		}
		r.mu.Lock()
		if r.stage != stageSocket || r.destroyed {
			r.mu.Unlock()
			return
		}
		r.res, r.stage = res, stageResponse
		flushing := r.flushing
		r.mu.Unlock()
		if flushing != nil {
			<-flushing
		}
		r.setResponse(res, nil)
		r.emit(func() {
			if r.ev.OnResponse != nil {
				r.ev.OnResponse(res)
			}
		})
		if b.kind == http1.BodyNone {
			r.responseDone(s, hi.h.KeepAlive && s.r == s.w, res.Headers.Get("keep-alive"))
		}
		return
	}
}

// handOver gives the connection to an upgrade or CONNECT callback with
// the bytes read past the head; without a callback the connection is
// closed, as Node does. Either way the agent forgets the connection.
func (r *ClientRequest) handOver(s *Socket, res *IncomingMessage, cb func(*IncomingMessage, net.Conn, []byte)) {
	r.mu.Lock()
	if r.stage != stageSocket || r.destroyed {
		r.mu.Unlock()
		return
	}
	r.destroyed = true
	r.mu.Unlock()
	head := append([]byte(nil), s.buf[s.r:s.w]...)
	s.r, s.w = 0, 0
	r.agent.detach(s)
	res.Body = noBody{}
	r.setResponse(res, nil)
	if cb == nil {
		s.Close()
	} else {
		r.emit(func() { cb(res, s, head) })
	}
	r.close(nil)
}

// body reads a response body from the connection, framed as its head
// says.
type body struct {
	r         *ClientRequest
	res       *IncomingMessage
	s         *Socket
	h         http1.Head
	kind      http1.BodyKind
	remaining int64
	dec       http1.ChunkedDecoder
	done      bool  // only the reader touches done and err
	err       error // what Read returns once done
}

const bodyBuffer = 64 << 10

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := b.res.abortErr(); err != nil {
		return 0, b.stop(err)
	}
	s := b.s
	for {
		switch b.kind {
		case http1.BodyNone:
			return 0, b.stop(io.EOF)
		case http1.BodyLength:
			if s.r < s.w {
				n := copy(p[:min(int64(len(p)), b.remaining)], s.buf[s.r:s.w])
				s.r += n
				b.remaining -= int64(n)
				if b.remaining == 0 {
					b.complete(b.h.KeepAlive)
				}
				return n, nil
			}
		case http1.BodyChunked:
			if s.r < s.w {
				consumed, data, err := b.dec.Decode(s.buf[s.r:s.w], len(p))
				s.r += consumed
				if err != nil {
					return 0, b.fail(parseError(err))
				}
				if len(data) > 0 {
					n := copy(p, data)
					if b.dec.Done() {
						b.complete(b.dec.KeepAlive(&b.h))
					}
					return n, nil
				}
				if b.dec.Done() {
					b.complete(b.dec.KeepAlive(&b.h))
					return 0, b.err
				}
				if consumed > 0 {
					continue
				}
			}
		case http1.BodyUntilClose:
			if s.r < s.w {
				n := copy(p, s.buf[s.r:s.w])
				s.r += n
				return n, nil
			}
		}
		if err := s.fill(bodyBuffer); err != nil {
			if aerr := b.res.abortErr(); aerr != nil {
				return 0, b.stop(aerr)
			}
			if b.kind == http1.BodyUntilClose && errors.Is(err, io.EOF) {
				b.complete(false)
				return 0, b.err
			}
			return 0, b.abort(err)
		}
	}
}

// stop ends reading with err.
func (b *body) stop(err error) error {
	b.done, b.err = true, err
	return err
}

// complete ends the body normally: trailers are filled, and the
// connection goes back to the agent if the exchange allows it.
func (b *body) complete(keepAlive bool) {
	if b.end() {
		b.r.responseDone(b.s, keepAlive && b.s.r == b.s.w, b.res.Headers.Get("keep-alive"))
	}
}

// end marks the body received, with its trailers; it reports false if
// the body had been aborted meanwhile.
func (b *body) end() bool {
	res := b.res
	if b.kind == http1.BodyChunked {
		for _, f := range b.dec.Trailers() {
			res.RawTrailers = append(res.RawTrailers, string(f.Name), string(f.Value))
		}
	}
	res.Trailers = httpspec.BuildHeaders(res.RawTrailers, b.r.joinDuplicates, b.r.maxHeadersCount)
	res.TrailersDistinct = httpspec.BuildHeadersDistinct(res.RawTrailers, b.r.maxHeadersCount)
	res.mu.Lock()
	if res.aborted {
		res.mu.Unlock()
		b.stop(res.err)
		return false
	}
	res.complete = true
	res.mu.Unlock()
	b.stop(io.EOF)
	return true
}

// abort ends the body early because the connection failed: 'aborted'
// with ECONNRESET "aborted".
func (b *body) abort(cause error) error {
	err := ErrAborted
	if !b.res.abort(err) {
		return b.stop(b.res.abortErr())
	}
	_ = cause // the connection's own error: Node reports "aborted" whatever it was
	b.r.bodyFailed(b.s, b.res, nil, err)
	return b.stop(err)
}

// fail ends the body with a parse error: 'error' on the request, then
// 'aborted'.
func (b *body) fail(err error) error {
	if !b.res.abort(ErrAborted) {
		return b.stop(b.res.abortErr())
	}
	b.r.bodyFailed(b.s, b.res, err, ErrAborted)
	return b.stop(err)
}

// Close discards the rest of an unfinished body with its connection, as
// res.destroy() does; after the end it does nothing.
func (b *body) Close() error {
	if b.done {
		return nil
	}
	b.res.mu.Lock()
	ended := b.res.complete || b.res.aborted
	b.res.mu.Unlock()
	if !ended {
		b.r.Destroy(nil)
	}
	b.stop(errBodyClosed)
	return nil
}

// bodyFailed reports a body that ended early. reqErr, when set, is
// reported on the request first.
func (r *ClientRequest) bodyFailed(s *Socket, res *IncomingMessage, reqErr, resErr error) {
	r.mu.Lock()
	if r.stage == stageDone {
		r.mu.Unlock()
		return
	}
	r.destroyed = true
	r.mu.Unlock()
	r.agent.remove(s)
	if reqErr != nil {
		r.emitError(reqErr)
	}
	r.emit(func() {
		if r.ev.OnAborted != nil {
			r.ev.OnAborted(res, resErr)
		}
	})
	r.close(resErr)
}

// responseDone is the normal end of the response: the connection goes
// back to the agent once the request is written too, then 'close'.
func (r *ClientRequest) responseDone(s *Socket, keepAlive bool, hint string) {
	r.mu.Lock()
	if r.stage == stageDone || r.destroyed {
		r.mu.Unlock()
		return
	}
	if r.ended && !r.finished {
		// End is still writing: the connection is released when it is done.
		r.afterFinish = func() { r.releaseAndClose(s, keepAlive, hint) }
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.releaseAndClose(s, keepAlive, hint)
}

func (r *ClientRequest) releaseAndClose(s *Socket, keepAlive bool, hint string) {
	r.mu.Lock()
	// The message's Last also marks a request without framing (a GET
	// without a body): harmless when no body byte went out unframed.
	conn, _ := r.msg.Header.First("connection")
	reusable := keepAlive && r.msg.KeepAlive && (!r.msg.Last() || r.msg.Written() == 0) &&
		!outgoing.ContainsWord(conn, "close") && r.finished && !r.destroyed
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.mu.Unlock()
	r.agent.release(s, reusable, hint)
	r.close(nil)
}

// noBody is the body of a response whose connection was handed over.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Close() error             { return nil }
