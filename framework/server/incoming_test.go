package server_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/httpspec"
)

func TestIncomingMessageHead(t *testing.T) {
	t.Run("method, URL and version are as sent", func(t *testing.T) {
		var got results
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			got.set(req.URL(), fmt.Sprintf("%s %s %s %d.%d", req.Method(), req.URL(), req.HTTPVersion(), req.HTTPVersionMajor(), req.HTTPVersionMinor()))
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("PUT /a%20b?c=d&e#frag HTTP/1.1\r\nHost: a\r\n\r\n")
		c.read()
		c.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
		c.read()
		c.send("GET http://example.com:8080/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		c.read()
		require.Equal(t, "PUT /a%20b?c=d&e#frag 1.1 1.1", got.get("/a%20b?c=d&e#frag"))
		require.Equal(t, "OPTIONS * 1.1 1.1", got.get("*"))
		require.Equal(t, "GET http://example.com:8080/x 1.0 1.0", got.get("http://example.com:8080/x"))
	})

	t.Run("headers follow Node's rules", func(t *testing.T) {
		var got results
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			got.set("raw", req.RawHeaders())
			got.set("headers", req.Headers())
			got.set("distinct", req.HeadersDistinct())
			for _, name := range []string{"host", "HOST", "x-multi", "cookie", "set-cookie", "content-type", "x-missing", "x-empty"} {
				got.set("header "+name, req.Header(name))
			}
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: first\r\nhost: second\r\nX-Multi: 1\r\nx-multi: 2\r\nCookie: a=1\r\nCookie: b=2\r\nSet-Cookie: s=1\r\nSet-Cookie: s=2\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nX-Empty:\r\n\r\n")
		c.read()
		require.Equal(t, []string{"Host", "first", "host", "second", "X-Multi", "1", "x-multi", "2", "Cookie", "a=1", "Cookie", "b=2", "Set-Cookie", "s=1", "Set-Cookie", "s=2", "Content-Type", "text/plain", "Content-Type", "text/html", "X-Empty", ""}, got.get("raw"))
		require.Equal(t, httpspec.Headers{
			"host": {"first"}, "x-multi": {"1, 2"}, "cookie": {"a=1; b=2"}, "set-cookie": {"s=1", "s=2"},
			"content-type": {"text/plain"}, "x-empty": {""},
		}, got.get("headers"))
		require.Equal(t, map[string][]string{
			"host": {"first", "second"}, "x-multi": {"1", "2"}, "cookie": {"a=1", "b=2"}, "set-cookie": {"s=1", "s=2"},
			"content-type": {"text/plain", "text/html"}, "x-empty": {""},
		}, got.get("distinct"))
		for name, want := range map[string]string{
			"host": "first", "HOST": "first", "x-multi": "1, 2", "cookie": "a=1; b=2", "set-cookie": "s=1",
			"content-type": "text/plain", "x-missing": "", "x-empty": "",
		} {
			require.Equal(t, want, got.get("header "+name), name)
		}
	})

	t.Run("the addresses are the connection's", func(t *testing.T) {
		var got results
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			got.set("remote", req.RemoteAddr().String())
			got.set("local", req.LocalAddr().String())
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send(get11)
		c.read()
		require.Equal(t, c.nc.LocalAddr().String(), got.get("remote"))
		require.Equal(t, addr, got.get("local"))
	})

	t.Run("a request's strings stay valid after the connection reuses its buffer", func(t *testing.T) {
		kept := make(chan []string, 2)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			kept <- []string{req.URL(), req.Header("x-id"), req.RawHeaders()[3]}
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET /first HTTP/1.1\r\nHost: a\r\nX-Id: one\r\n\r\n")
		c.read()
		c.send("GET /second HTTP/1.1\r\nHost: a\r\nX-Id: two\r\n\r\n")
		c.read()
		require.Equal(t, []string{"/first", "one", "one"}, <-kept)
		require.Equal(t, []string{"/second", "two", "two"}, <-kept)
	})
}

func TestIncomingMessageBody(t *testing.T) {
	// readInPieces reads the body n bytes at a time.
	readInPieces := func(n int) func(*server.IncomingMessage, *server.ServerResponse) {
		return func(req *server.IncomingMessage, res *server.ServerResponse) {
			var body bytes.Buffer
			buf := make([]byte, n)
			for {
				k, err := req.Read(buf)
				body.Write(buf[:k])
				if err == io.EOF {
					break
				}
				if err != nil {
					return
				}
			}
			_ = res.End(body.Bytes())
		}
	}

	t.Run("a body is read whatever the size of the reads and of the packets", func(t *testing.T) {
		payload := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2000) // 90 KB
		chunked := func(s string, size int) string {
			var b strings.Builder
			for len(s) > 0 {
				n := min(size, len(s))
				fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
				s = s[n:]
			}
			return b.String() + "0\r\n\r\n"
		}
		for _, readSize := range []int{1, 7, 1000, 64 << 10} {
			for _, framing := range []string{"length", "chunked"} {
				t.Run(fmt.Sprintf("%s body read %d bytes at a time", framing, readSize), func(t *testing.T) {
					_, addr := start(t, server.Options{Handlers: server.Handlers{Request: readInPieces(readSize)}})
					c := dial(t, addr)
					var raw string
					if framing == "length" {
						raw = fmt.Sprintf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s", len(payload), payload)
					} else {
						raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(payload, 3000)
					}
					go func() {
						for i := 0; i < len(raw); i += 9000 {
							_, _ = c.nc.Write([]byte(raw[i:min(i+9000, len(raw))]))
							time.Sleep(time.Millisecond)
						}
					}()
					require.Equal(t, payload, c.read().body)
				})
			}
		}
	})

	t.Run("a zero-length read and reads after the end", func(t *testing.T) {
		var got results
		roundTrip(t, server.Options{}, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", func(req *server.IncomingMessage, res *server.ServerResponse) {
			n, err := req.Read(nil)
			got.set("empty", fmt.Sprint(n, err))
			body, err := readBody(req)
			got.set("body", fmt.Sprintf("%s %v", body, err))
			n, err = req.Read(make([]byte, 4))
			got.set("after", fmt.Sprint(n, err))
			_ = res.End()
		})
		require.Equal(t, "0 <nil>", got.get("empty"))
		require.Equal(t, "hi <nil>", got.get("body"))
		require.Equal(t, "0 EOF", got.get("after"))
	})

	t.Run("Complete and the trailers are known once the body has been read", func(t *testing.T) {
		var got results
		roundTrip(t, server.Options{}, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\nx-sum: 2\r\nSet-Cookie: a\r\nSet-Cookie: b\r\nExpires: first\r\nExpires: second\r\n\r\n", func(req *server.IncomingMessage, res *server.ServerResponse) {
			got.set("completeBefore", req.Complete())
			got.set("trailersBefore", req.RawTrailers())
			_, _ = readBody(req)
			got.set("completeAfter", req.Complete())
			got.set("raw", req.RawTrailers())
			got.set("trailers", req.Trailers())
			got.set("distinct", req.TrailersDistinct())
			_ = res.End()
		})
		require.Equal(t, false, got.get("completeBefore"))
		require.Equal(t, []string{}, got.get("trailersBefore"))
		require.Equal(t, true, got.get("completeAfter"))
		require.Equal(t, []string{"X-Sum", "1", "x-sum", "2", "Set-Cookie", "a", "Set-Cookie", "b", "Expires", "first", "Expires", "second"}, got.get("raw"))
		require.Equal(t, httpspec.Headers{"x-sum": {"1, 2"}, "set-cookie": {"a", "b"}, "expires": {"first"}}, got.get("trailers"))
		require.Equal(t, map[string][]string{"x-sum": {"1", "2"}, "set-cookie": {"a", "b"}, "expires": {"first", "second"}}, got.get("distinct"))
	})

	t.Run("a request without a body is complete at once", func(t *testing.T) {
		var got results
		roundTrip(t, server.Options{}, get11, func(req *server.IncomingMessage, res *server.ServerResponse) {
			got.set("complete", req.Complete())
			n, err := req.Read(make([]byte, 1))
			got.set("read", fmt.Sprint(n, err))
			_ = res.End()
		})
		require.Equal(t, true, got.get("complete"))
		require.Equal(t, "0 EOF", got.get("read"))
	})

	t.Run("a large upload is read incrementally, not buffered", func(t *testing.T) {
		const total = 64 << 20
		const firstPart = 64 << 10
		paused := make(chan struct{})
		resume := make(chan struct{})
		sums := make(chan [32]byte, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			h := sha256.New()
			if _, err := io.CopyN(h, req, firstPart); err != nil {
				return
			}
			close(paused)
			<-resume
			if _, err := io.Copy(h, req); err != nil {
				return
			}
			var sum [32]byte
			h.Sum(sum[:0])
			sums <- sum
			_ = res.EndString("done")
		}}})
		c := dial(t, addr)
		c.send(fmt.Sprintf("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", total))

		var written atomic.Int64
		wrote := make(chan [32]byte, 1)
		go func() {
			h := sha256.New()
			block := make([]byte, 32<<10)
			for i := range block {
				block[i] = byte(i * 7)
			}
			for sent := 0; sent < total; sent += len(block) {
				block[0] = byte(sent >> 15) // vary the blocks
				h.Write(block)
				if _, err := c.nc.Write(block); err != nil {
					return
				}
				written.Add(int64(len(block)))
			}
			var sum [32]byte
			h.Sum(sum[:0])
			wrote <- sum
		}()

		recv(t, paused, "the handler to read the first part")
		// Wait until the client is blocked: the amount written stops
		// growing because the server no longer reads.
		var last int64 = -1
		for range 200 {
			time.Sleep(20 * time.Millisecond)
			now := written.Load()
			if now == last {
				break
			}
			last = now
		}
		require.Less(t, written.Load(), int64(total/2), "the server read ahead of the handler instead of letting the client block")
		close(resume)
		require.Equal(t, recv(t, wrote, "the client to send everything"), recv(t, sums, "the handler to read everything"))
		require.Equal(t, "done", c.read().body)
	})
}

func TestAborted(t *testing.T) {
	t.Parallel() // mostly waiting: overlap with the other timing tests
	t.Run("a client that leaves mid-body aborts the request", func(t *testing.T) {
		readErr := make(chan error, 1)
		aborted, reading := make(chan struct{}), make(chan struct{})
		var got results
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			req.OnAborted(func() { close(aborted) })
			close(reading)
			_, err := readBody(req)
			got.set("aborted", req.Aborted())
			got.set("complete", req.Complete())
			readErr <- err
			got.set("end", codeOf(res.End()))
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial")
		recv(t, reading, "the handler to read the body")
		c.nc.Close()
		err := recv(t, readErr, "Read to fail")
		require.ErrorIs(t, err, server.ErrAborted)
		require.Equal(t, httpspec.CodeConnectionReset, codeOf(err))
		recv(t, aborted, "OnAborted")
		require.Equal(t, true, got.get("aborted"))
		require.Equal(t, false, got.get("complete"))
		waitFor(t, "End to fail", func() bool { return got.get("end") != nil })
		require.Equal(t, httpspec.CodeStreamDestroyed, got.get("end"))
	})

	t.Run("a client that leaves during a large read aborts the request", func(t *testing.T) {
		readErr, read := make(chan error, 1), make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, _ *server.ServerResponse) {
			buf := make([]byte, 64<<10) // large reads go straight from the socket
			var err error
			for total := 0; err == nil; {
				var n int
				n, err = req.Read(buf)
				if total < 10000 && total+n >= 10000 {
					close(read) // all that was sent is read: the next Read waits
				}
				total += n
			}
			readErr <- err
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n")
		c.send(strings.Repeat("x", 10000))
		recv(t, read, "the handler to read what was sent")
		c.nc.Close()
		require.ErrorIs(t, recv(t, readErr, "Read to fail"), server.ErrAborted)
	})

	t.Run("a client that leaves mid chunked body aborts the request", func(t *testing.T) {
		readErr, read := make(chan error, 1), make(chan string, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, _ *server.ServerResponse) {
			buf := make([]byte, 16)
			n, err := req.Read(buf)
			read <- string(buf[:n])
			if err == nil {
				_, err = readBody(req)
			}
			readErr <- err
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
		require.Equal(t, "ab", recv(t, read, "the handler to read the chunk's first bytes"))
		c.nc.Close()
		require.ErrorIs(t, recv(t, readErr, "Read to fail"), server.ErrAborted)
	})

	t.Run("a client that leaves while a slow response is pending aborts the request", func(t *testing.T) {
		aborted := make(chan struct{})
		closed := make(chan struct{})
		entered := make(chan *server.ServerResponse, 1)
		var req atomic.Pointer[server.IncomingMessage]
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(r *server.IncomingMessage, res *server.ServerResponse) {
			req.Store(r)
			r.OnAborted(func() { close(aborted) })
			res.OnClose(func() { close(closed) })
			entered <- res // the response is finished later, if ever
		}}})
		parked, _ := watchEvents(srv)
		c := dial(t, addr)
		c.send(get11)
		res := recv(t, entered, "the handler")
		require.False(t, req.Load().Aborted())
		recv(t, parked, "the close watch to park on the socket")
		c.nc.Close()
		recv(t, aborted, "OnAborted after the client left")
		recv(t, closed, "the response's close event")
		require.True(t, req.Load().Aborted())
		require.Equal(t, httpspec.CodeStreamDestroyed, codeOf(res.EndString("nobody is listening")))
		waitFor(t, "the connection to end", func() bool { return srv.ConnectionCount() == 0 })
	})

	t.Run("OnAborted registered after the abort runs at once", func(t *testing.T) {
		entered := make(chan *server.IncomingMessage, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(r *server.IncomingMessage, _ *server.ServerResponse) {
			entered <- r
		}}})
		c := dial(t, addr)
		c.send(get11)
		r := recv(t, entered, "the handler")
		c.nc.Close()
		waitFor(t, "the abort", r.Aborted)
		late := make(chan struct{})
		r.OnAborted(func() { close(late) })
		recv(t, late, "the late OnAborted")
	})

	t.Run("a finished request is not aborted when the client leaves afterwards", func(t *testing.T) {
		var aborts atomic.Int32
		var got results
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(r *server.IncomingMessage, res *server.ServerResponse) {
			r.OnAborted(func() { aborts.Add(1) })
			_ = res.EndString("ok")
			got.set("aborted", r.Aborted())
		}}})
		c := dial(t, addr)
		c.send(get11)
		require.Equal(t, "ok", c.read().body)
		c.nc.Close()
		waitFor(t, "the connection to end", func() bool { return srv.ConnectionCount() == 0 })
		require.Equal(t, int32(0), aborts.Load())
		require.Equal(t, false, got.get("aborted"))
	})

	t.Run("a pipelined request does not look like a departure", func(t *testing.T) {
		var aborts atomic.Int32
		release := make(chan struct{})
		srv, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(r *server.IncomingMessage, res *server.ServerResponse) {
			r.OnAborted(func() { aborts.Add(1) })
			if r.URL() == "/slow" {
				go func() { <-release; _ = res.EndString("slow") }()
				return
			}
			_ = res.EndString("fast")
		}}})
		parked, sawData := watchEvents(srv)
		c := dial(t, addr)
		c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, parked, "the close watch to park on the socket")
		c.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
		recv(t, sawData, "the close watch to see the pipelined request")
		close(release)
		require.Equal(t, "slow", c.read().body)
		require.Equal(t, "fast", c.read().body)
		require.Equal(t, int32(0), aborts.Load())
	})
}

// watchEvents reports what srv's close watches do: a value on parked each
// time one parks on its socket, on sawData each time one sees the client's
// next request.
func watchEvents(srv *server.Server) (parked, sawData <-chan struct{}) {
	p, d := make(chan struct{}, 16), make(chan struct{}, 16)
	server.OnCloseWatch(srv, func(event string) {
		ch := p
		if event == "data" {
			ch = d
		}
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	return p, d
}
