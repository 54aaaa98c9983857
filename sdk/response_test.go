package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/internal/wiretest"
	"github.com/hostd/hostd/sdk/sdktest"
)

func TestResponseHeaderBookkeeping(t *testing.T) {
	var names, raw []string
	var all map[string][]string
	var first, missing string
	var has, hasGone bool
	var values []string
	rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
		res.SetHeader("Content-Type", "text/plain")
		res.SetHeader("X-Multi", "a", "b")
		res.AppendHeader("x-multi", "c")
		res.SetHeader("X-Gone", "1")
		res.RemoveHeader("x-gone")
		res.SetHeader("X-Replaced", "old")
		res.SetHeader("X-REPLACED", "new")
		res.SetHeaders(map[string][]string{"X-From-Map": {"m"}})
		names, raw, all = res.GetHeaderNames(), res.GetRawHeaderNames(), res.GetHeaders()
		first, missing = res.GetHeader("x-multi"), res.GetHeader("x-none")
		has, hasGone = res.HasHeader("CONTENT-TYPE"), res.HasHeader("X-Gone")
		values = res.GetHeaderValues("X-Multi")
		assert.False(t, res.HeadersSent(), "bookkeeping sends nothing")
		assert.NoError(t, res.End())
	})
	require.Equal(t, []string{"content-type", "x-multi", "x-replaced", "x-from-map"}, names)
	require.Equal(t, []string{"Content-Type", "X-Multi", "X-REPLACED", "X-From-Map"}, raw, "names as last set, in the order first set, as in Node")
	require.Equal(t, map[string][]string{
		"content-type": {"text/plain"}, "x-multi": {"a", "b", "c"}, "x-replaced": {"new"}, "x-from-map": {"m"},
	}, all)
	require.Equal(t, "a", first)
	require.Empty(t, missing)
	require.True(t, has)
	require.False(t, hasGone)
	require.Equal(t, []string{"a", "b", "c"}, values)
	require.Equal(t, []string{
		"Content-Type", "text/plain",
		"X-Multi", "a", "X-Multi", "b", "X-Multi", "c",
		"X-REPLACED", "new",
		"X-From-Map", "m",
	}, rec.Headers, "each value is its own field line, in the order set")
	require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
}

func TestResponseWriteHeadMap(t *testing.T) {
	var err error
	rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
		res.SetHeader("X-Kept", "1")
		res.SetHeader("X-Replaced", "old")
		res.WriteHeadMap(202, map[string][]string{"X-Replaced": {"a", "b"}})
		err = res.WriteHeadMap(203, map[string][]string{"X-Late": {"1"}}).Err()
		assert.Same(t, err, res.End(), "End reports the late call")
	})
	require.Equal(t, 202, rec.Status)
	require.Equal(t, []string{"X-Kept", "1", "X-Replaced", "a", "X-Replaced", "b"}, rec.Headers)
	require.Equal(t, protocol.HeadExplicit, wiretest.Of(rec).HeadFlags&protocol.HeadExplicit)
	require.Equal(t, "ERR_HTTP_HEADERS_SENT", codeOf(err))
}

func TestResponseRemovedHeadersAreFlagged(t *testing.T) {
	for _, tc := range []struct {
		name string
		flag uint8
	}{
		{name: "Date", flag: protocol.HeadNoDate},
		{name: "Content-Length", flag: protocol.HeadRemovedContentLength},
		{name: "Transfer-Encoding", flag: protocol.HeadRemovedTransferEncoding},
		{name: "Connection", flag: protocol.HeadRemovedConnection},
	} {
		t.Run("removing "+tc.name+" stops hostd from adding its own", func(t *testing.T) {
			rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
				res.RemoveHeader(tc.name)
				assert.NoError(t, res.End())
			})
			require.Equal(t, tc.flag, wiretest.Of(rec).HeadFlags&tc.flag)
		})
	}
	t.Run("SendDate false and StrictContentLength are flagged", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.SendDate, res.StrictContentLength = false, true
			assert.NoError(t, res.End())
		})
		require.Equal(t, protocol.HeadNoDate|protocol.HeadStrict, wiretest.Of(rec).HeadFlags)
	})
}

func TestResponseHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(res *sdk.Response) error
		code string
	}{
		{name: "a name that is not a token", code: "ERR_INVALID_HTTP_TOKEN",
			call: func(res *sdk.Response) error { return res.SetHeader("Bad Name", "v").Err() }},
		{name: "an empty name", code: "ERR_INVALID_HTTP_TOKEN",
			call: func(res *sdk.Response) error { return res.AppendHeader("", "v").Err() }},
		{name: "a header without a value", code: "ERR_HTTP_INVALID_HEADER_VALUE",
			call: func(res *sdk.Response) error { return res.SetHeader("X-Empty").Err() }},
		{name: "a value with a newline", code: "ERR_INVALID_CHAR",
			call: func(res *sdk.Response) error { return res.SetHeader("X-Split", "a\r\nInjected: 1").Err() }},
		{name: "a value with a NUL", code: "ERR_INVALID_CHAR",
			call: func(res *sdk.Response) error { return res.AppendHeader("X-Nul", "ok", "a\x00").Err() }},
		{name: "a bad name in SetHeaders", code: "ERR_INVALID_HTTP_TOKEN",
			call: func(res *sdk.Response) error { return res.SetHeaders(map[string][]string{"a b": {"v"}}).Err() }},
		{name: "a status below 100", code: "ERR_HTTP_INVALID_STATUS_CODE",
			call: func(res *sdk.Response) error { return res.WriteHead(99).Err() }},
		{name: "a status above 999", code: "ERR_HTTP_INVALID_STATUS_CODE",
			call: func(res *sdk.Response) error { return res.WriteHead(1000).Err() }},
		{name: "a bad header in WriteHead", code: "ERR_INVALID_HTTP_TOKEN",
			call: func(res *sdk.Response) error { return res.WriteHead(200, "a:b", "v").Err() }},
		{name: "an odd header list in WriteHead", code: "ERR_INVALID_ARG_VALUE",
			call: func(res *sdk.Response) error { return res.WriteHead(200, "X-Alone").Err() }},
		{name: "a status message with a newline", code: "ERR_INVALID_CHAR",
			call: func(res *sdk.Response) error { res.StatusMessage = "OK\r\nX: y"; return res.WriteHead(200).Err() }},
	} {
		t.Run(tc.name+" is kept, and fails the response at End with "+tc.code, func(t *testing.T) {
			var err, endErr, errAfter error
			rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
				err = tc.call(res)
				res.StatusMessage = ""
				assert.False(t, res.HeadersSent(), "a refused call fixes nothing")
				res.SetHeader("X-Later", "fine") // the first error stays the one kept
				errAfter = res.Err()
				endErr = res.End()
			})
			require.Equal(t, tc.code, codeOf(err), "got %v", err)
			var se *sdk.Error
			require.True(t, errors.As(err, &se))
			require.True(t, errors.Is(err, &sdk.Error{Code: tc.code}))
			require.Same(t, err, errAfter)
			require.Same(t, err, endErr, "End returns the kept error")
			require.True(t, rec.Reset, "no head is sent: hostd answers 500")
			require.Contains(t, rec.ResetMessage, tc.code)
			require.Empty(t, rec.Headers)
		})
	}
}

func TestResponseHeadersSent(t *testing.T) {
	for _, when := range []struct {
		name string
		do   func(res *sdk.Response) error
	}{
		{name: "after WriteHead", do: func(res *sdk.Response) error { return res.WriteHead(200).Err() }},
		{name: "after FlushHeaders", do: func(res *sdk.Response) error { return res.FlushHeaders() }},
		{name: "after a Write", do: func(res *sdk.Response) error { _, err := res.Write([]byte("x")); return err }},
		{name: "after a corked Write, as in Node where the write stores the head", do: func(res *sdk.Response) error {
			res.Cork()
			_, err := res.Write([]byte("x"))
			return err
		}},
	} {
		for call, late := range map[string]func(res *sdk.Response) error{
			"SetHeader":       func(res *sdk.Response) error { return res.SetHeader("X-Late", "1").Err() },
			"AppendHeader":    func(res *sdk.Response) error { return res.AppendHeader("X-Late", "1").Err() },
			"SetHeaders":      func(res *sdk.Response) error { return res.SetHeaders(map[string][]string{"X-Late": {"1"}}).Err() },
			"RemoveHeader":    func(res *sdk.Response) error { return res.RemoveHeader("X-Late").Err() },
			"WriteHead":       func(res *sdk.Response) error { return res.WriteHead(201).Err() },
			"WriteContinue":   func(res *sdk.Response) error { return res.WriteContinue() },
			"WriteEarlyHints": func(res *sdk.Response) error { return res.WriteEarlyHints("Link", "</a>; rel=preload") },
		} {
			t.Run(when.name+", "+call+" fails", func(t *testing.T) {
				var err error
				serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
					assert.NoError(t, when.do(res))
					assert.True(t, res.HeadersSent())
					err = late(res)
					_ = res.End()
				})
				require.Equal(t, "ERR_HTTP_HEADERS_SENT", codeOf(err), "%v", err)
			})
		}
	}
	t.Run("a header set too late is reported by End, which still ends the response", func(t *testing.T) {
		var endErr error
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			_, _ = res.WriteString("body")
			res.SetHeader("X-Late", "1")
			endErr = res.End()
		})
		require.Equal(t, "ERR_HTTP_HEADERS_SENT", codeOf(endErr))
		require.True(t, rec.Ended)
		require.False(t, rec.Reset)
		require.Equal(t, "body", string(rec.Body))
	})
	t.Run("after End", func(t *testing.T) {
		var err error
		serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.End())
			err = res.SetHeader("X-Late", "1").Err()
		})
		require.Equal(t, "ERR_HTTP_HEADERS_SENT", codeOf(err))
		require.EqualError(t, err, "Cannot set headers after they are sent to the client [ERR_HTTP_HEADERS_SENT]")
	})
}

func endFrame(t *testing.T, rec *sdktest.Recorder) protocol.End {
	t.Helper()
	require.NotEmpty(t, wiretest.Of(rec).Frames)
	f := wiretest.Of(rec).Frames[len(wiretest.Of(rec).Frames)-1]
	require.Equal(t, protocol.TypeEnd, f.Type)
	var e protocol.End
	require.NoError(t, protocol.DecodeEnd(f.Payload, &e))
	return e
}

func TestResponseStatusMessage(t *testing.T) {
	rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
		res.StatusCode, res.StatusMessage = 299, "Custom Reason"
		assert.NoError(t, res.End())
	})
	require.Equal(t, 299, rec.Status)
	require.Equal(t, "Custom Reason", rec.StatusMessage)
}

func TestResponseCork(t *testing.T) {
	t.Run("writes between Cork and Uncork leave in one frame", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.Cork()
			res.Cork()
			for _, s := range []string{"a", "b", "c"} {
				_, err := res.WriteString(s)
				assert.NoError(t, err)
			}
			assert.True(t, res.HeadersSent(), "a write stores the head, corked or not, as in Node")
			assert.NoError(t, res.Uncork())
			_, err := res.WriteString("d") // still corked once: buffered with the rest
			assert.NoError(t, err)
			assert.NoError(t, res.Uncork())
			assert.NoError(t, res.Uncork(), "an extra Uncork does nothing")
			assert.NoError(t, res.End())
		})
		require.Equal(t, []protocol.Type{protocol.TypeHead, protocol.TypeBody, protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, "abcd", string(wiretest.Of(rec).Frames[1].Payload))
	})
	t.Run("End while corked sends everything in the End frame", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.Cork()
			_, err := res.WriteString("corked ")
			assert.NoError(t, err)
			assert.NoError(t, res.EndString("end"))
		})
		require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, "corked end", string(rec.Body))
	})
}

func TestResponseTrailers(t *testing.T) {
	t.Run("trailers travel in the End frame", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.SetHeader("Trailer", "X-Checksum")
			_, err := res.WriteString("data")
			assert.NoError(t, err)
			res.AddTrailers("X-Ignored", "1")
			res.AddTrailers("X-Checksum", "abc", "X-Count", "1")
			assert.NoError(t, res.End())
		})
		require.Equal(t, []string{"X-Checksum", "abc", "X-Count", "1"}, rec.Trailers, "AddTrailers replaces, as in Node")
		require.Equal(t, []string{"X-Checksum", "abc", "X-Count", "1"}, strs(endFrame(t, rec).Trailers))
	})
	for _, tc := range []struct {
		name   string
		fields []string
		code   string
	}{
		{name: "a bad trailer name", fields: []string{"X Bad", "v"}, code: "ERR_INVALID_HTTP_TOKEN"},
		{name: "a bad trailer value", fields: []string{"X-Ok", "a\nb"}, code: "ERR_INVALID_CHAR"},
		{name: "an odd trailer list", fields: []string{"X-Alone"}, code: "ERR_INVALID_ARG_VALUE"},
	} {
		t.Run(tc.name+" is refused with "+tc.code, func(t *testing.T) {
			var err, endErr error
			rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
				err = res.AddTrailers(tc.fields...).Err()
				endErr = res.End()
			})
			require.Equal(t, tc.code, codeOf(err), "got %v", err)
			require.Same(t, err, endErr)
			require.Empty(t, rec.Trailers)
		})
	}
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i := range b {
		out[i] = string(b[i])
	}
	return out
}

func TestResponseInformational(t *testing.T) {
	t.Run("early hints send each Link value as its own field", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.WriteEarlyHints(
				"Link", "</style.css>; rel=preload; as=style",
				"Link", "</app.js>; rel=preload; as=script",
				"X-Hint", "yes",
			))
			assert.NoError(t, res.End())
		})
		require.Equal(t, []protocol.Type{protocol.TypeInfo, protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, []sdktest.Informational{{Status: 103, Headers: []string{
			"Link", "</style.css>; rel=preload; as=style",
			"Link", "</app.js>; rel=preload; as=script",
			"X-Hint", "yes",
		}}}, rec.Informational)
	})
	t.Run("early hints without a Link send nothing", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.WriteEarlyHints("X-Hint", "yes"))
			assert.NoError(t, res.End())
		})
		require.Empty(t, rec.Informational)
	})
	for _, tc := range []struct {
		name  string
		hints []string
		code  string
	}{
		{name: "a Link value that is not a URI in angle brackets", hints: []string{"Link", "/style.css; rel=preload"}, code: "ERR_INVALID_ARG_VALUE"},
		{name: "a Link value with a newline", hints: []string{"Link", "</a>; rel=preload\r\nX: y"}, code: "ERR_INVALID_ARG_VALUE"},
		{name: "a bad hint name", hints: []string{"Link", "</a>", "Bad Name", "v"}, code: "ERR_INVALID_HTTP_TOKEN"},
		{name: "a bad hint value", hints: []string{"Link", "</a>", "X-Hint", "a\nb"}, code: "ERR_INVALID_CHAR"},
		{name: "an odd hint list", hints: []string{"Link"}, code: "ERR_INVALID_ARG_VALUE"},
	} {
		t.Run(tc.name+" is refused with "+tc.code, func(t *testing.T) {
			var err error
			rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
				err = res.WriteEarlyHints(tc.hints...)
				assert.NoError(t, res.End())
			})
			require.Equal(t, tc.code, codeOf(err), "got %v", err)
			require.Empty(t, rec.Informational)
		})
	}
	t.Run("100 Continue and 102 Processing are sent as Info frames", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.WriteContinue())
			assert.NoError(t, res.WriteProcessing())
			assert.NoError(t, res.End())
		})
		require.Equal(t, []sdktest.Informational{{Status: 100}, {Status: 102}}, rec.Informational)
	})
}

func TestResponseSetTimeout(t *testing.T) {
	t.Run("the duration is sent in milliseconds, at least one", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.SetTimeout(2*time.Second, nil))
			assert.NoError(t, res.SetTimeout(time.Microsecond, nil))
			assert.NoError(t, res.End())
		})
		require.Equal(t, []time.Duration{2 * time.Second, time.Millisecond}, rec.Timeouts)
	})
	t.Run("every callback runs when hostd reports the timeout", func(t *testing.T) {
		set := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			a, b := make(chan struct{}), make(chan struct{})
			assert.NoError(t, res.SetTimeout(time.Second, func() { close(a) }))
			assert.NoError(t, res.SetTimeout(time.Second, func() { close(b) }))
			close(set)
			<-a
			<-b
			assert.NoError(t, res.EndString("both ran"))
		}))
		x := h.Start(sdktest.Request{})
		<-set
		x.Timeout()
		require.Equal(t, "both ran", string(x.Wait().Body))
	})
}

func TestResponseCallbacks(t *testing.T) {
	t.Run("OnFinish, OnClose and the request's close run once hostd delivered the response", func(t *testing.T) {
		events := make(chan string, 4)
		var finishedInListener bool
		var ctx context.Context
		serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.OnFinish(func() { finishedInListener = res.WritableFinished(); events <- "finish" })
			res.OnClose(func() { events <- "close" })
			req.OnClose(func() { events <- "request close" })
			ctx = req.Context()
			assert.Same(t, req, res.Req())
			assert.NoError(t, res.End())
			events <- "returned"
		})
		var order []string
		for range 4 {
			order = append(order, <-events)
		}
		require.True(t, finishedInListener, "finished once hostd says the response is on the client's socket")
		require.Equal(t, []string{"finish", "close", "request close"}, slices.DeleteFunc(slices.Clone(order), func(s string) bool { return s == "returned" }))
		<-ctx.Done()
	})
	t.Run("without listeners End finishes at once", func(t *testing.T) {
		var finished bool
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.End())
			finished = res.WritableFinished()
		})
		require.True(t, finished)
		require.NotContains(t, wiretest.Of(rec).FrameTypes(), protocol.TypeFinished)
	})
	t.Run("OnClose runs when the request is aborted, OnFinish does not", func(t *testing.T) {
		type outcome struct{ closed, finished bool }
		got := make(chan outcome, 1)
		registered := make(chan struct{})
		h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
			closed, finished := make(chan struct{}), false
			res.OnClose(func() { close(closed) })
			res.OnFinish(func() { finished = true })
			close(registered)
			var o outcome
			select {
			case <-closed:
				o.closed = true
			case <-time.After(5 * time.Second):
			}
			o.finished = finished
			got <- o
		}))
		x := h.Start(sdktest.Request{})
		<-registered
		x.Abort()
		require.Equal(t, outcome{closed: true}, <-got)
	})
	t.Run("a failed End runs neither", func(t *testing.T) {
		var ran atomic.Bool
		closed := make(chan struct{})
		serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.OnFinish(func() { ran.Store(true) })
			res.OnClose(func() { ran.Store(true); close(closed) })
			res.StrictContentLength = true
			res.SetHeader("Content-Length", "10")
			assert.Error(t, res.End([]byte("short")))
			res.StrictContentLength = false
			assert.Equal(t, "ERR_HTTP_HEADERS_SENT", codeOf(res.RemoveHeader("Content-Length").Err()), "the failed End stored the head, as in Node")
			assert.False(t, ran.Load())
			assert.Equal(t, "ERR_HTTP_HEADERS_SENT", codeOf(res.End()), "End ends, and reports the late call")
		})
		<-closed
		require.True(t, ran.Load())
	})
}

func TestResponseConcurrentRequestsAnswerOutOfOrder(t *testing.T) {
	release := make(chan struct{})
	h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		if req.URL() == "/slow" {
			<-release
		}
		assert.NoError(t, res.EndString(strings.TrimPrefix(req.URL(), "/")))
	}))
	slow := h.Start(sdktest.Request{URL: "/slow"})
	require.Equal(t, "fast", string(h.Do(sdktest.Request{URL: "/fast"}).Body))
	close(release)
	require.Equal(t, "slow", string(slow.Wait().Body))
}

func TestResponseBodyNotAllowed(t *testing.T) {
	cases := []struct {
		name   string
		method string
		head   func(res *sdk.Response)
	}{
		{name: "a HEAD response", method: "HEAD", head: func(res *sdk.Response) {}},
		{name: "a 204 set with WriteHead", head: func(res *sdk.Response) { res.WriteHead(204) }},
		{name: "a 304 set with WriteHead", head: func(res *sdk.Response) { res.WriteHead(304) }},
		{name: "a 204 set with StatusCode", head: func(res *sdk.Response) { res.StatusCode = 204 }},
		{name: "a 304 set with StatusCode", head: func(res *sdk.Response) { res.StatusCode = 304 }},
	}
	for _, tc := range cases {
		t.Run(tc.name+" refuses a body with RejectNonStandardBodyWrites", func(t *testing.T) {
			var writeErr, endErr error
			rec := serve(t, sdktest.Request{Method: tc.method}, func(req *sdk.Request, res *sdk.Response) {
				tc.head(res)
				_, writeErr = res.Write([]byte("body"))
				endErr = res.End([]byte("body"))
				if endErr != nil {
					assert.NoError(t, res.End())
				}
			}, sdktest.WithRejectNonStandardBodyWrites())
			require.Equal(t, "ERR_HTTP_BODY_NOT_ALLOWED", codeOf(writeErr))
			require.Equal(t, "ERR_HTTP_BODY_NOT_ALLOWED", codeOf(endErr))
			require.Empty(t, rec.Body)
			require.True(t, rec.Ended)
		})
		t.Run(tc.name+" drops a body otherwise", func(t *testing.T) {
			var n int
			var writeErr, endErr error
			rec := serve(t, sdktest.Request{Method: tc.method}, func(req *sdk.Request, res *sdk.Response) {
				tc.head(res)
				n, writeErr = res.Write([]byte("body"))
				endErr = res.End([]byte("more"))
			})
			require.NoError(t, writeErr)
			require.Equal(t, 4, n, "the write reports success, as in Node")
			require.NoError(t, endErr)
			require.Empty(t, rec.Body)
			require.NotContains(t, wiretest.Of(rec).FrameTypes(), protocol.TypeBody)
			require.True(t, rec.Ended)
		})
	}
}

func TestResponseImplicitHeadIsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(res *sdk.Response)
		code string
	}{
		{name: "a status code out of range", code: "ERR_HTTP_INVALID_STATUS_CODE",
			set: func(res *sdk.Response) { res.StatusCode = 1000 }},
		{name: "a negative status code", code: "ERR_HTTP_INVALID_STATUS_CODE",
			set: func(res *sdk.Response) { res.StatusCode = -200 }},
		{name: "a status message with a newline", code: "ERR_INVALID_CHAR",
			set: func(res *sdk.Response) { res.StatusMessage = "OK\nX-Injected: 1" }},
	} {
		for _, call := range []struct {
			name string
			do   func(res *sdk.Response) error
		}{
			{name: "End", do: func(res *sdk.Response) error { return res.End([]byte("x")) }},
			{name: "Write", do: func(res *sdk.Response) error { _, err := res.Write([]byte("x")); return err }},
			{name: "FlushHeaders", do: func(res *sdk.Response) error { return res.FlushHeaders() }},
		} {
			t.Run(tc.name+" fails "+call.name+" with "+tc.code, func(t *testing.T) {
				var err error
				rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
					tc.set(res)
					err = call.do(res)
					assert.False(t, res.HeadersSent(), "nothing was sent")
					res.StatusCode, res.StatusMessage = 500, ""
					assert.NoError(t, res.End())
				})
				require.Equal(t, tc.code, codeOf(err), "got %v", err)
				require.Equal(t, 500, rec.Status)
				require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
			})
		}
	}
}

func TestResponseAfterEnd(t *testing.T) {
	var writeErr, endErr, endDataErr error
	var ended, finished bool
	rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
		assert.NoError(t, res.EndString("done"))
		ended, finished = res.WritableEnded(), res.WritableFinished()
		_, writeErr = res.Write([]byte("more"))
		endErr = res.End()
		endDataErr = res.End([]byte("more"))
	})
	require.True(t, ended)
	require.True(t, finished)
	require.Equal(t, "ERR_STREAM_WRITE_AFTER_END", codeOf(writeErr))
	require.Equal(t, "ERR_STREAM_ALREADY_FINISHED", codeOf(endErr))
	require.Equal(t, "ERR_STREAM_WRITE_AFTER_END", codeOf(endDataErr), "End with data after End is a write after end, as in Node")
	require.Equal(t, "done", string(rec.Body))
	require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes(), "nothing is sent after End")
}

// endFrame decodes the End frame of rec, its last frame.

func TestResponseStrictContentLength(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(res *sdk.Response) error
		code  string
	}{
		{name: "a body that matches passes", write: func(res *sdk.Response) error {
			_, err := res.Write([]byte("ab"))
			require.NoError(t, err)
			return res.End([]byte("cd"))
		}},
		{name: "a write past the length fails", code: "ERR_HTTP_CONTENT_LENGTH_MISMATCH", write: func(res *sdk.Response) error {
			_, err := res.Write([]byte("abcde"))
			return err
		}},
		{name: "an End short of the length fails", code: "ERR_HTTP_CONTENT_LENGTH_MISMATCH", write: func(res *sdk.Response) error {
			return res.End([]byte("abc"))
		}},
		{name: "an empty End fails", code: "ERR_HTTP_CONTENT_LENGTH_MISMATCH", write: func(res *sdk.Response) error {
			return res.End()
		}},
		{name: "corked writes that match pass", write: func(res *sdk.Response) error {
			res.Cork()
			_, err := res.Write([]byte("ab"))
			require.NoError(t, err)
			return res.End([]byte("cd"))
		}},
		{name: "corked writes past the length fail", code: "ERR_HTTP_CONTENT_LENGTH_MISMATCH", write: func(res *sdk.Response) error {
			res.Cork()
			_, err := res.Write([]byte("abc"))
			require.NoError(t, err)
			return res.End([]byte("de"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
				res.StrictContentLength = true
				res.SetHeader("Content-Length", "4")
				err = tc.write(res)
				if !res.WritableEnded() {
					res.StrictContentLength = false
					assert.NoError(t, res.End())
				}
			})
			if tc.code == "" {
				require.NoError(t, err)
				require.Equal(t, "abcd", string(rec.Body))
				return
			}
			require.Equal(t, tc.code, codeOf(err), "got %v", err)
			require.Contains(t, err.Error(), "does not match the content-length of 4 byte(s)")
		})
	}
	t.Run("an End refused for a mismatch keeps the corked bytes", func(t *testing.T) {
		var err error
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.StrictContentLength = true
			res.SetHeader("Content-Length", "4")
			res.Cork()
			_, werr := res.Write([]byte("ab"))
			assert.NoError(t, werr)
			err = res.End([]byte("c"))
			assert.NoError(t, res.End([]byte("cd")))
		})
		require.Equal(t, "ERR_HTTP_CONTENT_LENGTH_MISMATCH", codeOf(err))
		require.Equal(t, "abcd", string(rec.Body))
	})
	t.Run("without StrictContentLength bytes past the length are dropped, unlike Node", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.SetHeader("Content-Length", "4")
			n, err := res.Write([]byte("to"))
			assert.NoError(t, err)
			assert.Equal(t, 2, n)
			n, err = res.Write([]byte("o long"))
			assert.NoError(t, err)
			assert.Equal(t, 6, n, "the write reports the bytes it was given")
			assert.NoError(t, res.End([]byte("er")))
		})
		require.Equal(t, "too ", string(rec.Body), "never a byte the client would take for the next response")
	})
}

func TestResponseEndShapes(t *testing.T) {
	t.Run("End before any write is one End frame with head and data", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.StatusCode = 201
			res.SetHeader("Content-Type", "text/plain")
			assert.NoError(t, res.End([]byte("hello "), []byte("world")))
		})
		require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		e := endFrame(t, rec)
		require.True(t, e.HasHead)
		require.Equal(t, uint16(201), e.Head.Status)
		require.Zero(t, e.Head.Flags&protocol.HeadExplicit, "an implicit head")
		require.Equal(t, int64(11), e.Head.Length, "an implicit head declares the length End was given")
		require.Equal(t, "hello world", string(e.Data))
		require.Equal(t, []string{"Content-Type", "text/plain"}, rec.Headers)
	})
	t.Run("WriteHead then End sends an explicit head in the End frame", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.SetHeader("X-Set", "1")
			res.WriteHead(404, "Content-Type", "text/html", "X-Set", "2", "X-Set", "3")
			assert.True(t, res.HeadersSent())
			assert.NoError(t, res.End([]byte("missing")))
		})
		require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		e := endFrame(t, rec)
		require.True(t, e.HasHead)
		require.Equal(t, protocol.HeadExplicit, e.Head.Flags&protocol.HeadExplicit)
		require.Equal(t, 404, rec.Status)
		require.Equal(t, []string{"X-Set", "3", "Content-Type", "text/html"}, rec.Headers,
			"over headers set before, each pair of WriteHead sets its header, as in Node v20")
		require.Equal(t, "missing", string(rec.Body))
	})
	t.Run("a large End streams with the length in its head", func(t *testing.T) {
		body := bytes.Repeat([]byte("x"), 3*protocol.MaxChunk+17)
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.End(body))
		})
		require.Equal(t, []protocol.Type{protocol.TypeHead, protocol.TypeBody, protocol.TypeBody, protocol.TypeBody, protocol.TypeBody, protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, int64(len(body)), wiretest.Of(rec).Length, "hostd frames it with this Content-Length")
		require.Equal(t, body, rec.Body)
		require.False(t, endFrame(t, rec).HasHead)
	})
	t.Run("a large End after WriteHead announces no length", func(t *testing.T) {
		// As in Node: WriteHead stores the head before the body is known,
		// so the body is not given a Content-Length, whatever its size.
		body := bytes.Repeat([]byte("y"), protocol.MaxChunk+1)
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.WriteHead(200)
			assert.NoError(t, res.End(body))
		})
		require.Equal(t, protocol.TypeHead, wiretest.Of(rec).Frames[0].Type)
		require.Equal(t, protocol.HeadExplicit, wiretest.Of(rec).HeadFlags&protocol.HeadExplicit)
		require.Equal(t, int64(-1), wiretest.Of(rec).Length)
		require.Equal(t, body, rec.Body)
	})
	t.Run("End of exactly MaxChunk stays one frame", func(t *testing.T) {
		body := bytes.Repeat([]byte("z"), protocol.MaxChunk)
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.End(body))
		})
		require.Equal(t, []protocol.Type{protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, body, rec.Body)
	})
	t.Run("writes then End send head, body frames, and an End without head", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			_, err := res.WriteString("a")
			assert.NoError(t, err)
			_, err = res.Write([]byte("b"))
			assert.NoError(t, err)
			assert.NoError(t, res.End([]byte("c")))
		})
		require.Equal(t, []protocol.Type{protocol.TypeHead, protocol.TypeBody, protocol.TypeBody, protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, "abc", string(rec.Body))
		require.Zero(t, wiretest.Of(rec).HeadFlags&protocol.HeadExplicit)
		require.False(t, endFrame(t, rec).HasHead)
	})
	t.Run("FlushHeaders sends the head at once, flagged", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			assert.NoError(t, res.FlushHeaders())
			assert.NoError(t, res.FlushHeaders(), "a second flush does nothing")
			assert.NoError(t, res.End())
		})
		require.Equal(t, []protocol.Type{protocol.TypeHead, protocol.TypeEnd}, wiretest.Of(rec).FrameTypes())
		require.Equal(t, protocol.HeadFlush, wiretest.Of(rec).HeadFlags&protocol.HeadFlush)
	})
	t.Run("a body larger than the window waits for credit and arrives whole", func(t *testing.T) {
		body := bytes.Repeat([]byte("0123456789abcdef"), 3*protocol.Window/16+5)
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			for p := body; len(p) > 0; {
				n := min(len(p), 100_000)
				_, err := res.Write(p[:n])
				assert.NoError(t, err)
				p = p[n:]
			}
			assert.NoError(t, res.End())
		})
		require.Equal(t, body, rec.Body)
		for _, f := range wiretest.Of(rec).Frames {
			if f.Type == protocol.TypeBody {
				require.LessOrEqual(t, len(f.Payload), protocol.MaxChunk)
			}
		}
	})
}

func TestResponseHeadTooLargeForAFrame(t *testing.T) {
	huge := strings.Repeat("h", protocol.MaxFrame)
	errs := make(chan error, 1)
	h := sdktest.New(t, sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		switch req.URL() {
		case "/end":
			res.SetHeader("X-Huge", huge)
			errs <- res.End([]byte("x"))
		case "/write":
			res.SetHeader("X-Huge", huge)
			_, err := res.Write([]byte("x"))
			errs <- err
		case "/trailers":
			_, err := res.Write([]byte("x"))
			assert.NoError(t, err)
			res.AddTrailers("X-Huge", huge)
			errs <- res.End()
		case "/hints":
			errs <- res.WriteEarlyHints("Link", "</a>", "X-Huge", huge)
			assert.NoError(t, res.EndString("fine"))
		case "/panic":
			panic(huge)
		default:
			assert.NoError(t, res.EndString("still serving"))
		}
	}))
	for _, url := range []string{"/end", "/write", "/trailers"} {
		t.Run("a head or trailers past MaxFrame fail "+url+" and reset the stream", func(t *testing.T) {
			rec := h.Do(sdktest.Request{URL: url})
			require.ErrorContains(t, <-errs, "too large")
			require.True(t, rec.Reset, "hostd answers 500 or cuts the connection")
			require.Contains(t, rec.ResetMessage, "too large")
			require.Equal(t, "still serving", string(h.Do(sdktest.Request{URL: "/next"}).Body), "the data plane survives")
		})
	}
	t.Run("early hints past MaxFrame fail alone", func(t *testing.T) {
		rec := h.Do(sdktest.Request{URL: "/hints"})
		require.ErrorContains(t, <-errs, "too large")
		require.Empty(t, rec.Informational)
		require.Equal(t, "fine", string(rec.Body))
	})
	t.Run("a huge panic message is cut to fit", func(t *testing.T) {
		rec := h.Do(sdktest.Request{URL: "/panic"})
		require.True(t, rec.Reset)
		require.True(t, strings.HasPrefix(huge, rec.ResetMessage))
		require.Less(t, len(rec.ResetMessage), 64<<10)
	})
}

func TestValidateHeader(t *testing.T) {
	require.NoError(t, sdk.ValidateHeaderName("X-Ok"))
	require.Equal(t, sdk.CodeInvalidHTTPToken, codeOf(sdk.ValidateHeaderName("a b")))
	require.Equal(t, sdk.CodeInvalidHTTPToken, codeOf(sdk.ValidateHeaderName("")))
	require.NoError(t, sdk.ValidateHeaderValue("X", "caf\xe9"))
	require.NoError(t, sdk.ValidateHeaderValue("X", "café"))
	require.Equal(t, sdk.CodeInvalidChar, codeOf(sdk.ValidateHeaderValue("X", "oʊmɪɡə")))
	require.Equal(t, sdk.CodeInvalidChar, codeOf(sdk.ValidateHeaderValue("X", "a\nb")))
}

func TestResponseDestroy(t *testing.T) {
	t.Run("before the head: hostd answers 500", func(t *testing.T) {
		var writeErr error
		closed := false
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			res.OnClose(func() { closed = true })
			res.SetHeader("X-A", "1")
			res.Destroy(errors.New("the upstream went away"))
			_, writeErr = res.Write([]byte("x"))
		})
		require.True(t, rec.Reset)
		require.Equal(t, "the upstream went away", rec.ResetMessage)
		require.Equal(t, sdk.CodeStreamDestroyed, codeOf(writeErr))
		require.True(t, closed)
	})
	t.Run("Request.Destroy does the same", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			req.Destroy(errors.New("bad request body"))
		})
		require.True(t, rec.Reset)
		require.Equal(t, "bad request body", rec.ResetMessage)
	})
	t.Run("after part of the body: the connection is cut", func(t *testing.T) {
		rec := serve(t, sdktest.Request{}, func(req *sdk.Request, res *sdk.Response) {
			_, _ = res.Write([]byte("part"))
			res.Destroy(nil)
			res.Destroy(nil) // once is enough
		})
		require.True(t, rec.Reset)
		require.Equal(t, "part", string(rec.Body))
		require.False(t, rec.Ended)
	})
}
