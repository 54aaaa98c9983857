package server

import (
	"net"
	"sync"

	"github.com/hostd/hostd/internal/http1"
)

const (
	readBufSize  = 4 << 10
	writeBufSize = 4 << 10
	// maxPooledBuf: a buffer that grew past this (a huge head) is dropped
	// rather than pooled, so one odd request does not pin memory.
	maxPooledBuf = 64 << 10
)

// exchange is the state of one request and its response: the read and
// write buffers, the parser, and the IncomingMessage and ServerResponse
// handed to handlers. Exchanges are pooled and reused, so a request on a
// warm server allocates nothing; a connection holds one only while it has
// a request or unread bytes.
type exchange struct {
	rbuf []byte // unread bytes are rbuf[r:w]
	r, w int
	// keep is where compaction may move unread bytes to: the end of the
	// current request's head, whose bytes the IncomingMessage still points
	// into. Growing copies to a new array, which leaves the old bytes in
	// place for those pointers.
	keep int
	// dropped counts the bytes after keep that compaction discarded since
	// the current request's head, so that a body error's offset can be
	// located in what is left of the request in rbuf.
	dropped int
	wbuf    []byte      // bytes of the response not yet written
	bufs    net.Buffers // wbuf plus a large body slice, for one writev
	iov     [3][]byte   // backing array of bufs

	parser  http1.Parser
	head    http1.Head
	chunked http1.ChunkedDecoder

	req IncomingMessage
	res ServerResponse
}

var exchangePool = sync.Pool{New: func() any {
	return &exchange{rbuf: make([]byte, 0, readBufSize), wbuf: make([]byte, 0, writeBufSize)}
}}

func acquireExchange() *exchange {
	ex := exchangePool.Get().(*exchange)
	ex.rbuf = ex.rbuf[:cap(ex.rbuf)]
	return ex
}

// release returns ex to the pool. Its unread bytes are dropped.
func (ex *exchange) release() {
	if cap(ex.rbuf) > maxPooledBuf || cap(ex.wbuf) > maxPooledBuf {
		return
	}
	ex.r, ex.w, ex.keep = 0, 0, 0
	ex.wbuf = ex.wbuf[:0]
	ex.req.clear()
	ex.res.clear()
	exchangePool.Put(ex)
}

// makeRoom ensures rbuf has free space after w: it moves unread bytes
// down to keep, and doubles the buffer when they fill it.
func (ex *exchange) makeRoom() {
	if ex.w < cap(ex.rbuf) {
		return
	}
	if ex.r > ex.keep {
		ex.dropped += ex.r - ex.keep
		n := copy(ex.rbuf[ex.keep:cap(ex.rbuf)], ex.rbuf[ex.r:ex.w])
		ex.r, ex.w = ex.keep, ex.keep+n
		return
	}
	bigger := make([]byte, 2*cap(ex.rbuf))
	copy(bigger, ex.rbuf[:ex.w])
	ex.rbuf = bigger
}

// unread returns the bytes received but not consumed.
func (ex *exchange) unread() []byte { return ex.rbuf[ex.r:ex.w] }
