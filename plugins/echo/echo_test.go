package echo_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/plugins/echo"
)

var bin string

func TestMain(m *testing.M) { hostdtest.Main(m, &bin, "github.com/hostd/hostd/plugins/echo/cmd/echo") }

func start(t *testing.T, maxBody int) *hostdtest.Host {
	return hostdtest.Start(t, fmt.Sprintf(`
[server]
listen = ["127.0.0.1:0"]
[plugins.echo]
cmd = %q
[plugins.echo.config]
max_body = %d
[[routes]]
path = "/echo"
events = ["request", "upgrade"]
plugin = "echo"
`, bin+"/echo", maxBody))
}

func answer(t *testing.T, body string) echo.Answer {
	t.Helper()
	var a echo.Answer
	require.NoError(t, json.Unmarshal([]byte(body), &a), body)
	return a
}

func TestEchoAnswersWithTheRequestAsTheSDKSeesIt(t *testing.T) {
	h := start(t, 1<<20)

	t.Run("a GET from net/http", func(t *testing.T) {
		req, _ := http.NewRequest("GET", h.URL+"/echo/a?b=c", nil)
		req.Header.Set("X-Token", "t1")
		r := h.Do(t, req).RequireStatus(200).RequireHeader("Content-Type", "application/json")
		a := answer(t, r.Body)
		require.Equal(t, "GET", a.Method)
		require.Equal(t, "/echo/a?b=c", a.URL)
		require.Equal(t, "1.1", a.HTTPVersion)
		require.Equal(t, "t1", a.Headers.Get("x-token"))
		require.Equal(t, "", a.Body)
		require.Zero(t, a.BodyLength)
		require.Equal(t, []string{}, a.RawTrailers)
	})

	t.Run("a raw GET: exact field order, name case and Node's joining rules", func(t *testing.T) {
		out := h.Raw(t, "GET /echo HTTP/1.1\r\nHost: h\r\nX-Dup: a\r\nx-dup: b\r\nCookie: c=1\r\nCookie: d=2\r\n"+
			"Set-Cookie: s=1\r\nContent-Type: text/a\r\nContent-Type: text/b\r\nConnection: close\r\n\r\n", 5*time.Second)
		_, body, _ := strings.Cut(out, "\r\n\r\n")
		require.JSONEq(t, `{
			"method": "GET", "url": "/echo", "httpVersion": "1.1",
			"headers": {"host": "h", "x-dup": "a, b", "cookie": "c=1; d=2", "set-cookie": ["s=1"],
			            "content-type": "text/a", "connection": "close"},
			"rawHeaders": ["Host", "h", "X-Dup", "a", "x-dup", "b", "Cookie", "c=1", "Cookie", "d=2",
			               "Set-Cookie", "s=1", "Content-Type", "text/a", "Content-Type", "text/b", "Connection", "close"],
			"trailers": {}, "rawTrailers": [], "body": "", "bodyLength": 0}`, body)
	})

	t.Run("a POST body", func(t *testing.T) {
		res, err := h.Client.Post(h.URL+"/echo", "text/plain", strings.NewReader("hello, body"))
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		a := answer(t, string(b))
		require.Equal(t, "POST", a.Method)
		require.Equal(t, "hello, body", a.Body)
		require.EqualValues(t, 11, a.BodyLength)
	})

	t.Run("a chunked body with trailers", func(t *testing.T) {
		out := h.Raw(t, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"+
			"5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\nX-More: 1\r\n\r\n", 5*time.Second)
		_, body, _ := strings.Cut(out, "\r\n\r\n")
		a := answer(t, body)
		require.Equal(t, "hello, world", a.Body)
		require.EqualValues(t, 12, a.BodyLength)
		require.Equal(t, "abc", a.Trailers.Get("x-sum"))
		require.Equal(t, []string{"X-Sum", "abc", "X-More", "1"}, a.RawTrailers)
	})

	t.Run("an HTTP/1.0 request", func(t *testing.T) {
		out := h.Raw(t, "GET /echo HTTP/1.0\r\n\r\n", 5*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n"), out)
		require.Contains(t, out, "Connection: close\r\n")
		_, body, _ := strings.Cut(out, "\r\n\r\n")
		require.Equal(t, "1.0", answer(t, body).HTTPVersion)
	})
}

func TestEchoCutsTheBodyButCountsEveryByte(t *testing.T) {
	h := start(t, 10)
	res, err := h.Client.Post(h.URL+"/echo", "text/plain", strings.NewReader(strings.Repeat("x", 100000)))
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer(t, string(b))
	require.Equal(t, "xxxxxxxxxx", a.Body)
	require.EqualValues(t, 100000, a.BodyLength)
}

func TestEchoUpgrade(t *testing.T) {
	h := start(t, 1<<20)
	c := h.Dial(t)
	_, err := io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo-proto\r\n\r\nhead-bytes")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, 101, res.StatusCode)
	require.Equal(t, "echo-proto", res.Header.Get("Upgrade"))
	require.Equal(t, "Upgrade", res.Header.Get("Connection"))
	head := make([]byte, len("head-bytes"))
	_, err = io.ReadFull(br, head)
	require.NoError(t, err)
	require.Equal(t, "head-bytes", string(head), "the head bytes come back first")

	msg := strings.Repeat("0123456789", 100000)
	go func() { _, _ = io.WriteString(c, msg); _ = c.(*net.TCPConn).CloseWrite() }()
	back, err := io.ReadAll(br)
	require.NoError(t, err)
	require.Equal(t, msg, string(back), "every byte echoed, until the client ends")
}
