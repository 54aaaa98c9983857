package hostd_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

const trustConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.bad]
builtin = "misbehave"
[[routes]]
path = "/bad"
plugin = "bad"
`

// hostd is the trust boundary for plugins: whatever a plugin asks for,
// the framing it emits is never ambiguous and never runs past its length.
func TestAPluginCannotMakeHostdEmitAmbiguousFraming(t *testing.T) {
	h := hostdtest.Start(t, config(trustConfig))

	t.Run("Content-Length beside Transfer-Encoding is dropped", func(t *testing.T) {
		out := h.Raw(t, "GET /bad?framing=both HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 10*time.Second)
		head, body, ok := strings.Cut(out, "\r\n\r\n")
		require.True(t, ok, "%q", out)
		require.Contains(t, head, "\r\nTransfer-Encoding: chunked")
		require.NotContains(t, strings.ToLower(head), "content-length")
		require.Equal(t, "5\r\nhello\r\n0\r\n\r\n", body)
	})

	t.Run("bytes past the declared length never reach the connection", func(t *testing.T) {
		c := h.Dial(t)
		br := bufio.NewReader(c)
		_, err := io.WriteString(c, "GET /bad?framing=overlong HTTP/1.1\r\nHost: a\r\n\r\n")
		require.NoError(t, err)
		res, body := hostdtest.ReadResponse(t, br, "GET")
		require.Equal(t, "5", res.Header.Get("Content-Length"))
		require.Equal(t, "hello", body)

		// The next answer on the connection starts with its own status
		// line, not with the undeclared bytes.
		_, err = io.WriteString(c, "GET /bad HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		require.NoError(t, err)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		rest, _ := io.ReadAll(br)
		require.True(t, strings.HasPrefix(string(rest), "HTTP/1.1 200 OK\r\n"), "%q", rest)
		require.True(t, strings.HasSuffix(string(rest), "\r\n\r\nok"), "%q", rest)
	})

	t.Run("a destroyed response cuts the connection, never a short answer", func(t *testing.T) {
		res, err := h.Client.Get(h.URL + "/bad?destroy=1")
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		body, err := io.ReadAll(res.Body)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the client sees the answer broken")
		require.Equal(t, "part of it", string(body))
	})
}

// A plugin's End(data) before any write gives hostd the answer's length
// with its head, so hostd declares it where Node would not: an HTTP/1.0
// keep-alive client keeps its connection, and HEAD gets the length its
// GET would have had.
func TestAPluginAnswerOfKnownLengthDeclaresIt(t *testing.T) {
	h := hostdtest.Start(t, config(echoConfig))
	c := h.Dial(t)
	br := bufio.NewReader(c)
	for range 3 {
		_, err := io.WriteString(c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		require.NoError(t, err)
		res, body := hostdtest.ReadResponse(t, br, "GET")
		require.Equal(t, "keep-alive", res.Header.Get("Connection"))
		require.Equal(t, res.Header.Get("Content-Length"), strconv.Itoa(len(body)))
		require.False(t, res.Close)
	}

	_, err := io.WriteString(c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nHEAD /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	require.NoError(t, err)
	get, body := hostdtest.ReadResponse(t, br, "GET")
	head, _ := hostdtest.ReadResponse(t, br, "HEAD")
	require.Equal(t, strconv.Itoa(len(body)+1), head.Header.Get("Content-Length"), "the echo of HEAD is one byte longer than GET's")
	require.Equal(t, "keep-alive", head.Header.Get("Connection"))
	require.NotEmpty(t, get.Header.Get("Content-Length"))
}

// A plugin's finish and close listeners run when hostd has written the
// answer to the client's socket, not when the plugin handed it over.
func TestPluginListenersRunWhenTheAnswerReachedTheClient(t *testing.T) {
	h := hostdtest.Start(t, config(`
[server]
listen = ["127.0.0.1:0"]
[plugins.life]
builtin = "lifecycle"
[[routes]]
path = "/"
plugin = "life"
`))
	h.Get(t, "/answer").RequireStatus(200).RequireBody("answered")
	h.Get(t, "/events").RequireStatus(200).RequireBody("finish close request-close")
}
