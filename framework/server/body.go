package server

import (
	"io"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/httpspec"
)

// ErrAborted is what reading a request body returns when the client closed
// the connection before sending all of it (Node: ECONNRESET "aborted").
var ErrAborted = &httpspec.Error{Code: httpspec.CodeConnectionReset, Message: "aborted"}

// directReadMin: a body read at least this large, with nothing buffered,
// goes straight from the socket into the caller's slice.
const directReadMin = 2 << 10

// body is the request body's reading state.
type body struct {
	kind      http1.BodyKind
	remaining int64 // BodyLength: bytes still to read
	done      bool
	err       error
	// expectContinue: the client waits for "100 Continue" before sending
	// the body, which the first Read sends unless a response began.
	expectContinue bool
}

// startBody sets up the body of the request just dispatched.
func (m *IncomingMessage) startBody() {
	b := &m.body
	*b = body{kind: m.head.RequestBody()}
	switch b.kind {
	case http1.BodyLength:
		b.remaining = m.head.ContentLength
	case http1.BodyChunked:
		m.ex.chunked.Reset()
		m.ex.chunked.MaxHeaderSize = m.c.srv.cfg.MaxHeaderSize
	default:
		m.finishBody()
	}
}

func (m *IncomingMessage) finishBody() {
	m.body.done = true
	m.c.complete.Store(true)
	if m.body.kind == http1.BodyChunked && !m.ex.chunked.KeepAlive(m.head) {
		// "Connection: close" came as a trailer: as in llhttp, the
		// connection ends with this response.
		m.c.mu.Lock()
		r := &m.ex.res
		r.m.KeepAlive = false
		if r.m.Fixed() {
			r.m.SetLast()
		}
		m.c.mu.Unlock()
	}
}

// Read reads the request body. It returns io.EOF at its end, ErrAborted if
// the client went away first, and ErrRequestTimeout if RequestTimeout
// passed. Read must not be called once the response is finished and the
// handler has returned.
func (m *IncomingMessage) Read(p []byte) (int, error) {
	b := &m.body
	switch {
	case b.done:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	case len(p) == 0:
		return 0, nil
	}
	if b.expectContinue {
		b.expectContinue = false
		m.ex.res.sendContinue()
	}
	var n int
	var err error
	if b.kind == http1.BodyLength {
		n, err = m.readLength(p)
	} else {
		n, err = m.readChunked(p)
	}
	if err != nil && !b.done {
		b.err = m.c.readError(err)
		if b.err == ErrAborted {
			// The client is gone: the request can never complete and the
			// connection cannot be reused, so the response fails too.
			m.c.mu.Lock()
			m.abortLocked()
			m.c.closeLocked()
			m.c.mu.Unlock()
		}
		if n > 0 {
			return n, nil
		}
		return 0, b.err
	}
	return n, nil
}

// Buffered returns how many bytes of a Content-Length body Read returns
// without waiting for the client: those already read from the
// connection. It is 0 for a chunked body.
func (m *IncomingMessage) Buffered() int {
	b := &m.body
	if b.done || b.err != nil || b.kind != http1.BodyLength {
		return 0
	}
	return int(min(b.remaining, int64(m.ex.w-m.ex.r)))
}

func (m *IncomingMessage) readLength(p []byte) (int, error) {
	b, ex := &m.body, m.ex
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	var n int
	if ex.r < ex.w {
		n = copy(p, ex.unread())
		ex.r += n
	} else if len(p) >= directReadMin {
		var err error
		n, err = m.c.nc.Read(p)
		if n == 0 {
			return 0, orEOF(err)
		}
		m.c.touch()
	} else {
		if err := m.c.fill(); err != nil {
			return 0, err
		}
		n = copy(p, ex.unread())
		ex.r += n
	}
	b.remaining -= int64(n)
	if b.remaining == 0 {
		m.finishBody()
	}
	return n, nil
}

func (m *IncomingMessage) readChunked(p []byte) (int, error) {
	ex := m.ex
	for {
		if ex.r == ex.w {
			if err := m.c.fill(); err != nil {
				return 0, err
			}
		}
		used, data, err := ex.chunked.Decode(ex.unread(), len(p))
		ex.r += used
		if err != nil {
			return 0, err
		}
		n := copy(p, data)
		if ex.chunked.Done() {
			m.finishBody()
		}
		if n > 0 || m.body.done {
			return n, nil
		}
	}
}

// discardBody reads and drops what is left of the body once the response
// is finished, so that the connection can carry the next request. It
// gives up past limit bytes, and then the connection must close.
func (m *IncomingMessage) discardBody(limit int64) bool {
	var scratch [512]byte
	var total int64
	ex := m.ex
	for !m.body.done {
		if m.body.err != nil || total > limit {
			return false
		}
		if m.body.kind != http1.BodyLength {
			n, err := m.Read(scratch[:])
			total += int64(n)
			if err != nil && err != io.EOF {
				return false
			}
			continue
		}
		if ex.r == ex.w {
			if err := m.c.fill(); err != nil {
				m.body.err = m.c.readError(err)
				return false
			}
		}
		n := min(int64(ex.w-ex.r), m.body.remaining)
		ex.r += int(n)
		m.body.remaining -= n
		total += n
		if m.body.remaining == 0 {
			m.finishBody()
		}
	}
	return true
}

func orEOF(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}
