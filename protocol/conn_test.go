package protocol_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/protocol"
)

// ownedPipe returns the read end of a new pipe, closed at cleanup, and
// the only descriptor of its write end, for the caller to give away: once
// whoever owns it closes it, reading the pipe returns io.EOF.
func ownedPipe(t testing.TB) (read *os.File, writeFD int) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	fd, err := syscall.Dup(int(w.Fd()))
	require.NoError(t, err)
	syscall.CloseOnExec(fd)
	require.NoError(t, w.Close())
	return r, fd
}

// deadline makes a stuck read fail the test instead of hanging it.
func deadline(t testing.TB, c *net.UnixConn) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
}

func frame(stream uint32, typ protocol.Type, payload []byte) []byte {
	return append(protocol.AppendHeader(nil, stream, typ, len(payload)), payload...)
}

func TestReaderReadsWhatWriterWrites(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	w, r := protocol.NewWriter(a, nil), protocol.NewReader(b)
	t.Run("frames arrive whole and in order", func(t *testing.T) {
		require.NoError(t, w.Write(frame(1, protocol.TypeRequest, []byte("head"))))
		require.NoError(t, w.Write(frame(1, protocol.TypeReqEnd, nil)))
		two := append(frame(2, protocol.TypeBody, []byte("x")), frame(3, protocol.TypeBody, []byte("yz"))...)
		require.NoError(t, w.Write(two), "one Write may carry several frames")
		for _, want := range []protocol.Frame{
			{Stream: 1, Type: protocol.TypeRequest, Payload: []byte("head")},
			{Stream: 1, Type: protocol.TypeReqEnd, Payload: []byte{}},
			{Stream: 2, Type: protocol.TypeBody, Payload: []byte("x")},
			{Stream: 3, Type: protocol.TypeBody, Payload: []byte("yz")},
		} {
			f, err := r.Next()
			require.NoError(t, err)
			require.Equal(t, want, f)
		}
	})
	t.Run("frames up to MaxFrame pass, growing the reader's buffer", func(t *testing.T) {
		sizes := []int{64<<10 - protocol.HeaderSize, 64 << 10, 200 << 10, protocol.MaxFrame - 5, 3}
		go func() {
			for i, n := range sizes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				if err := w.Write(frame(uint32(i), protocol.TypeBody, p)); err != nil {
					panic(err)
				}
			}
		}()
		for i, n := range sizes {
			f, err := r.Next()
			require.NoError(t, err)
			require.Equal(t, uint32(i), f.Stream)
			require.Len(t, f.Payload, n)
			require.Equal(t, bytes.Repeat([]byte{byte('a' + i)}, n), f.Payload)
		}
	})
	t.Run("a frame past MaxFrame is refused", func(t *testing.T) {
		hdr := binary.BigEndian.AppendUint32(nil, protocol.MaxFrame+1)
		hdr = append(hdr, 0, 0, 0, 1, byte(protocol.TypeBody))
		_, err := a.Write(hdr)
		require.NoError(t, err)
		_, err = r.Next()
		require.ErrorIs(t, err, protocol.ErrFrame)
	})
}

func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	w, r := protocol.NewWriter(a, nil), protocol.NewReader(b)
	const writers, perWriter = 16, 300
	// Frame i of writer g has a payload of a size that varies with i,
	// filled with a pattern of (g, i), so a torn or mixed frame shows.
	payload := func(g, i int) []byte {
		n := 8 + (i*7919+g*104729)%(20<<10)
		p := make([]byte, n)
		binary.BigEndian.PutUint32(p, uint32(g))
		binary.BigEndian.PutUint32(p[4:], uint32(i))
		for j := 8; j < n; j++ {
			p[j] = byte(g*31 + i + j)
		}
		return p
	}
	errs := make(chan error, writers)
	for g := range writers {
		go func() {
			for i := range perWriter {
				if err := w.Write(frame(uint32(g), protocol.TypeBody, payload(g, i))); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	next := make([]int, writers)
	for range writers * perWriter {
		f, err := r.Next()
		require.NoError(t, err)
		g := int(f.Stream)
		require.Less(t, g, writers)
		require.Equal(t, protocol.TypeBody, f.Type)
		require.Equal(t, payload(g, next[g]), f.Payload, "frame %d of writer %d", next[g], g)
		next[g]++
	}
	for range writers {
		require.NoError(t, <-errs)
	}
}

// fdFrame is a frame that says which pipe its descriptor is the write end
// of.
func fdFrame(stream uint32, pipeIndex int) []byte {
	return frame(stream, protocol.TypeRequest, fmt.Appendf(nil, "pipe %d", pipeIndex))
}

// requireDescriptorIsPipe writes through fd, which it closes, and reads
// the bytes back from the pipe's read end.
func requireDescriptorIsPipe(t *testing.T, fd int, read *os.File, marker string) {
	t.Helper()
	f := os.NewFile(uintptr(fd), "received")
	_, err := f.WriteString(marker)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, read.SetReadDeadline(time.Now().Add(10*time.Second)))
	got := make([]byte, len(marker))
	_, err = io.ReadFull(read, got)
	require.NoError(t, err)
	require.Equal(t, marker, string(got))
}

func TestWriteFDPassesWorkingDescriptors(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	w, r := protocol.NewWriter(a, nil), protocol.NewReader(b)

	t.Run("a descriptor arrives with its frame and works", func(t *testing.T) {
		pr, pw := ownedPipe(t)
		require.NoError(t, w.WriteFD(fdFrame(1, 0), pw))
		f, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, "pipe 0", string(f.Payload))
		fd, ok := r.TakeFD()
		require.True(t, ok)
		requireDescriptorIsPipe(t, fd, pr, "through the passed descriptor")
		_, ok = r.TakeFD()
		require.False(t, ok, "one frame, one descriptor")
	})

	t.Run("several descriptors mixed with plain frames stay with their frames", func(t *testing.T) {
		const pipes = 6
		// plain, fd0, plain, plain, fd1, fd2, plain, fd3, fd4, fd5, plain
		plan := []int{-1, 0, -1, -1, 1, 2, -1, 3, 4, 5, -1}
		reads, writes := make([]*os.File, pipes), make([]int, pipes)
		for i := range pipes {
			reads[i], writes[i] = ownedPipe(t)
		}
		go func() {
			for i, p := range plan {
				var err error
				if p < 0 {
					err = w.Write(frame(uint32(100+i), protocol.TypeReqBody, []byte("plain")))
				} else {
					err = w.WriteFD(fdFrame(uint32(100+i), p), writes[p])
				}
				if err != nil {
					panic(err)
				}
			}
		}()
		for i, p := range plan {
			f, err := r.Next()
			require.NoError(t, err)
			require.Equal(t, uint32(100+i), f.Stream)
			if p < 0 {
				require.Equal(t, "plain", string(f.Payload))
				continue
			}
			require.Equal(t, fmt.Sprintf("pipe %d", p), string(f.Payload))
			fd, ok := r.TakeFD()
			require.True(t, ok, "frame %d carries a descriptor", i)
			requireDescriptorIsPipe(t, fd, reads[p], fmt.Sprintf("marker %d", p))
		}
		_, ok := r.TakeFD()
		require.False(t, ok)
	})

	t.Run("concurrent writers keep each descriptor with its frame", func(t *testing.T) {
		const writers, each = 8, 20
		reads := make([]*os.File, writers*each)
		writes := make([]int, writers*each)
		for i := range reads {
			reads[i], writes[i] = ownedPipe(t)
		}
		for g := range writers {
			go func() {
				for i := range each {
					k := g*each + i
					if err := w.Write(frame(uint32(g), protocol.TypeReqBody, []byte("noise"))); err != nil {
						panic(err)
					}
					if err := w.WriteFD(fdFrame(uint32(g), k), writes[k]); err != nil {
						panic(err)
					}
				}
			}()
		}
		for range 2 * writers * each {
			f, err := r.Next()
			require.NoError(t, err)
			if f.Type == protocol.TypeReqBody {
				continue
			}
			var k int
			_, err = fmt.Sscanf(string(f.Payload), "pipe %d", &k)
			require.NoError(t, err)
			fd, ok := r.TakeFD()
			require.True(t, ok)
			requireDescriptorIsPipe(t, fd, reads[k], fmt.Sprintf("k=%d", k))
		}
	})
}

func TestReaderRefusesTruncatedDescriptors(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	r := protocol.NewReader(b)
	// More descriptors in one message than the Reader has room for: the
	// kernel drops the rest and says so with MSG_CTRUNC.
	var fds []int
	for range 20 {
		_, pw := ownedPipe(t)
		t.Cleanup(func() { syscall.Close(pw) })
		fds = append(fds, pw)
	}
	_, _, err := a.WriteMsgUnix(frame(1, protocol.TypeRequest, nil), syscall.UnixRights(fds...), nil)
	require.NoError(t, err)
	_, err = r.Next()
	require.Error(t, err, "lost descriptors must not pass unnoticed")
	require.ErrorContains(t, err, "descriptors truncated")
	require.NoError(t, r.Close())
}

func TestReaderClosesDescriptorsNotTaken(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	w, r := protocol.NewWriter(a, nil), protocol.NewReader(b)
	pr, pw := ownedPipe(t)
	require.NoError(t, w.WriteFD(fdFrame(1, 0), pw))
	_, err := r.Next()
	require.NoError(t, err)
	require.NoError(t, r.Close())
	requireEOF(t, pr)
}

// requireEOF checks that every write end of the pipe read by pr is closed.
func requireEOF(t *testing.T, pr *os.File) {
	t.Helper()
	require.NoError(t, pr.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := pr.Read(make([]byte, 1))
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF, "a write end of the pipe is still open somewhere")
}

func TestWriterWhosePeerClosed(t *testing.T) {
	t.Run("writes fail and a descriptor is closed", func(t *testing.T) {
		a, b := testutil.SocketPair(t)
		w := protocol.NewWriter(a, nil)
		require.NoError(t, b.Close())
		err := w.Write(frame(1, protocol.TypeBody, []byte("x")))
		require.Error(t, err)
		require.ErrorIs(t, w.Write(frame(1, protocol.TypeBody, []byte("y"))), err, "the error sticks")
		pr, pw := ownedPipe(t)
		require.Error(t, w.WriteFD(fdFrame(1, 0), pw))
		requireEOF(t, pr)
	})

	t.Run("descriptors queued behind a stuck write are closed", func(t *testing.T) {
		a, b := testutil.SocketPair(t)
		w := protocol.NewWriter(a, nil)
		// Fill the socket so that the first write blocks while the peer
		// reads nothing; queue descriptors behind it; then close the peer.
		bigFrame := frame(1, protocol.TypeBody, make([]byte, protocol.MaxFrame-5))
		stuck := make(chan error, 1)
		go func() {
			var err error
			for err == nil {
				err = w.Write(bigFrame)
			}
			stuck <- err
		}()
		var reads []*os.File
		done := make(chan error, 5)
		for i := range 5 {
			pr, fd := ownedPipe(t)
			reads = append(reads, pr)
			go func() { done <- w.WriteFD(fdFrame(2, i), fd) }()
		}
		time.Sleep(20 * time.Millisecond) // let the writes queue; the outcome does not depend on it
		require.NoError(t, b.Close())
		require.Error(t, <-stuck)
		for range 5 {
			<-done // queued writes return nil, later ones the error
		}
		for _, pr := range reads {
			requireEOF(t, pr)
		}
	})

	t.Run("a closed writer fails its writes", func(t *testing.T) {
		a, _ := testutil.SocketPair(t)
		w := protocol.NewWriter(a, nil)
		require.NoError(t, w.Close())
		require.Error(t, w.Write(frame(1, protocol.TypeBody, []byte("x"))))
	})
}

func TestReaderReportsTheEndOfTheConnection(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	r := protocol.NewReader(b)
	_, err := a.Write(frame(1, protocol.TypeBody, []byte("last")))
	require.NoError(t, err)
	_, err = a.Write([]byte{0, 0, 0}) // a header cut short
	require.NoError(t, err)
	require.NoError(t, a.Close())
	f, err := r.Next()
	require.NoError(t, err, "a frame before the end is still read")
	require.Equal(t, "last", string(f.Payload))
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
}

func TestReaderTakesFramesSplitAcrossReads(t *testing.T) {
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	r := protocol.NewReader(b)
	var all []byte
	for i := range 50 {
		all = append(all, frame(uint32(i), protocol.TypeBody, bytes.Repeat([]byte{byte(i)}, i*97))...)
	}
	go func() {
		// One byte at a time for the first frames, then odd sizes.
		for i := 0; i < len(all); {
			n := min(1+i%13, len(all)-i)
			if _, err := a.Write(all[i : i+n]); err != nil {
				panic(err)
			}
			i += n
		}
	}()
	for i := range 50 {
		f, err := r.Next()
		require.NoError(t, err)
		require.Equal(t, uint32(i), f.Stream)
		require.Equal(t, bytes.Repeat([]byte{byte(i)}, i*97), f.Payload)
	}
}

func TestAFrameReadHappensAfterItsWrite(t *testing.T) {
	// Under the race detector: what a goroutine wrote before sending a
	// frame is visible, without a race, to the goroutine that reads the
	// frame, as it is with two processes.
	a, b := testutil.SocketPair(t)
	deadline(t, b)
	w, r := protocol.NewWriter(a, nil), protocol.NewReader(b)
	var shared []string
	go func() {
		shared = append(shared, "written before the frame")
		if err := w.Write(frame(1, protocol.TypeEnd, nil)); err != nil {
			panic(err)
		}
	}()
	_, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, []string{"written before the frame"}, shared)
}
