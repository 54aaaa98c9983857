package server_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/httpspec"
)

// codeOf returns the Node error code of err, or "" for nil.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var he *httpspec.Error
	if errors.As(err, &he) {
		return he.Code
	}
	return "not an *httpspec.Error: " + err.Error()
}

// results collects what a handler observes, for the test goroutine to
// assert once the response has arrived.
type results struct {
	mu   sync.Mutex
	vals map[string]any
}

func (r *results) set(k string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.vals == nil {
		r.vals = map[string]any{}
	}
	r.vals[k] = v
}

func (r *results) get(k string) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.vals[k]
}

// roundTrip serves one request with h and returns the response.
func roundTrip(t *testing.T, opts server.Options, raw string, h func(*server.IncomingMessage, *server.ServerResponse)) *response {
	t.Helper()
	opts.Handlers.Request = h
	_, addr := start(t, opts)
	c := dial(t, addr)
	c.send(raw)
	if strings.HasPrefix(raw, "HEAD ") {
		return c.readHead()
	}
	return c.readFinal()
}

const get11 = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

func TestResponseStatus(t *testing.T) {
	t.Run("the reason phrase defaults to Node's STATUS_CODES", func(t *testing.T) {
		for code, reason := range map[int]string{200: "OK", 404: "Not Found", 418: "I'm a Teapot", 503: "Service Unavailable", 599: "unknown"} {
			r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
				res.StatusCode = code
				_ = res.End()
			})
			require.Equal(t, code, r.status)
			require.Equal(t, reason, r.reason)
		}
	})

	t.Run("StatusMessage replaces the reason phrase", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.StatusMessage = "All Good"
			_ = res.WriteHead(200)
			_ = res.End()
		})
		require.Equal(t, "All Good", r.reason)
	})

	t.Run("an invalid status code or message is refused and nothing is sent", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			got.set("99", codeOf(res.WriteHead(99)))
			got.set("1000", codeOf(res.WriteHead(1000)))
			res.StatusMessage = "bad\r\nmessage"
			got.set("message", codeOf(res.WriteHead(200)))
			got.set("sent", res.HeadersSent())
			res.StatusMessage = ""
			_ = res.WriteHead(201)
			_ = res.End()
		})
		require.Equal(t, 201, r.status)
		require.Equal(t, httpspec.CodeInvalidStatusCode, got.get("99"))
		require.Equal(t, httpspec.CodeInvalidStatusCode, got.get("1000"))
		require.Equal(t, httpspec.CodeInvalidChar, got.get("message"))
		require.Equal(t, false, got.get("sent"))
	})
}

func TestResponseHeaders(t *testing.T) {
	t.Run("the header accessors see what was set", func(t *testing.T) {
		var got results
		roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Type", "text/plain")
			_ = res.SetHeader("X-Multi", "a", "b")
			_ = res.AppendHeader("x-multi", "c")
			_ = res.AppendHeader("X-New", "n")
			_ = res.SetHeader("X-Gone", "g")
			_ = res.RemoveHeader("x-gone")
			got.set("get", res.GetHeader("content-type"))
			got.set("getMissing", res.GetHeader("x-missing"))
			got.set("values", res.GetHeaderValues("X-MULTI"))
			got.set("has", res.HasHeader("CONTENT-TYPE"))
			got.set("hasGone", res.HasHeader("X-Gone"))
			got.set("names", res.GetHeaderNames())
			got.set("raw", res.GetRawHeaderNames())
			got.set("all", res.GetHeaders())
			_ = res.End()
		})
		require.Equal(t, "text/plain", got.get("get"))
		require.Equal(t, "", got.get("getMissing"))
		require.Equal(t, []string{"a", "b", "c"}, got.get("values"))
		require.Equal(t, true, got.get("has"))
		require.Equal(t, false, got.get("hasGone"))
		require.Equal(t, []string{"content-type", "x-multi", "x-new"}, got.get("names"))
		require.Equal(t, []string{"Content-Type", "X-Multi", "X-New"}, got.get("raw"))
		require.Equal(t, map[string][]string{"content-type": {"text/plain"}, "x-multi": {"a", "b", "c"}, "x-new": {"n"}}, got.get("all"))
	})

	t.Run("GetHeaders returns a copy", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("X-A", "1")
			res.GetHeaders()["x-a"][0] = "changed"
			_ = res.End()
		})
		require.Equal(t, "1", r.get("x-a"))
	})

	t.Run("SetHeaders sets each header", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("X-A", "old")
			_ = res.SetHeaders(map[string][]string{"X-A": {"new"}, "X-B": {"1", "2"}})
			_ = res.End()
		})
		require.Equal(t, []string{"new"}, r.header["x-a"])
		require.Equal(t, []string{"1", "2"}, r.header["x-b"])
	})

	t.Run("WriteHead headers are set over SetHeader ones and win, as in Node v20", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Type", "text/html")
			_ = res.SetHeader("X-Foo", "bar")
			_ = res.WriteHead(200, "content-type", "text/plain", "X-Dup", "1", "x-dup", "2")
			_ = res.EndString("ok")
		})
		require.Equal(t, []string{"text/plain"}, r.header["content-type"])
		require.Equal(t, []string{"bar"}, r.header["x-foo"])
		require.Equal(t, []string{"2"}, r.header["x-dup"], "each pair is a setHeader: the last value wins")
		require.Contains(t, maskDate(r.raw), "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nX-Foo: bar\r\nx-dup: 2\r\n",
			"the last spelling of a name is sent, in the place the name had")
	})

	t.Run("WriteHead's list alone is sent as given, repeats and spellings included", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.WriteHead(200, "X-A", "1", "x-a", "2")
			_ = res.EndString("ok")
		})
		require.Contains(t, r.raw, "HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\n")
	})

	t.Run("WriteHeadMap sets each header over SetHeader ones", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Type", "text/html")
			_ = res.WriteHeadMap(201, map[string][]string{"Content-Type": {"text/plain"}, "X-B": {"b"}})
			_ = res.End()
		})
		require.Equal(t, 201, r.status)
		require.Equal(t, []string{"text/plain"}, r.header["content-type"])
		require.Equal(t, []string{"b"}, r.header["x-b"])
	})

	t.Run("names keep their case on the wire", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("X-CamelCase", "1")
			_ = res.SetHeader("x-lower", "2")
			_ = res.SetHeader("X-UPPER", "3")
			_ = res.End()
		})
		require.Equal(t, "HTTP/1.1 200 OK\r\nX-CamelCase: 1\r\nx-lower: 2\r\nX-UPPER: 3\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n", maskDate(r.raw))
	})

	t.Run("invalid names and values are refused with Node's codes", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			got.set("name", codeOf(res.SetHeader("Bad Name", "v")))
			got.set("emptyName", codeOf(res.SetHeader("", "v")))
			got.set("noValue", codeOf(res.SetHeader("X-A")))
			got.set("crlf", codeOf(res.SetHeader("X-A", "a\r\nInjected: 1")))
			got.set("nul", codeOf(res.AppendHeader("X-A", "a\x00")))
			got.set("appendName", codeOf(res.AppendHeader("X:A", "v")))
			got.set("writeHeadName", codeOf(res.WriteHead(200, "Bad Name", "v")))
			got.set("writeHeadValue", codeOf(res.WriteHead(200, "X-A", "a\nb")))
			got.set("writeHeadOdd", codeOf(res.WriteHead(200, "X-A")))
			got.set("mapValue", codeOf(res.WriteHeadMap(200, map[string][]string{"X-A": {"\x7f"}})))
			got.set("setHeaders", codeOf(res.SetHeaders(map[string][]string{"X A": {"v"}})))
			got.set("obsText", codeOf(res.SetHeader("X-Latin", "caf\xe9")))
			_ = res.End()
		})
		require.Equal(t, 200, r.status, "the refused calls left the response usable")
		require.NotContains(t, r.raw, "Injected")
		require.Equal(t, httpspec.CodeInvalidHTTPToken, got.get("name"))
		require.Equal(t, httpspec.CodeInvalidHTTPToken, got.get("emptyName"))
		require.Equal(t, httpspec.CodeInvalidHeaderValue, got.get("noValue"))
		require.Equal(t, httpspec.CodeInvalidChar, got.get("crlf"))
		require.Equal(t, httpspec.CodeInvalidChar, got.get("nul"))
		require.Equal(t, httpspec.CodeInvalidHTTPToken, got.get("appendName"))
		require.Equal(t, httpspec.CodeInvalidHTTPToken, got.get("writeHeadName"))
		require.Equal(t, httpspec.CodeInvalidChar, got.get("writeHeadValue"))
		require.Equal(t, httpspec.CodeInvalidArgValue, got.get("writeHeadOdd"))
		require.Equal(t, httpspec.CodeInvalidChar, got.get("mapValue"))
		require.Equal(t, httpspec.CodeInvalidHTTPToken, got.get("setHeaders"))
		require.Equal(t, "", got.get("obsText"), "obs-text is allowed, as in Node")
	})

	t.Run("headers cannot change once the head is written", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			got.set("before", res.HeadersSent())
			_, _ = res.WriteString("body")
			got.set("after", res.HeadersSent())
			got.set("set", codeOf(res.SetHeader("X-A", "1")))
			got.set("append", codeOf(res.AppendHeader("X-A", "1")))
			got.set("remove", codeOf(res.RemoveHeader("Date")))
			got.set("setHeaders", codeOf(res.SetHeaders(map[string][]string{"X-A": {"1"}})))
			got.set("writeHead", codeOf(res.WriteHead(500)))
			got.set("continue", codeOf(res.WriteContinue()))
			_ = res.End()
		})
		require.Equal(t, 200, r.status)
		require.Equal(t, false, got.get("before"))
		require.Equal(t, true, got.get("after"))
		for _, k := range []string{"set", "append", "remove", "setHeaders", "writeHead", "continue"} {
			require.Equal(t, httpspec.CodeHeadersSent, got.get(k), k)
		}
	})

	t.Run("WriteHead twice is refused", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.WriteHead(202)
			got.set("again", codeOf(res.WriteHead(203)))
			_ = res.End()
		})
		require.Equal(t, 202, r.status)
		require.Equal(t, httpspec.CodeHeadersSent, got.get("again"))
	})

	t.Run("SendDate false omits Date, and a Date header set by the handler is kept", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.SendDate = false
			_ = res.End()
		})
		require.NotContains(t, r.header, "date")
		r = roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Date", "yesterday")
			_ = res.End()
		})
		require.Equal(t, []string{"yesterday"}, r.header["date"])
	})
}

func TestResponseBody(t *testing.T) {
	t.Run("the implicit head uses StatusCode and a chunked body on HTTP/1.1", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			res.StatusCode = 201
			_, _ = res.WriteString("ab")
			_, _ = res.Write([]byte("cd"))
			_ = res.End()
		})
		require.Equal(t, "HTTP/1.1 201 Created\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n", maskDate(r.raw))
	})

	t.Run("End with data before the head sends a Content-Length", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.End([]byte("hello "), []byte("world"))
		})
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 11\r\n\r\nhello world", maskDate(r.raw))
	})

	t.Run("large bodies arrive intact with either framing", func(t *testing.T) {
		big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString(big)
		})
		require.Equal(t, fmt.Sprint(len(big)), r.get("content-length"))
		require.Equal(t, big, r.body)
		r = roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_, _ = res.WriteString(big[:10])
			_, _ = res.WriteString(big[10 : 300<<10])
			_, _ = res.WriteString(big[300<<10:])
			_ = res.End()
		})
		require.True(t, r.chunked)
		require.Equal(t, big, r.body)
	})

	t.Run("with both Content-Length and Transfer-Encoding removed the body is close-delimited", func(t *testing.T) {
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.RemoveHeader("Content-Length")
			_ = res.RemoveHeader("Transfer-Encoding")
			_, _ = res.WriteString("abc")
			_ = res.End()
		}}})
		c := dial(t, addr)
		c.send(get11 + get11)
		// Node's bytes: the head still says keep-alive, but the only way
		// to end such a body is to close the connection.
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nabc", maskDate(c.readAll()))
	})

	t.Run("Content-Length set by the handler frames the body", func(t *testing.T) {
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Length", "4")
			_, _ = res.WriteString("ab")
			_ = res.EndString("cd")
		})
		require.False(t, r.chunked)
		require.Equal(t, "abcd", r.body)
	})

	for _, tc := range []struct{ name, raw string }{
		{"HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"204", "GET /204 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"304", "GET /304 HTTP/1.1\r\nHost: a\r\n\r\n"},
	} {
		handler := func(got *results) func(*server.IncomingMessage, *server.ServerResponse) {
			return func(req *server.IncomingMessage, res *server.ServerResponse) {
				if req.Method() == "GET" && req.URL() == "/" {
					_ = res.EndString("next") // the request that follows, not recorded
					return
				}
				switch req.URL() {
				case "/204":
					res.StatusCode = 204
				case "/304":
					res.StatusCode = 304
				}
				_, err := res.WriteString("body")
				got.set("write", codeOf(err))
				got.set("end", codeOf(res.EndString("more")))
				if !res.WritableEnded() {
					got.set("end2", codeOf(res.End()))
				}
			}
		}

		t.Run("a "+tc.name+" response drops body writes", func(t *testing.T) {
			var got results
			_, addr := start(t, server.Options{Handlers: server.Handlers{Request: handler(&got)}})
			c := dial(t, addr)
			c.send(tc.raw + get11)
			var r *response
			if tc.name == "HEAD" {
				r = c.readHead()
			} else {
				r = c.read()
			}
			require.NotContains(t, r.header, "transfer-encoding")
			require.NotContains(t, r.header, "content-length")
			require.Equal(t, 200, c.read().status, "nothing was sent after the head: the next response follows at once")
			// The head may leave with the first Write, before the handler
			// records its results: they are read once the next request's
			// handler, which runs after it returned, has answered.
			require.Equal(t, "", got.get("write"))
			require.Equal(t, "", got.get("end"))
		})

		t.Run("a "+tc.name+" response refuses body writes with RejectNonStandardBodyWrites", func(t *testing.T) {
			var got results
			_, addr := start(t, server.Options{RejectNonStandardBodyWrites: true, Handlers: server.Handlers{Request: handler(&got)}})
			c := dial(t, addr)
			c.send(tc.raw)
			if tc.name == "HEAD" {
				c.readHead()
			} else {
				c.read()
			}
			require.Equal(t, httpspec.CodeBodyNotAllowed, got.get("write"))
			require.Equal(t, httpspec.CodeBodyNotAllowed, got.get("end"))
			require.Equal(t, "", got.get("end2"), "End without data still finishes the response")
		})
	}

	t.Run("StrictContentLength refuses a body that does not match", func(t *testing.T) {
		var got results
		_, addr := start(t, server.Options{Handlers: server.Handlers{Request: func(req *server.IncomingMessage, res *server.ServerResponse) {
			res.StrictContentLength = true
			_ = res.SetHeader("Content-Length", "5")
			switch req.URL() {
			case "/long":
				_, err := res.WriteString("123456")
				got.set("long", codeOf(err))
				_ = res.EndString("12345")
			case "/short":
				got.set("short", codeOf(res.EndString("1234")))
				_, _ = res.WriteString("1234")
				got.set("shortEnd", codeOf(res.End()))
				_ = res.EndString("5")
			case "/exact":
				_, _ = res.WriteString("12")
				got.set("exact", codeOf(res.EndString("345")))
			}
		}}})
		c := dial(t, addr)
		for _, u := range []string{"/long", "/short", "/exact"} {
			c.send("GET " + u + " HTTP/1.1\r\nHost: a\r\n\r\n")
			require.Equal(t, "12345", c.read().body, u)
		}
		require.Equal(t, httpspec.CodeContentLengthMismatch, got.get("long"))
		require.Equal(t, httpspec.CodeContentLengthMismatch, got.get("short"))
		require.Equal(t, httpspec.CodeContentLengthMismatch, got.get("shortEnd"))
		require.Equal(t, "", got.get("exact"))
	})

	t.Run("without StrictContentLength a mismatch is not checked", func(t *testing.T) {
		var got results
		roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.SetHeader("Content-Length", "3")
			got.set("end", codeOf(res.EndString("abc")))
		})
		require.Equal(t, "", got.get("end"))
	})

	t.Run("writing after End and ending twice are refused", func(t *testing.T) {
		var got results
		r := roundTrip(t, server.Options{}, get11, func(_ *server.IncomingMessage, res *server.ServerResponse) {
			_ = res.EndString("done")
			_, err := res.WriteString("more")
			got.set("write", codeOf(err))
			got.set("end", codeOf(res.End()))
		})
		require.Equal(t, "done", r.body)
		require.Equal(t, httpspec.CodeStreamWriteAfterEnd, got.get("write"))
		require.Equal(t, httpspec.CodeStreamAlreadyFinished, got.get("end"))
	})
}
