package sdktest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/internal/wiretest"
	"github.com/hostd/hostd/sdk/sdktest"
)

// fakeTB records failures instead of failing the test, to check that the
// harness fails a test when it should. Fatalf ends the goroutine, so the
// code under test runs on its own goroutine (see failures).
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

// failures runs fn with a fakeTB and returns the failures it recorded,
// cleanups included.
func failures(t *testing.T, fn func(tb testing.TB)) []string {
	t.Helper()
	var f *fakeTB
	t.Run("inner", func(inner *testing.T) {
		f = &fakeTB{TB: inner}
		done := make(chan struct{})
		go func() {
			defer close(done)
			fn(f)
		}()
		<-done
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures
}

// echo answers with a description of the request it got.
var echo = sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
	body, err := io.ReadAll(req)
	if err != nil {
		_ = res.EndString("read error: " + err.Error())
		return
	}
	res.SetHeader("Content-Type", "text/plain")
	res.SetHeader("X-Method", req.Method())
	res.SetHeader("X-URL", req.URL())
	res.SetHeader("X-Version", req.HTTPVersion())
	res.SetHeader("X-Raw", strings.Join(req.RawHeaders(), "|"))
	res.SetHeader("X-Trailers", strings.Join(req.RawTrailers(), "|"))
	res.SetHeader("X-Remote", req.RemoteAddr())
	_ = res.End(body)
})

func TestDo(t *testing.T) {
	t.Run("the request reaches the handler and its answer is recorded", func(t *testing.T) {
		rec := sdktest.Do(t, echo, sdktest.Request{
			Method: "POST", URL: "/x?y=1", Headers: []string{"Content-Type", "text/plain", "X-A", "1"},
			Body: strings.NewReader("hi"), Trailers: []string{"X-Sum", "abc"},
		})
		require.True(t, rec.Ended)
		require.Equal(t, 200, rec.Status)
		require.Equal(t, "hi", string(rec.Body))
		require.Equal(t, "POST", rec.Header("x-method"))
		require.Equal(t, "/x?y=1", rec.Header("X-URL"))
		require.Equal(t, "1.1", rec.Header("X-Version"))
		require.Equal(t, "Content-Type|text/plain|X-A|1", rec.Header("X-Raw"))
		require.Equal(t, "X-Sum|abc", rec.Header("X-Trailers"))
		require.Equal(t, "127.0.0.1:40000", rec.Header("X-Remote"))
		require.Equal(t, []string{"Content-Type", "text/plain"}, rec.Headers[:2], "headers in the order set")
	})
	t.Run("defaults are GET / over HTTP/1.1 without a body", func(t *testing.T) {
		rec := sdktest.Do(t, echo, sdktest.Request{})
		require.Equal(t, "GET", rec.Header("X-Method"))
		require.Equal(t, "/", rec.Header("X-URL"))
		require.Empty(t, rec.Body)
	})
	t.Run("an inline body arrives whole with the request", func(t *testing.T) {
		var complete bool
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			complete = req.Complete()
			b, _ := io.ReadAll(req)
			_ = res.End(b)
		}), sdktest.Request{Method: "PUT", Body: strings.NewReader("inline"), Inline: true})
		require.True(t, complete, "the body is complete before any read")
		require.Equal(t, "inline", string(rec.Body))
	})
	t.Run("a large body streams both ways within the windows", func(t *testing.T) {
		body := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB, many windows
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			_, err := io.Copy(res, req)
			if err != nil {
				panic(err)
			}
			_ = res.End()
		}), sdktest.Request{Method: "POST", Body: bytes.NewReader(body)})
		require.True(t, rec.Ended)
		require.Equal(t, body, rec.Body)
	})
	t.Run("each 1xx is recorded with its headers", func(t *testing.T) {
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			_ = res.WriteProcessing()
			_ = res.WriteEarlyHints("Link", "</a.css>; rel=preload", "X-Hint", "1")
			_ = res.End()
		}), sdktest.Request{})
		require.Equal(t, []sdktest.Informational{
			{Status: 102},
			{Status: 103, Headers: []string{"Link", "</a.css>; rel=preload", "X-Hint", "1"}},
		}, rec.Informational)
	})
	t.Run("a handler that panics is recorded as a reset", func(t *testing.T) {
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			panic("boom")
		}), sdktest.Request{})
		require.True(t, rec.Reset)
		require.Equal(t, "boom", rec.ResetMessage)
		require.False(t, rec.Ended)
	})
	t.Run("trailers and the status message are recorded", func(t *testing.T) {
		rec := sdktest.Do(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			res.StatusCode, res.StatusMessage = 418, "Short And Stout"
			res.AddTrailers("X-Checksum", "42")
			_ = res.End([]byte("tea"))
		}), sdktest.Request{})
		require.Equal(t, 418, rec.Status)
		require.Equal(t, "Short And Stout", rec.StatusMessage)
		require.Equal(t, "42", rec.Trailer("x-checksum"))
	})
}

func TestHostServesConcurrentExchanges(t *testing.T) {
	// Each handler waits for the next one to start, so they must run at
	// once, and they end in the reverse order of their start.
	const n = 8
	gates := make([]chan struct{}, n+1)
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	close(gates[n])
	h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		var i int
		fmt.Sscanf(req.URL(), "/%d", &i)
		<-gates[i+1]
		_ = res.EndString(req.URL())
		close(gates[i])
	}))
	xs := make([]*sdktest.Exchange, n)
	for i := range n {
		xs[i] = h.Start(sdktest.Request{URL: fmt.Sprintf("/%d", i)})
	}
	for i, x := range xs {
		require.Equal(t, fmt.Sprintf("/%d", i), string(x.Wait().Body))
	}
}

func TestHostFailsTheTest(t *testing.T) {
	t.Run("when the handler never ends its response", func(t *testing.T) {
		got := failures(t, func(tb testing.TB) {
			sdktest.Do(tb, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
				_, _ = res.Write([]byte("no end"))
			}), sdktest.Request{URL: "/slow"}, sdktest.WithTimeout(50*time.Millisecond))
		})
		require.Len(t, got, 1)
		require.Contains(t, got[0], "GET /slow: the handler did not end its response within 50ms")
		require.Contains(t, got[0], "[Head Body]")
	})
	t.Run("when the plugin refuses its configuration", func(t *testing.T) {
		got := failures(t, func(tb testing.TB) {
			sdktest.New(tb, &configured{}, sdktest.WithConfig(`{"greeting": 3}`))
		})
		require.Len(t, got, 1)
		require.Contains(t, got[0], "Configure: plugin test: config.greeting: a number where string is expected")
	})
	t.Run("when a Request is malformed", func(t *testing.T) {
		got := failures(t, func(tb testing.TB) {
			sdktest.Do(tb, echo, sdktest.Request{HTTPVersion: "3"})
		})
		require.Len(t, got, 1)
		require.Contains(t, got[0], `Request.HTTPVersion "3"`)
	})
}

// configured is a plugin with a config table.
type configured struct {
	cfg struct {
		Greeting string `json:"greeting"`
	}
}

func (c *configured) Configure(cfg *sdk.Config) error {
	if err := cfg.Decode(&c.cfg); err != nil {
		return err
	}
	if c.cfg.Greeting == "" {
		return errors.New("greeting is required")
	}
	return nil
}

func (c *configured) HandleRequest(req *sdk.Request, res *sdk.Response) {
	_ = res.EndString(c.cfg.Greeting)
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  any
	}{
		{name: "a map is passed as JSON", cfg: map[string]string{"greeting": "hi"}},
		{name: "a JSON string is passed as is", cfg: `{"greeting":"hi"}`},
		{name: "JSON bytes are passed as is", cfg: []byte(`{"greeting":"hi"}`)},
		{name: "a struct is passed as JSON", cfg: struct {
			Greeting string `json:"greeting"`
		}{"hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := sdktest.Do(t, &configured{}, sdktest.Request{}, sdktest.WithConfig(tc.cfg))
			require.Equal(t, "hi", string(rec.Body))
		})
	}
	t.Run("Configure returns the plugin's error", func(t *testing.T) {
		require.EqualError(t, sdktest.Configure(&configured{}, sdktest.WithConfig(map[string]string{})), "Configure: greeting is required")
		require.NoError(t, sdktest.Configure(&configured{}, sdktest.WithConfig(map[string]string{"greeting": "x"})))
	})
	t.Run("the plugin's name is passed", func(t *testing.T) {
		err := sdktest.Configure(&configured{}, sdktest.WithName("greeter"), sdktest.WithConfig(`{"typo": 1}`))
		require.ErrorContains(t, err, `plugin greeter: config.typo: unknown key`)
	})
	t.Run("a config that cannot be marshalled is refused", func(t *testing.T) {
		require.ErrorContains(t, sdktest.Configure(&configured{}, sdktest.WithConfig(func() {})), "WithConfig")
	})
}

func TestExchange(t *testing.T) {
	t.Run("Abort reaches the handler", func(t *testing.T) {
		aborted := make(chan error, 1)
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			_, err := io.ReadAll(req)
			aborted <- err
		}))
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.Close() })
		x := h.Start(sdktest.Request{Method: "POST", Body: pr})
		x.Abort()
		require.ErrorIs(t, <-aborted, sdk.ErrAborted)
		rec := x.Wait()
		require.True(t, rec.Aborted)
		require.False(t, rec.Ended)
	})
	t.Run("Timeout fires the handler's SetTimeout callback", func(t *testing.T) {
		set := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			fired := make(chan struct{})
			_ = res.SetTimeout(1500*time.Millisecond, func() { close(fired) })
			close(set)
			<-fired
			_ = res.EndString("timed out")
		}))
		x := h.Start(sdktest.Request{})
		<-set
		x.Timeout()
		rec := x.Wait()
		require.Equal(t, []time.Duration{1500 * time.Millisecond}, rec.Timeouts)
		require.Equal(t, "timed out", string(rec.Body))
	})
	t.Run("Recorder shows what was sent so far", func(t *testing.T) {
		release := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			_ = res.FlushHeaders()
			<-release
			_ = res.End()
		}))
		x := h.Start(sdktest.Request{})
		require.Eventually(t, func() bool { return len(wiretest.Of(x.Recorder()).Frames) == 1 }, 5*time.Second, time.Millisecond)
		rec := x.Recorder()
		require.Equal(t, 200, rec.Status)
		require.Equal(t, protocol.HeadFlush, wiretest.Of(rec).HeadFlags&protocol.HeadFlush)
		require.False(t, rec.Ended)
		close(release)
		require.True(t, x.Wait().Ended)
	})
}

func TestDial(t *testing.T) {
	// upgrader answers 101 and echoes in upper case until the client
	// half-closes, then says goodbye and closes.
	upgrader := &upgrader{}
	for _, mode := range []struct {
		name string
		opts []sdktest.Option
	}{
		{name: "with the descriptor passed"},
		{name: "with the socket relayed", opts: []sdktest.Option{sdktest.WithRelaySockets()}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			conn := sdktest.Dial(t, upgrader, sdktest.Request{
				URL: "/ws", Headers: []string{"Connection", "Upgrade", "Upgrade", "shout"}, Head: []byte("early "),
			}, mode.opts...)
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			_, err := conn.Write([]byte("hello"))
			require.NoError(t, err)
			require.NoError(t, conn.(*net.UnixConn).CloseWrite())
			got, err := io.ReadAll(conn)
			require.NoError(t, err)
			require.Equal(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: shout\r\n\r\nEARLY HELLObye", string(got))
		})
	}
	t.Run("a plugin that asks for relaying gets a relayed socket, as from hostd", func(t *testing.T) {
		for _, asks := range []bool{false, true} {
			p := &socketKind{asks: asks, passed: make(chan bool, 1)}
			conn := sdktest.Dial(t, p, sdktest.Request{URL: "/", Headers: []string{"Connection", "Upgrade", "Upgrade", "x"}})
			require.Equal(t, !asks, <-p.passed, "descriptor passed")
			conn.Close()
		}
	})
	t.Run("CONNECT raises the connect event", func(t *testing.T) {
		conn := sdktest.Dial(t, upgrader, sdktest.Request{Method: "CONNECT", URL: "example.com:443"})
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		got, err := io.ReadAll(conn)
		require.NoError(t, err)
		require.Equal(t, "HTTP/1.1 200 Connection Established\r\n\r\nexample.com:443", string(got))
	})
}

type upgrader struct{}

func (upgrader) HandleUpgrade(req *sdk.Request, socket net.Conn, head []byte) {
	defer socket.Close()
	_, _ = fmt.Fprintf(socket, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\n\r\n", req.Header("upgrade"))
	_, _ = socket.Write(bytes.ToUpper(head))
	rest, _ := io.ReadAll(socket)
	_, _ = socket.Write(bytes.ToUpper(rest))
	_, _ = socket.Write([]byte("bye"))
}

func (upgrader) HandleConnect(req *sdk.Request, socket net.Conn, head []byte) {
	defer socket.Close()
	_, _ = fmt.Fprintf(socket, "HTTP/1.1 200 Connection Established\r\n\r\n%s", req.URL())
}

func TestClientError(t *testing.T) {
	var got *sdk.ClientError
	out := sdktest.ClientError(t, clientErrorHandler(func(ce *sdk.ClientError, socket net.Conn) {
		got = ce
		_, _ = socket.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"))
	}), sdk.ClientError{Code: "HPE_INVALID_METHOD", BytesParsed: 1, RawPacket: []byte("G@T / HTTP/1.1\r\n\r\n")})
	require.Equal(t, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", string(out))
	require.Equal(t, &sdk.ClientError{Code: "HPE_INVALID_METHOD", BytesParsed: 1, RawPacket: []byte("G@T / HTTP/1.1\r\n\r\n"), RemoteAddr: "127.0.0.1:40000"}, got)
}

type clientErrorHandler func(*sdk.ClientError, net.Conn)

func (f clientErrorHandler) HandleClientError(ce *sdk.ClientError, socket net.Conn) { f(ce, socket) }

func TestWithoutATest(t *testing.T) {
	t.Run("Do serves and closes its Host", func(t *testing.T) {
		rec := sdktest.Do(nil, echo, sdktest.Request{URL: "/no-t"})
		require.Equal(t, "/no-t", rec.Header("X-URL"))
	})
	t.Run("a failure panics", func(t *testing.T) {
		require.PanicsWithValue(t, "sdktest: GET /: the handler did not end its response within 20ms (does it call End?); it sent []", func() {
			sdktest.Do(nil, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {}), sdktest.Request{}, sdktest.WithTimeout(20*time.Millisecond))
		})
	})
	t.Run("a refused configuration panics", func(t *testing.T) {
		require.PanicsWithValue(t, "sdktest: Configure: greeting is required", func() {
			sdktest.New(nil, &configured{}, sdktest.WithConfig(`{}`))
		})
	})
	t.Run("Dial's connections close with the Host", func(t *testing.T) {
		h := sdktest.New(nil, upgrader{})
		conn := h.Dial(sdktest.Request{Method: "CONNECT", URL: "x:1"})
		h.Close()
		require.ErrorIs(t, conn.SetDeadline(time.Time{}), net.ErrClosed)
	})
}

// socketKind reports whether its upgrade socket is a passed descriptor,
// and asks for relaying when asks is set.
type socketKind struct {
	asks   bool
	passed chan bool
}

func (k *socketKind) RelaySockets() bool { return k.asks }

func (k *socketKind) HandleUpgrade(_ *sdk.Request, socket net.Conn, _ []byte) {
	_, ok := socket.(syscall.Conn)
	k.passed <- ok
	socket.Close()
}
