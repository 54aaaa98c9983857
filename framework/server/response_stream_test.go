package server_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/httpspec"
)

func TestResponseTrailers(t *testing.T) {
	t.Run("trailers follow a chunked body", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.WriteHead(200, "Trailer", "X-Sum")
			_, _ = res.WriteString("data")
			_ = res.AddTrailers("X-Sum", "42", "X-Other", "a")
			_ = res.End()
		})
		require.Equal(t, "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n0\r\nX-Sum: 42\r\nX-Other: a\r\n\r\n", maskDate(r.raw))
		require.Equal(t, map[string][]string{"x-sum": {"42"}, "x-other": {"a"}}, r.trailer)
	})

	t.Run("trailers are dropped without chunked encoding", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.AddTrailers("X-Sum", "42")
			_ = res.EndString("data")
		})
		require.Equal(t, "4", r.get("content-length"))
		require.NotContains(t, r.raw, "X-Sum")

		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = res.WriteString("data")
			_ = res.AddTrailers("X-Sum", "42")
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.0\r\n\r\n")
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\n\r\ndata", maskDate(c.readAll()))
	})

	t.Run("a Trailer header without chunked encoding is refused", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			got.set("err", codeOf(res.WriteHead(200, "Trailer", "X-Sum", "Content-Length", "4")))
			got.set("sent", res.HeadersSent())
			_ = res.EndString("data")
		})
		require.Equal(t, httpspec.CodeTrailerInvalid, got.get("err"))
		require.Equal(t, false, got.get("sent"))
		require.Equal(t, "data", r.body)
	})

	t.Run("invalid trailers are refused", func(t *testing.T) {
		var got results
		roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			got.set("name", codeOf(res.AddTrailers("Bad Name", "v")))
			got.set("value", codeOf(res.AddTrailers("X", "a\r\nb")))
			got.set("odd", codeOf(res.AddTrailers("X")))
			_ = res.End()
		})
		require.Equal(t, httpspec.CodeInvalidHTTPToken, got.get("name"))
		require.Equal(t, httpspec.CodeInvalidChar, got.get("value"))
		require.Equal(t, httpspec.CodeInvalidArgValue, got.get("odd"))
	})
}

func TestInformationalResponses(t *testing.T) {
	t.Run("WriteContinue, WriteProcessing and WriteEarlyHints send 1xx responses at once", func(t *testing.T) {
		release := make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.WriteContinue()
			_ = res.WriteProcessing()
			_ = res.WriteEarlyHints("Link", "</a.css>; rel=preload; as=style", "link", "</b.js>; rel=preload; as=script", "X-Trace", "id")
			<-release
			_ = res.EndString("final")
		}}})
		c := dial(t, addr)
		c.send(get11)
		require.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", c.read().raw)
		require.Equal(t, "HTTP/1.1 102 Processing\r\n\r\n", c.read().raw)
		require.Equal(t, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script\r\nX-Trace: id\r\n\r\n", c.read().raw)
		close(release)
		require.Equal(t, "final", c.read().body)
	})

	t.Run("a 1xx after WriteHead goes before the stored head, after earlier pipelined responses", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			if req.URL() == "/first" {
				_ = res.EndString("first")
				return
			}
			_ = res.WriteHead(200, "X-Final", "yes")
			_ = res.WriteProcessing()
			_ = res.WriteEarlyHints("Link", "</a.css>; rel=preload")
			_ = res.EndString("second")
		}}})
		c := dial(t, addr)
		c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n")
		require.Equal(t, "first", c.read().body)
		require.Equal(t, 102, c.read().status)
		require.Equal(t, 103, c.read().status)
		r := c.read()
		require.Equal(t, "yes", r.get("x-final"))
		require.Equal(t, "second", r.body)
	})

	t.Run("early hints need a valid Link", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			got.set("bad", codeOf(res.WriteEarlyHints("Link", "no angle brackets")))
			got.set("noLink", codeOf(res.WriteEarlyHints("X-Trace", "id")))
			got.set("odd", codeOf(res.WriteEarlyHints("Link")))
			_ = res.EndString("final")
		})
		require.Equal(t, 200, r.status, "nothing was sent before the final response")
		require.Equal(t, httpspec.CodeInvalidArgValue, got.get("bad"))
		require.Equal(t, "", got.get("noLink"))
		require.Equal(t, httpspec.CodeInvalidArgValue, got.get("odd"))
	})
}

func TestFlushHeaders(t *testing.T) {
	t.Run("the head leaves before the body", func(t *testing.T) {
		release := make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("X-Early", "yes")
			_ = res.FlushHeaders()
			<-release
			_ = res.EndString("body")
		}}})
		c := dial(t, addr)
		c.send(get11)
		r := c.readHead()
		require.Equal(t, "yes", r.get("x-early"))
		require.Equal(t, "chunked", r.get("transfer-encoding"))
		close(release)
		size, err := c.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "4\r\n", size)
	})
}

func TestCork(t *testing.T) {
	t.Run("corked writes wait for the last Uncork", func(t *testing.T) {
		step := make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.Cork()
			res.Cork()
			_, _ = res.WriteString("a")
			_, _ = res.WriteString("b")
			_ = res.Uncork()
			<-step // still corked once
			_ = res.Uncork()
			<-step
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send(get11)
		c.expectSilence(100 * time.Millisecond)
		step <- struct{}{}
		r := c.readHead()
		require.Equal(t, 200, r.status)
		chunks := make([]byte, len("1\r\na\r\n1\r\nb\r\n"))
		_, err := c.br.Read(chunks[:1])
		require.NoError(t, err)
		_, err = c.br.Read(chunks[1:])
		require.NoError(t, err)
		require.Equal(t, "1\r\na\r\n1\r\nb\r\n", string(chunks))
		step <- struct{}{}
	})

	t.Run("End flushes a corked response", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.Cork()
			_, _ = res.WriteString("a")
			_ = res.End()
		})
		require.Equal(t, "a", r.body)
	})
}

func TestResponseEvents(t *testing.T) {
	t.Run("finish then close run once the response is written", func(t *testing.T) {
		events := make(chan string, 4)
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.OnFinish(func() {
				got.set("finishedInFinish", res.WritableFinished())
				events <- "finish"
			})
			res.OnClose(func() { events <- "close" })
			got.set("endedBefore", res.WritableEnded())
			_ = res.EndString("x")
			got.set("endedAfter", res.WritableEnded())
		})
		require.Equal(t, "x", r.body)
		require.Equal(t, "finish", recv(t, events, "finish"))
		require.Equal(t, "close", recv(t, events, "close"))
		require.Equal(t, false, got.get("endedBefore"))
		require.Equal(t, true, got.get("endedAfter"))
		require.Equal(t, true, got.get("finishedInFinish"))
	})

	t.Run("a client that leaves first gets close without finish", func(t *testing.T) {
		events := make(chan string, 4)
		entered := make(chan *server.ServerResponse, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.OnFinish(func() { events <- "finish" })
			res.OnClose(func() { events <- "close" })
			entered <- res
		}}})
		c := dial(t, addr)
		c.send(get11)
		res := recv(t, entered, "the handler")
		c.nc.Close()
		require.Equal(t, "close", recv(t, events, "close"))
		require.Equal(t, httpspec.CodeStreamDestroyed, codeOf(res.EndString("too late")))
		require.False(t, res.WritableFinished())
		select {
		case e := <-events:
			t.Fatalf("unexpected %s event", e)
		case <-time.After(50 * time.Millisecond):
		}
	})
}

func TestAsyncHandler(t *testing.T) {
	t.Run("a handler may return and finish the response from another goroutine", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			url := req.URL()
			returned := make(chan struct{})
			defer close(returned)
			go func() {
				<-returned // all of the response comes after the handler
				_ = res.SetHeader("X-Async", "yes")
				for i := range 3 {
					_, _ = fmt.Fprintf(res, "%s-%d;", url, i)
				}
				_ = res.End()
			}()
		}}})
		c := dial(t, addr)
		c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
		r := c.read()
		require.Equal(t, "yes", r.get("x-async"))
		require.Equal(t, "/a-0;/a-1;/a-2;", r.body)
		require.Equal(t, "/b-0;/b-1;/b-2;", c.read().body)
	})

	t.Run("a handler that reads the body on another goroutine", func(t *testing.T) {
		first := make(chan string, 1)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			go func() {
				head := make([]byte, 3)
				if _, err := io.ReadFull(req, head); err != nil {
					return
				}
				first <- string(head)
				rest, err := readBody(req)
				if err != nil {
					return
				}
				_ = res.EndString(string(head) + rest)
			}()
		}}})
		c := dial(t, addr)
		c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel")
		require.Equal(t, "hel", recv(t, first, "the goroutine to read the first part"))
		c.send("lo")
		require.Equal(t, "hello", c.read().body)
	})
}

func TestDestroy(t *testing.T) {
	t.Run("Destroy closes the connection and later writes fail", func(t *testing.T) {
		var got results
		closed := make(chan struct{})
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.OnClose(func() { close(closed) })
			_, _ = res.WriteString("partial")
			res.Destroy()
			_, err := res.WriteString("more")
			got.set("write", codeOf(err))
			got.set("end", codeOf(res.End()))
		}}})
		c := dial(t, addr)
		c.send(get11)
		r := c.readHead()
		require.Equal(t, 200, r.status)
		require.Equal(t, "7\r\npartial\r\n", c.readAll())
		recv(t, closed, "the close event")
		require.Equal(t, httpspec.CodeStreamDestroyed, got.get("write"))
		require.Equal(t, httpspec.CodeStreamDestroyed, got.get("end"))
	})

	t.Run("Req returns the request being answered", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, "GET /me HTTP/1.1\r\nHost: a\r\n\r\n", func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString(res.Req().URL())
		})
		require.Equal(t, "/me", r.body)
	})
}

// The engine is the trust boundary for what handlers and plugins ask it
// to send: its framing is never ambiguous and never runs past a length.
func TestResponseFramingIsNeverAmbiguous(t *testing.T) {
	t.Run("bytes past Content-Length are dropped and the connection closes after the answer", func(t *testing.T) {
		writeErr := make(chan error, 2)
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Length", "5")
			_, err := res.WriteString("hello, and 36 more bytes not declared here")
			writeErr <- err
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
		out := maskDate(c.readAll())
		require.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello", out,
			"one answer of 5 bytes, then the connection ends: the pipelined request is not answered")
		require.NoError(t, <-writeErr, "without StrictContentLength the handler is not told")
	})

	t.Run("a short body closes the connection after the answer", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Length", "10")
			_ = res.EndString("short")
		}}})
		c := dial(t, addr)
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
		require.True(t, strings.HasSuffix(maskDate(c.readAll()), "\r\n\r\nshort"))
	})

	t.Run("Content-Length beside Transfer-Encoding is not sent", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Length", "5")
			_ = res.SetHeader("Transfer-Encoding", "chunked")
			_ = res.EndString("hello")
		})
		require.Equal(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", maskDate(r.raw))
	})

	t.Run("an applied head with an invalid Content-Length is refused", func(t *testing.T) {
		var err error
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			err = res.ApplyHead(server.Head{Status: 200, Fields: []string{"Content-Length", "5", "Content-Length", "6"}, Length: -1})
			res.StatusCode = 502
			_ = res.End()
		})
		require.Equal(t, httpspec.CodeInvalidHeaderValue, codeOf(err))
		require.Equal(t, 502, r.status)
	})
}
