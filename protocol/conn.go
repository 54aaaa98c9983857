package protocol

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
)

// maxPending bounds the bytes a Writer queues while a write is in
// progress; callers beyond it wait. Per-stream credit bounds body bytes
// already, so this only matters with very many streams.
const maxPending = 4 << 20

// inlineRounds is how many batches the caller that found the Writer idle
// writes before handing the rest to a goroutine, so that under sustained
// load one caller does not stay stuck writing everybody's frames.
const inlineRounds = 2

// Writer sends frames on a data-plane connection. Callers append complete
// frames; the caller that finds no write in progress writes what is
// pending, frames appended meanwhile by others included, so under load
// many frames leave in one system call, and when idle a frame leaves at
// once, with no writer goroutine and no timer.
type Writer struct {
	c *net.UnixConn
	// gather reports whether other frames are likely to be written soon
	// (more than one stream in flight); nil means never. Immutable.
	gather func() bool

	mu       sync.Mutex
	drained  *sync.Cond
	pending  []byte
	fds      []fdAt
	spare    []byte
	spareFDs []fdAt
	flushing bool
	err      error
}

// fdAt is a descriptor to send with the frame starting at off.
type fdAt struct{ off, fd int }

// NewWriter returns a Writer on c. gather, if not nil, reports whether
// other frames are likely to follow soon: then a caller that finds the
// Writer idle yields once before writing, so that the frames of the
// goroutines ready to run join the same system call. With one stream in
// flight that yield only delays the frame.
func NewWriter(c *net.UnixConn, gather func() bool) *Writer {
	w := &Writer{c: c, gather: gather}
	w.drained = sync.NewCond(&w.mu)
	return w
}

// Write queues frame, one or more complete frames, and writes it unless
// another caller is writing. An error means the connection is broken; a
// nil error does not promise the bytes were sent.
func (w *Writer) Write(frame []byte) error { return w.write(frame, -1) }

// WriteFD is Write for a frame that carries the descriptor fd. The Writer
// owns fd from then on and closes it once sent.
func (w *Writer) WriteFD(frame []byte, fd int) error { return w.write(frame, fd) }

func (w *Writer) write(frame []byte, fd int) error {
	raceReleaseMerge()
	w.mu.Lock()
	for len(w.pending) > maxPending && w.flushing && w.err == nil {
		w.drained.Wait()
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		if fd >= 0 {
			syscall.Close(fd)
		}
		return err
	}
	if fd >= 0 {
		w.fds = append(w.fds, fdAt{off: len(w.pending), fd: fd})
	}
	w.pending = append(w.pending, frame...)
	if w.flushing {
		w.mu.Unlock()
		return nil
	}
	w.flushing = true
	if w.gather != nil && w.gather() {
		// Let the goroutines that are ready to run append their frames
		// before writing: under load this gathers many frames into one
		// system call.
		w.mu.Unlock()
		runtime.Gosched()
		w.mu.Lock()
	}
	for round := 0; len(w.pending) > 0 && w.err == nil; round++ {
		if round == inlineRounds {
			go w.drain()
			w.mu.Unlock()
			return nil
		}
		w.flushOnce()
	}
	w.flushing = false
	err := w.err
	w.mu.Unlock()
	return err
}

// drain writes until nothing is pending, on its own goroutine.
func (w *Writer) drain() {
	w.mu.Lock()
	for len(w.pending) > 0 && w.err == nil {
		w.flushOnce()
	}
	w.flushing = false
	w.mu.Unlock()
}

// flushOnce writes one batch; called with mu held, which it releases
// during the write.
func (w *Writer) flushOnce() {
	buf, fds := w.pending, w.fds
	w.pending, w.fds = w.spare[:0], w.spareFDs[:0]
	w.mu.Unlock()
	err := w.send(buf, fds)
	w.mu.Lock()
	w.spare, w.spareFDs = buf[:0], fds[:0]
	if err != nil && w.err == nil {
		w.err = err
		for _, f := range w.fds {
			syscall.Close(f.fd)
		}
		w.fds = w.fds[:0]
	}
	w.drained.Broadcast()
}

// send writes buf, attaching each descriptor to the first byte of its
// frame, and closes the descriptors.
func (w *Writer) send(buf []byte, fds []fdAt) error {
	var err error
	done := 0
	for i, f := range fds {
		if err == nil && f.off > done {
			_, err = w.c.Write(buf[done:f.off])
		}
		if err == nil {
			end := len(buf)
			if i+1 < len(fds) {
				end = fds[i+1].off
			}
			var n int
			n, _, err = w.c.WriteMsgUnix(buf[f.off:end], syscall.UnixRights(f.fd), nil)
			if err == nil && f.off+n < end {
				_, err = w.c.Write(buf[f.off+n : end])
			}
			done = end
		}
		syscall.Close(f.fd)
	}
	if err == nil && done < len(buf) {
		_, err = w.c.Write(buf[done:])
	}
	return err
}

// Close closes the connection; pending and later writes fail.
func (w *Writer) Close() error { return w.c.Close() }

// Reader reads frames from a data-plane connection, with the descriptors
// that travel with them.
type Reader struct {
	c    *net.UnixConn
	buf  []byte
	r, w int
	oob  []byte
	fds  []int
}

// NewReader returns a Reader on c.
func NewReader(c *net.UnixConn) *Reader {
	return &Reader{c: c, buf: make([]byte, 64<<10), oob: make([]byte, syscall.CmsgSpace(4*16))}
}

// Next returns the next frame. Its payload is valid until the next call.
func (r *Reader) Next() (Frame, error) {
	for {
		if r.w-r.r >= HeaderSize {
			size, stream, t, err := parseHeader(r.buf[r.r:r.w])
			if err != nil {
				return Frame{}, err
			}
			if r.w-r.r >= size {
				f := Frame{Stream: stream, Type: t, Payload: r.buf[r.r+HeaderSize : r.r+size : r.r+size]}
				r.r += size
				raceAcquire()
				return f, nil
			}
			r.ensure(size)
		} else {
			r.ensure(HeaderSize)
		}
		if err := r.fill(); err != nil {
			return Frame{}, err
		}
	}
}

// ensure makes room for a frame of size bytes starting at r.
func (r *Reader) ensure(size int) {
	if r.r+size <= len(r.buf) {
		return
	}
	if size > len(r.buf) {
		bigger := make([]byte, max(size, 2*len(r.buf)))
		r.w = copy(bigger, r.buf[r.r:r.w])
		r.r, r.buf = 0, bigger
		return
	}
	r.w = copy(r.buf, r.buf[r.r:r.w])
	r.r = 0
}

func (r *Reader) fill() error {
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	n, oobn, flags, _, err := r.c.ReadMsgUnix(r.buf[r.w:], r.oob)
	r.w += n
	// Descriptors that were lost or cannot be parsed would be matched
	// with the wrong frames from here on: the connection is unusable,
	// even though bytes arrived with them.
	if oobn > 0 {
		if perr := r.takeRights(r.oob[:oobn]); perr != nil {
			return fmt.Errorf("protocol: reading descriptors: %w", perr)
		}
	}
	if flags&syscall.MSG_CTRUNC != 0 {
		return errors.New("protocol: descriptors truncated")
	}
	if n > 0 {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("protocol: connection closed")
	}
	return err
}

func (r *Reader) takeRights(oob []byte) error {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return err
	}
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			return err
		}
		r.fds = append(r.fds, fds...)
	}
	return nil
}

// TakeFD returns the oldest received descriptor not yet taken: the one
// that came with the frame just read, if it carried one. The caller owns
// it.
func (r *Reader) TakeFD() (int, bool) {
	if len(r.fds) == 0 {
		return -1, false
	}
	fd := r.fds[0]
	r.fds = r.fds[1:]
	return fd, true
}

// Close closes the connection and any descriptors not taken.
func (r *Reader) Close() error {
	for _, fd := range r.fds {
		syscall.Close(fd)
	}
	r.fds = nil
	return r.c.Close()
}
