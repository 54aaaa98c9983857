package sdk_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/internal/wiretest"
	"github.com/hostd/hostd/sdk/sdktest"
)

func TestRequestLine(t *testing.T) {
	for _, tc := range []struct {
		version      string
		major, minor int
	}{
		{"1.1", 1, 1}, {"1.0", 1, 0}, {"2.0", 2, 0}, {"0.9", 0, 9},
	} {
		t.Run("HTTP/"+tc.version+" is reported as such", func(t *testing.T) {
			var version string
			var major, minor int
			serve(t, sdktest.Request{HTTPVersion: tc.version}, func(req *sdk.Request, res *sdk.Response) {
				version, major, minor = req.HTTPVersion(), req.HTTPVersionMajor(), req.HTTPVersionMinor()
				assert.NoError(t, res.End())
			})
			require.Equal(t, tc.version, version)
			require.Equal(t, tc.major, major)
			require.Equal(t, tc.minor, minor)
		})
	}
	t.Run("method, URL and addresses are as sent", func(t *testing.T) {
		var method, url, remote, local string
		serve(t, sdktest.Request{Method: "PROPFIND", URL: "/a%20b?c=d&e", RemoteAddr: "10.0.0.1:1234", LocalAddr: "10.0.0.2:80"},
			func(req *sdk.Request, res *sdk.Response) {
				method, url, remote, local = req.Method(), req.URL(), req.RemoteAddr(), req.LocalAddr()
				assert.NoError(t, res.End())
			})
		require.Equal(t, []string{"PROPFIND", "/a%20b?c=d&e", "10.0.0.1:1234", "10.0.0.2:80"}, []string{method, url, remote, local})
	})
	t.Run("a method outside Node's list is passed through", func(t *testing.T) {
		var method string
		serve(t, sdktest.Request{Method: "BREW"}, func(req *sdk.Request, res *sdk.Response) {
			method = req.Method()
			assert.NoError(t, res.End())
		})
		require.Equal(t, "BREW", method)
	})
}

func TestRequestHeaders(t *testing.T) {
	raw := []string{
		"Host", "example.com",
		"Accept", "text/html",
		"accept", "application/json",
		"Cookie", "a=1",
		"COOKIE", "b=2",
		"Set-Cookie", "s=1",
		"set-cookie", "s=2",
		"Content-Type", "text/plain",
		"content-type", "text/html",
		"X-Empty", "",
	}
	var rawGot []string
	var headers sdk.Headers
	var distinct map[string][]string
	var host, accept, missing string
	serve(t, sdktest.Request{Headers: raw}, func(req *sdk.Request, res *sdk.Response) {
		rawGot, headers, distinct = req.RawHeaders(), req.Headers(), req.HeadersDistinct()
		host, accept, missing = req.Header("HOST"), req.Header("accept"), req.Header("x-missing")
		assert.NoError(t, res.End())
	})
	t.Run("RawHeaders keeps order and case", func(t *testing.T) {
		require.Equal(t, raw, rawGot)
	})
	t.Run("Headers folds repeats by Node's rules", func(t *testing.T) {
		require.Equal(t, sdk.Headers{
			"host":         {"example.com"},
			"accept":       {"text/html, application/json"},
			"cookie":       {"a=1; b=2"},
			"set-cookie":   {"s=1", "s=2"},
			"content-type": {"text/plain"},
			"x-empty":      {""},
		}, headers)
		require.Equal(t, "example.com", host)
		require.Equal(t, "text/html, application/json", accept)
		require.Empty(t, missing)
	})
	t.Run("HeadersDistinct keeps every value", func(t *testing.T) {
		require.Equal(t, map[string][]string{
			"host":         {"example.com"},
			"accept":       {"text/html", "application/json"},
			"cookie":       {"a=1", "b=2"},
			"set-cookie":   {"s=1", "s=2"},
			"content-type": {"text/plain", "text/html"},
			"x-empty":      {""},
		}, distinct)
	})
	t.Run("headers may be read from several goroutines at once", func(t *testing.T) {
		serve(t, sdktest.Request{Headers: raw}, func(req *sdk.Request, res *sdk.Response) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					assert.Equal(t, "example.com", req.Headers().Get("host"))
					assert.Len(t, req.HeadersDistinct()["accept"], 2)
					assert.Equal(t, raw, req.RawHeaders())
					assert.Equal(t, "/", req.URL())
				}()
			}
			wg.Wait()
			assert.NoError(t, res.End())
		})
	})
}

func TestRequestBody(t *testing.T) {
	t.Run("trailers are there once the body is read", func(t *testing.T) {
		var before, after []string
		var folded sdk.Headers
		var distinct map[string][]string
		var completeBefore, completeAfter bool
		var body []byte
		release := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			before, completeBefore = req.RawTrailers(), req.Complete()
			close(release)
			var err error
			body, err = io.ReadAll(req)
			assert.NoError(t, err)
			after, completeAfter = req.RawTrailers(), req.Complete()
			folded, distinct = req.Trailers(), req.TrailersDistinct()
			assert.NoError(t, res.End())
		}))
		pr, pw := io.Pipe()
		x := h.Start(sdktest.Request{Method: "POST", Body: pr, Trailers: []string{"X-Sum", "1", "x-sum", "2"}})
		<-release
		_, err := pw.Write([]byte("streamed body"))
		require.NoError(t, err)
		require.NoError(t, pw.Close())
		x.Wait()
		require.Empty(t, before)
		require.False(t, completeBefore)
		require.Equal(t, "streamed body", string(body))
		require.Equal(t, []string{"X-Sum", "1", "x-sum", "2"}, after)
		require.True(t, completeAfter)
		require.Equal(t, sdk.Headers{"x-sum": {"1, 2"}}, folded)
		require.Equal(t, map[string][]string{"x-sum": {"1", "2"}}, distinct)
	})
	t.Run("a request without a body reads EOF at once", func(t *testing.T) {
		var n int
		var err error
		var complete bool
		serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			complete = req.Complete()
			n, err = req.Read(make([]byte, 10))
			assert.NoError(t, res.End())
		})
		require.True(t, complete)
		require.Zero(t, n)
		require.Equal(t, io.EOF, err)
	})
	t.Run("a read into an empty buffer returns nothing", func(t *testing.T) {
		var n int
		var err error
		serve(t, sdktest.Request{Method: "POST", Body: strings.NewReader("x")}, func(req *sdk.Request, res *sdk.Response) {
			n, err = req.Read(nil)
			_, _ = io.Copy(io.Discard, req)
			assert.NoError(t, res.End())
		})
		require.Zero(t, n)
		require.NoError(t, err)
	})
	t.Run("an inline body reads like a streamed one, without credit", func(t *testing.T) {
		body := bytes.Repeat([]byte("i"), 200<<10) // larger than a quarter window
		var got []byte
		rec := serve(t, sdktest.Request{Method: "POST", Body: bytes.NewReader(body), Inline: true}, func(req *sdk.Request, res *sdk.Response) {
			got, _ = io.ReadAll(req)
			assert.NoError(t, res.End())
		})
		require.Equal(t, body, got)
		require.NotContains(t, wiretest.Of(rec).FrameTypes(), protocol.TypeCredit, "the host never counted inline bytes against the window")
	})
}

func TestRequestBodyFlowControl(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<20/16) // 1 MiB: four windows

	t.Run("no credit is granted before the handler reads", func(t *testing.T) {
		release := make(chan struct{})
		var got []byte
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			<-release
			got, _ = io.ReadAll(req)
			assert.NoError(t, res.End())
		}))
		x := h.Start(sdktest.Request{Method: "POST", Body: bytes.NewReader(body)})
		// The host sends one window, and must then wait.
		require.Eventually(t, func() bool { return wiretest.FlowOf(x).BodySent() == protocol.Window }, 5*time.Second, time.Millisecond)
		require.Zero(t, wiretest.FlowOf(x).Credited())
		close(release)
		x.Wait()
		require.Equal(t, body, got)
		require.GreaterOrEqual(t, wiretest.FlowOf(x).Credited(), int64(len(body)-protocol.Window))
	})

	t.Run("credit follows what the handler has read", func(t *testing.T) {
		xs := make(chan *sdktest.Exchange, 1)
		var violations []string
		var read int64
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			x := <-xs
			buf := make([]byte, 3000) // slow: small reads
			for {
				n, err := req.Read(buf)
				read += int64(n)
				if c := wiretest.FlowOf(x).Credited(); c > read {
					violations = append(violations, "credit beyond what was read")
				}
				if s := wiretest.FlowOf(x).BodySent(); s-read > protocol.Window {
					violations = append(violations, "the host was let past the window")
				}
				if err == io.EOF {
					break
				}
				assert.NoError(t, err)
			}
			assert.NoError(t, res.End())
		}))
		x := h.Start(sdktest.Request{Method: "POST", Body: bytes.NewReader(body)})
		xs <- x
		x.Wait()
		require.Empty(t, violations)
		require.Equal(t, int64(len(body)), read)
	})
}

func TestRequestExpectContinue(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  sdktest.Request
	}{
		{name: "a checkContinue event", req: sdktest.Request{Event: sdktest.EventCheckContinue}},
		{name: "a request with Expect: 100-continue", req: sdktest.Request{Headers: []string{"Expect", "100-continue"}}},
	} {
		t.Run(tc.name+" gets no body until the handler reads", func(t *testing.T) {
			xs := make(chan *sdktest.Exchange, 1)
			var sentBeforeRead int64
			var got []byte
			handler := &continuer{fn: func(req *sdk.Request, res *sdk.Response) {
				x := <-xs
				assert.NoError(t, res.WriteContinue())
				sentBeforeRead = wiretest.FlowOf(x).BodySent()
				got, _ = io.ReadAll(req)
				assert.NoError(t, res.EndString("ok"))
			}}
			h := sdktest.New(t, handler)
			tc.req.Method, tc.req.Body = "PUT", strings.NewReader("the body")
			x := h.Start(tc.req)
			xs <- x
			rec := x.Wait()
			require.Zero(t, sentBeforeRead)
			require.Equal(t, "the body", string(got))
			require.Equal(t, []sdktest.Informational{{Status: 100}}, rec.Informational)
			types := wiretest.Of(rec).FrameTypes()
			require.Equal(t, []protocol.Type{protocol.TypeInfo, protocol.TypeCredit, protocol.TypeEnd}, types,
				"the first credit, a whole window, follows the 100 and the first read")
			n, err := protocol.DecodeUint32(wiretest.Of(rec).Frames[1].Payload)
			require.NoError(t, err)
			require.Equal(t, uint32(protocol.Window), n)
		})
	}
	t.Run("a handler that answers without reading never asks for the body", func(t *testing.T) {
		xs := make(chan *sdktest.Exchange, 1)
		h := sdktest.New(t, &continuer{fn: func(req *sdk.Request, res *sdk.Response) {
			<-xs
			res.StatusCode = 417
			assert.NoError(t, res.End())
		}})
		x := h.Start(sdktest.Request{Event: sdktest.EventCheckContinue, Method: "PUT", Body: strings.NewReader("unwanted")})
		xs <- x
		rec := x.Wait()
		require.Equal(t, 417, rec.Status)
		require.Zero(t, wiretest.FlowOf(x).BodySent())
		require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
	})
}

// continuer handles checkContinue and ordinary requests alike.
type continuer struct {
	fn func(*sdk.Request, *sdk.Response)
}

func (c *continuer) HandleRequest(req *sdk.Request, res *sdk.Response)       { c.fn(req, res) }
func (c *continuer) HandleCheckContinue(req *sdk.Request, res *sdk.Response) { c.fn(req, res) }

var (
	_ sdk.RequestHandler       = (*continuer)(nil)
	_ sdk.CheckContinueHandler = (*continuer)(nil)
)

func TestRequestCheckExpectation(t *testing.T) {
	rec := sdktest.Do(t, expecter{}, sdktest.Request{Event: sdktest.EventCheckExpectation, Headers: []string{"Expect", "something-else"}})
	require.Equal(t, 417, rec.Status)
	require.Equal(t, "something-else", rec.Header("X-Expected"))
}

type expecter struct{}

func (expecter) HandleCheckExpectation(req *sdk.Request, res *sdk.Response) {
	res.SetHeader("X-Expected", req.Header("expect"))
	res.StatusCode = 417
	_ = res.End()
}

func TestRequestAbort(t *testing.T) {
	type outcome struct {
		readErr, writeErr, endErr, infoErr error
		aborted, callback, late            bool
		ctxErr                             error
	}
	got := make(chan outcome, 1)
	reading := make(chan struct{})
	h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		var o outcome
		ctx := req.Context()
		called := make(chan struct{})
		req.OnAborted(func() { close(called) })
		close(reading)
		_, o.readErr = io.ReadAll(req)
		select {
		case <-called:
			o.callback = true
		case <-time.After(5 * time.Second):
		}
		<-ctx.Done()
		o.ctxErr = ctx.Err()
		o.aborted = req.Aborted()
		_, o.writeErr = res.Write([]byte("too late"))
		o.endErr = res.End()
		o.infoErr = res.WriteProcessing()
		late := make(chan struct{})
		req.OnAborted(func() { close(late) })
		select {
		case <-late:
			o.late = true
		case <-time.After(5 * time.Second):
		}
		got <- o
	}))
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	x := h.Start(sdktest.Request{Method: "POST", Body: pr})
	<-reading
	x.Abort()
	o := <-got
	require.ErrorIs(t, o.readErr, sdk.ErrAborted)
	require.True(t, o.callback, "OnAborted ran")
	require.Equal(t, context.Canceled, o.ctxErr)
	require.True(t, o.aborted)
	require.ErrorIs(t, o.writeErr, sdk.ErrAborted)
	require.ErrorIs(t, o.endErr, sdk.ErrAborted)
	require.ErrorIs(t, o.infoErr, sdk.ErrAborted)
	require.True(t, o.late, "an OnAborted registered after the abort runs too")
	require.True(t, x.Recorder().Aborted)
}

func TestRequestSetTimeout(t *testing.T) {
	t.Run("it sets the socket timeout that Response.SetTimeout sets", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, req.SetTimeout(3*time.Second, nil))
			assert.NoError(t, res.End())
		})
		require.Equal(t, []time.Duration{3 * time.Second}, rec.Timeouts)
	})
	t.Run("its callback hears a timeout while the body is arriving", func(t *testing.T) {
		set := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			heard := make(chan struct{})
			assert.NoError(t, req.SetTimeout(time.Second, func() { close(heard) }))
			close(set)
			<-heard
			assert.False(t, req.Complete())
			assert.NoError(t, res.EndString("heard"))
		}))
		body, w := io.Pipe()
		defer w.Close()
		x := h.Start(sdktest.Request{Method: "POST", Body: body})
		<-set
		x.Timeout()
		require.Equal(t, "heard", string(x.Wait().Body))
	})
}
