package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

func TestProxyRelaysProcessingAndEarlyHintsBeforeTheAnswer(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")
	processing, br, _ := exchange(t, h, "GET /app/hints HTTP/1.1\r\nHost: h\r\n\r\n", "GET")
	require.Equal(t, "HTTP/1.1 102 Processing", processing.status)
	hints := readRaw(t, br, "GET")
	require.Equal(t, "HTTP/1.1 103 Early Hints", hints.status)
	require.Equal(t, []string{"</style.css>; rel=preload; as=style"}, hints.header("link"))
	require.Equal(t, []string{"h"}, hints.header("x-hint"))
	res := readRaw(t, br, "GET")
	require.Equal(t, "HTTP/1.1 200 OK", res.status)
	require.Equal(t, "after hints", res.body)
}

func TestProxyExpectContinue(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")

	t.Run("the upstream's 100 reaches the client, then the body flows", func(t *testing.T) {
		c := h.Dial(t)
		require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
		_, err := io.WriteString(c, "POST /app/continue HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(c)
		cont := readRaw(t, br, "POST")
		require.Equal(t, "HTTP/1.1 100 Continue", cont.status)
		_, err = io.WriteString(c, "hello")
		require.NoError(t, err)
		res := readRaw(t, br, "POST")
		require.Equal(t, "HTTP/1.1 200 OK", res.status)
		require.JSONEq(t, `{"continued": true, "body": "hello", "bodyLength": 5}`, res.body)
	})

	for _, tc := range []struct{ path, status, body string }{
		{"refuse", "HTTP/1.1 417 Expectation Failed", ""},
		{"early", "HTTP/1.1 403 Forbidden", "no body wanted"},
	} {
		t.Run("the upstream's "+tc.status[9:]+" reaches the client, which sends no body", func(t *testing.T) {
			res, _, _ := exchange(t, h, "POST /app/"+tc.path+" HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "POST")
			require.Equal(t, tc.status, res.status, "no 100 Continue first")
			require.Equal(t, tc.body, res.body)
		})
	}
}

func TestProxyTrailersBothWays(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")
	res, _, _ := exchange(t, h, "POST /app/trailers HTTP/1.1\r\nHost: h\r\nTE: trailers\r\nTrailer: X-Check\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Check: 42\r\nx-check: 43\r\n\r\n", "POST")
	require.Equal(t, "HTTP/1.1 200 OK", res.status)
	require.JSONEq(t, `{"body": "hello", "rawTrailers": ["X-Check", "42", "x-check", "43"]}`, res.body)
	require.Equal(t, []string{"X-Sum"}, res.header("trailer"))
	require.Equal(t, []string{"X-Sum: abc", "x-sum: def"}, res.trailers)
}

func TestProxyAnswersWithoutBody(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")
	for _, tc := range []struct{ method, path, status string }{
		{"HEAD", "/app/length", "HTTP/1.1 200 OK"},
		{"GET", "/app/status?code=204", "HTTP/1.1 204 No Content"},
		{"GET", "/app/status?code=304", "HTTP/1.1 304 Not Modified"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			// A second request on the connection shows that no body
			// bytes came between the two answers.
			req := tc.method + " " + tc.path + " HTTP/1.1\r\nHost: h\r\n\r\n"
			res, br, _ := exchange(t, h, req+"GET /app/length HTTP/1.1\r\nHost: h\r\n\r\n", tc.method)
			require.Equal(t, tc.status, res.status)
			require.Empty(t, res.header("transfer-encoding"))
			next := readRaw(t, br, "GET")
			require.Equal(t, "HTTP/1.1 200 OK", next.status)
			require.Equal(t, "hello", next.body)
		})
	}
}

func TestProxyReadsAnUnframedAnswerUntilClose(t *testing.T) {
	h := start(t, "http://"+rawUpstream(t), "")
	h.Get(t, "/app/noframing").RequireStatus(200).RequireHeader("X-Raw", "1").RequireBody("read until the upstream closes")
}

func TestProxyUpgrade(t *testing.T) {
	up := startUpstream(t, "node", "")
	h := start(t, "http://"+up.addr, "")

	t.Run("the upstream's 101, then bytes both ways", func(t *testing.T) {
		res, br, c := exchange(t, h, "GET /app/ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nfirst;", "GET")
		require.Equal(t, "HTTP/1.1 101 Switching Protocols", res.status)
		require.Equal(t, []string{"websocket"}, res.header("upgrade"))
		require.Equal(t, []string{"Upgrade"}, res.header("connection"))
		require.Equal(t, []string{"node"}, res.header("x-upstream"))
		got := make([]byte, len("first;"))
		_, err := io.ReadFull(br, got)
		require.NoError(t, err)
		require.Equal(t, "first;", string(got), "the bytes after the head, echoed")
		for _, msg := range []string{"hello", strings.Repeat("x", 1<<20)} {
			_, err := io.WriteString(c, msg)
			require.NoError(t, err)
			got := make([]byte, len(msg))
			_, err = io.ReadFull(br, got)
			require.NoError(t, err)
			require.Equal(t, msg, string(got))
		}
		// The client's end of file reaches the upstream, whose own end
		// comes back.
		require.NoError(t, c.(interface{ CloseWrite() error }).CloseWrite())
		rest, err := io.ReadAll(br)
		require.NoError(t, err)
		require.Empty(t, rest)
	})

	t.Run("a refused upgrade gives the upstream's answer", func(t *testing.T) {
		res, _, _ := exchange(t, h, "GET /app/refuse HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "GET")
		require.Equal(t, "HTTP/1.1 403 Forbidden", res.status)
		require.Equal(t, []string{"yes"}, res.header("x-refused"))
		require.Equal(t, "refused", res.body)
	})
}

func TestSeveralProxiesSideBySide(t *testing.T) {
	tcp := startUpstream(t, "tcp-upstream", "")
	sock := filepath.Join(t.TempDir(), "u.sock")
	startUpstream(t, "unix-upstream", sock)
	h := hostdtest.Start(t, fmt.Sprintf(`
[server]
listen = ["127.0.0.1:0"]
[plugins.front]
builtin = "proxy"
[plugins.front.config]
upstream = "http://%s"
[plugins.back]
cmd = %q
[plugins.back.config]
upstream = "unix:%s"
max_sockets = 2
preserve_host = true
[[routes]]
path = "/a"
plugin = "front"
[[routes]]
path = "/b"
events = ["request", "upgrade"]
plugin = "back"
`, tcp.addr, filepath.Join(bin, "proxy"), sock), hostdtest.WithBuiltins("proxy"))

	a := decode[echoed](t, h.Get(t, "/a/echo").RequireStatus(200).Body)
	require.Equal(t, "tcp-upstream", a.Name)
	require.Equal(t, "/a/echo", a.URL)
	require.Equal(t, tcp.addr, a.RawHeaders[1])

	b := decode[echoed](t, h.Get(t, "/b/echo").RequireStatus(200).Body)
	require.Equal(t, "unix-upstream", b.Name)
	require.Equal(t, "/b/echo", b.URL)
	require.Equal(t, strings.TrimPrefix(h.URL, "http://"), b.RawHeaders[1], "preserve_host")

	res, _, _ := exchange(t, h, "GET /b/ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "GET")
	require.Equal(t, "HTTP/1.1 101 Switching Protocols", res.status)
	require.Equal(t, []string{"unix-upstream"}, res.header("x-upstream"))
}

func TestHostdShipsTheProxyAsABuiltin(t *testing.T) {
	upstream := rawUpstream(t)
	hd := startHostdProcess(t, proxyTOML(fmt.Sprintf("upstream = %q", "http://"+upstream)))
	res, err := hd.client.Get("http://hostd/app/ok")
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "conn=1", string(body))
}
