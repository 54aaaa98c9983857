package outgoing_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/outgoing"
)

func newMessage() *outgoing.Message {
	m := &outgoing.Message{}
	m.Reset()
	m.KeepAlive, m.ChunkedByDefault, m.SendDate = true, true, false
	return m
}

func code(err error) string {
	var e *httpspec.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// head returns the fields and framing lines AppendHead writes.
func head(t *testing.T, m *outgoing.Message, c outgoing.Conn) string {
	t.Helper()
	b, err := m.AppendHead(nil, &c)
	require.NoError(t, err)
	return string(b)
}

func TestHeaderFollowsNode20(t *testing.T) {
	t.Run("setHeader keeps the place and takes the latest spelling", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.SetHeader("foo", "1"))
		require.NoError(t, m.SetHeader("Bar", "2"))
		require.NoError(t, m.SetHeader("FOO", "3", "4"))
		require.Equal(t, "FOO: 3\r\nFOO: 4\r\nBar: 2\r\n", head(t, m, outgoing.Conn{})[:len("FOO: 3\r\nFOO: 4\r\nBar: 2\r\n")])
		require.Equal(t, []string{"foo", "bar"}, m.Header.Names())
		require.Equal(t, []string{"FOO", "Bar"}, m.Header.RawNames())
	})

	t.Run("appendHeader keeps the first spelling and adds after the key's values", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.AppendHeader("foo", "1"))
		require.NoError(t, m.AppendHeader("bar", "x"))
		require.NoError(t, m.AppendHeader("FOO", "2"))
		require.Equal(t, []string{"1", "2"}, m.Header.Get("Foo"))
		require.Regexp(t, "^foo: 1\r\nfoo: 2\r\nbar: x\r\n", head(t, m, outgoing.Conn{}))
	})

	t.Run("writeHead's list alone is sent as given", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.WriteHead(200, []string{"X-A", "1", "x-a", "2"}))
		require.Regexp(t, "^X-A: 1\r\nx-a: 2\r\n", head(t, m, outgoing.Conn{}))
	})

	t.Run("writeHead's list over set headers sets each pair", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.SetHeader("A", "1"))
		require.NoError(t, m.SetHeader("B", "2"))
		require.NoError(t, m.WriteHead(200, []string{"a", "3", "X", "4", "x", "5"}))
		require.Regexp(t, "^a: 3\r\nB: 2\r\nx: 5\r\n", head(t, m, outgoing.Conn{}))
	})

	t.Run("maps are applied in the order of their names", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.WriteHeadMap(200, map[string][]string{"b": {"1"}, "C": {"2"}, "a": {"3"}}))
		require.Regexp(t, "^C: 2\r\na: 3\r\nb: 1\r\n", head(t, m, outgoing.Conn{}))
	})

	t.Run("removeHeader removes every value and stops the message's own", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.SetHeader("X", "1", "2"))
		require.NoError(t, m.RemoveHeader("x"))
		require.NoError(t, m.RemoveHeader("Content-Length"))
		require.NoError(t, m.RemoveHeader("Transfer-Encoding"))
		m.Length = 4
		require.Equal(t, "Connection: keep-alive\r\n\r\n", head(t, m, outgoing.Conn{}))
		require.True(t, m.Last(), "with no framing the body ends with the connection")
	})

	t.Run("nothing changes once the head is fixed", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.Fix())
		require.Equal(t, httpspec.CodeHeadersSent, code(m.SetHeader("a", "1")))
		require.Equal(t, httpspec.CodeHeadersSent, code(m.AppendHeader("a", "1")))
		require.Equal(t, httpspec.CodeHeadersSent, code(m.RemoveHeader("a")))
		require.Equal(t, httpspec.CodeHeadersSent, code(m.WriteHead(200, nil)))
	})
}

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		values       []string
		want         string
	}{
		{"a token name", "X-Ok", []string{"v"}, ""},
		{"obs-text bytes pass as they are", "X", []string{"caf\xe9"}, ""},
		{"UTF-8 up to U+00FF passes", "X", []string{"café"}, ""},
		{"a character above U+00FF is refused, as in Node", "X", []string{"oʊmɪɡə"}, httpspec.CodeInvalidChar},
		{"CR LF is refused", "X", []string{"a\r\nB: c"}, httpspec.CodeInvalidChar},
		{"no value is Node's undefined", "X", nil, httpspec.CodeInvalidHeaderValue},
		{"a space in a name", "X Y", []string{"v"}, httpspec.CodeInvalidHTTPToken},
		{"an empty name", "", []string{"v"}, httpspec.CodeInvalidHTTPToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMessage()
			require.Equal(t, tc.want, code(m.SetHeader(tc.header, tc.values...)))
			require.Equal(t, tc.want == "", m.Header.Has(tc.header), "a refused header is not set")
		})
	}

	t.Run("an invalid pair leaves writeHead without effect", func(t *testing.T) {
		m := newMessage()
		require.Equal(t, httpspec.CodeInvalidChar, code(m.WriteHead(201, []string{"A", "1", "B", "\x00"})))
		require.False(t, m.Fixed())
		require.Zero(t, m.Header.Len())
		require.Equal(t, httpspec.CodeInvalidArgValue, code(m.WriteHead(201, []string{"A"})))
		require.Equal(t, httpspec.CodeInvalidStatusCode, code(m.WriteHead(99, nil)))
	})

	t.Run("an invalid status message is refused by the implicit head", func(t *testing.T) {
		m := newMessage()
		m.StatusMessage = "OK\r\nX: y"
		require.Equal(t, httpspec.CodeInvalidChar, code(m.Fix()))
		require.False(t, m.Fixed())
	})
}

func TestFraming(t *testing.T) {
	type want struct {
		head          string
		chunked, last bool
	}
	for _, tc := range []struct {
		name  string
		setup func(m *outgoing.Message)
		conn  outgoing.Conn
		want  want
	}{
		{"a known length is declared", func(m *outgoing.Message) { m.Length = 5 }, outgoing.Conn{},
			want{"Connection: keep-alive\r\nContent-Length: 5\r\n\r\n", false, false}},
		{"an unknown length is chunked", func(*outgoing.Message) {}, outgoing.Conn{},
			want{"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", true, false}},
		{"the keep-alive hint", func(*outgoing.Message) {}, outgoing.Conn{KeepAliveTimeout: 5 * time.Second, MaxRequests: 7},
			want{"Connection: keep-alive\r\nKeep-Alive: timeout=5, max=7\r\nTransfer-Encoding: chunked\r\n\r\n", true, false}},
		{"HTTP/1.0 without a length ends with the connection", func(m *outgoing.Message) { m.ChunkedByDefault = false }, outgoing.Conn{},
			want{"Connection: close\r\n\r\n", false, true}},
		{"HTTP/1.0 with a known length keeps the connection", func(m *outgoing.Message) { m.ChunkedByDefault, m.Length = false, 3 }, outgoing.Conn{},
			want{"Connection: keep-alive\r\nContent-Length: 3\r\n\r\n", false, false}},
		{"HEAD gets the length its body would have had", func(m *outgoing.Message) { m.HasBody, m.Length = false, 9 }, outgoing.Conn{},
			want{"Connection: keep-alive\r\nContent-Length: 9\r\n\r\n", false, false}},
		{"HEAD with nothing written declares nothing", func(m *outgoing.Message) { m.HasBody, m.Length = false, 0 }, outgoing.Conn{},
			want{"Connection: keep-alive\r\n\r\n", false, false}},
		{"204 declares nothing", func(m *outgoing.Message) { m.StatusCode, m.Length = 204, 0 }, outgoing.Conn{},
			want{"Connection: keep-alive\r\n\r\n", false, false}},
		{"a closing server says close", func(m *outgoing.Message) { m.Length = 1 }, outgoing.Conn{Closing: true},
			want{"Connection: close\r\nContent-Length: 1\r\n\r\n", false, true}},
		{"the last request by the limit says close", func(m *outgoing.Message) { m.Length = 1 }, outgoing.Conn{LastRequest: true},
			want{"Connection: close\r\nContent-Length: 1\r\n\r\n", false, false}},
		{"Connection: close set by the user", func(m *outgoing.Message) { _ = m.SetHeader("Connection", "close") }, outgoing.Conn{},
			want{"Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n", true, true}},
		{"a user's Content-Length", func(m *outgoing.Message) { _ = m.SetHeader("Content-Length", "4") }, outgoing.Conn{},
			want{"Content-Length: 4\r\nConnection: keep-alive\r\n\r\n", false, false}},
		{"Content-Length beside Transfer-Encoding is dropped", func(m *outgoing.Message) {
			_ = m.SetHeader("Content-Length", "5")
			_ = m.SetHeader("Transfer-Encoding", "chunked")
		}, outgoing.Conn{}, want{"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n", true, false}},
		{"another coding ends with the connection", func(m *outgoing.Message) { _ = m.SetHeader("Transfer-Encoding", "gzip") }, outgoing.Conn{},
			want{"Transfer-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n", false, true}},
		{"a Trailer header keeps the body chunked", func(m *outgoing.Message) { _ = m.SetHeader("Trailer", "X"); m.Length = 2 }, outgoing.Conn{},
			want{"Trailer: X\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", true, false}},
		{"a client with an agent says keep-alive without framing", func(m *outgoing.Message) { m.ChunkedByDefault, m.HasBody = false, false },
			outgoing.Conn{Agent: true}, want{"Connection: keep-alive\r\n\r\n", false, false}},
		{"unique headers are joined on one line", func(m *outgoing.Message) { _ = m.SetHeader("X-U", "a", "b"); m.Length = 0 },
			outgoing.Conn{Unique: map[string]bool{"x-u": true}}, want{"X-U: a; b\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false, false}},
		{"cookies are joined on one line", func(m *outgoing.Message) { _ = m.SetHeader("Cookie", "a=1", "b=2"); m.Length = 0 },
			outgoing.Conn{}, want{"Cookie: a=1; b=2\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMessage()
			tc.setup(m)
			got := want{head(t, m, tc.conn), m.Chunked(), m.Last()}
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("a Date is added unless the message has one", func(t *testing.T) {
		m := newMessage()
		m.SendDate = true
		require.Regexp(t, regexp.MustCompile("^Date: [A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT\r\n"), head(t, m, outgoing.Conn{}))
		m = newMessage()
		m.SendDate = true
		require.NoError(t, m.SetHeader("Date", "then"))
		require.Regexp(t, "^Date: then\r\nConnection", head(t, m, outgoing.Conn{}))
	})

	for _, tc := range []struct{ name, a, b string }{
		{"an invalid Content-Length is refused", "abc", ""},
		{"a negative Content-Length is refused", "-1", ""},
		{"two different Content-Length values are refused", "5", "6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMessage()
			pairs := []string{"Content-Length", tc.a}
			if tc.b != "" {
				pairs = append(pairs, "Content-Length", tc.b)
			}
			require.NoError(t, m.WriteHead(200, pairs))
			b, err := m.AppendHead([]byte("HTTP/1.1 200 OK\r\n"), &outgoing.Conn{})
			require.Equal(t, httpspec.CodeInvalidHeaderValue, code(err))
			require.Equal(t, "HTTP/1.1 200 OK\r\n", string(b), "nothing is appended")
		})
	}

	t.Run("a Trailer header without chunked framing is refused", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.WriteHead(200, []string{"Trailer", "X", "Content-Length", "2"}))
		_, err := m.AppendHead(nil, &outgoing.Conn{})
		require.Equal(t, httpspec.CodeTrailerInvalid, code(err))
	})
}

func TestBody(t *testing.T) {
	t.Run("bytes past the declared length are dropped and the connection closes", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.SetHeader("Content-Length", "5"))
		head(t, m, outgoing.Conn{})
		n, err := m.Body(3, false)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		n, err = m.Body(38, true)
		require.NoError(t, err)
		require.Equal(t, 2, n, "only what the head declared")
		require.True(t, m.Last())
		require.EqualValues(t, 5, m.Written())
	})

	t.Run("strictContentLength refuses a mismatch, as in Node", func(t *testing.T) {
		m := newMessage()
		m.StrictContentLength = true
		require.NoError(t, m.SetHeader("Content-Length", "5"))
		head(t, m, outgoing.Conn{})
		_, err := m.Body(6, false)
		require.Equal(t, httpspec.CodeContentLengthMismatch, code(err))
		_, err = m.Body(4, true)
		require.Equal(t, httpspec.CodeContentLengthMismatch, code(err))
		n, err := m.Body(4, false)
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.Equal(t, httpspec.CodeContentLengthMismatch, code(m.CheckEnd()))
	})

	t.Run("a short body closes the connection", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.SetHeader("Content-Length", "5"))
		head(t, m, outgoing.Conn{})
		_, _ = m.Body(2, false)
		require.NoError(t, m.CheckEnd())
		m.Finish()
		require.True(t, m.Last())
		_, err := m.Body(1, false)
		require.Equal(t, httpspec.CodeStreamWriteAfterEnd, code(err))
		require.Equal(t, httpspec.CodeStreamAlreadyFinished, code(m.CheckEnd()))
	})

	t.Run("a message without a body drops its bytes, or refuses them", func(t *testing.T) {
		m := newMessage()
		m.HasBody = false
		n, err := m.Body(4, false)
		require.NoError(t, err)
		require.Zero(t, n)
		m = newMessage()
		m.StatusCode, m.RejectBody = 304, true
		_, err = m.Body(4, false)
		require.Equal(t, httpspec.CodeBodyNotAllowed, code(err))
	})

	t.Run("chunks and trailers", func(t *testing.T) {
		m := newMessage()
		head(t, m, outgoing.Conn{})
		require.NoError(t, m.AddTrailers("X-Sum", "1"))
		require.Equal(t, httpspec.CodeInvalidHTTPToken, code(m.AddTrailers("bad name", "1")))
		b := m.AppendChunk(nil, 3)
		b = append(append(b, "abc"...), m.ChunkEnd()...)
		b = m.AppendEnd(b)
		require.Equal(t, "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", string(b))
	})
}

func TestLoad(t *testing.T) {
	t.Run("an empty name continues the header before it", func(t *testing.T) {
		m := newMessage()
		require.NoError(t, m.Load([]string{"Set-Cookie", "a=1", "", "b=2", "Cookie", "c=1", "", "d=2"}))
		m.Length = 0
		require.Equal(t, "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nCookie: c=1; d=2\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
			head(t, m, outgoing.Conn{}))
	})

	t.Run("fields are validated once and nothing is kept on error", func(t *testing.T) {
		m := newMessage()
		require.Equal(t, httpspec.CodeInvalidHTTPToken, code(m.Load([]string{"A", "1", "B C", "2"})))
		require.Equal(t, httpspec.CodeInvalidChar, code(m.Load([]string{"A", "1", "", "2\r\n"})))
		require.Equal(t, httpspec.CodeInvalidArgValue, code(m.Load([]string{"A"})))
		require.Zero(t, m.Header.Len())
	})
}

func TestInformation(t *testing.T) {
	b, err := outgoing.AppendInformation(nil, 103, []string{"Link", "</a.css>; rel=preload"})
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", string(b))
	_, err = outgoing.AppendInformation(nil, 103, []string{"Link", "\n"})
	require.Equal(t, httpspec.CodeInvalidChar, code(err))
}
