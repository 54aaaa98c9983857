package hostd_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/plugins/echo"
)

const eventsConfig = `
[server]
listen = ["127.0.0.1:0"]
client_error = "clienterror"

[plugins.echo]
cmd = "{{bin}}/echo"
[plugins.echorelay]
cmd = "{{bin}}/echo"
relay_sockets = true
[plugins.tunnel]
cmd = "{{bin}}/tunnel"
[plugins.tunnel.config]
allow = ["127.0.0.1:*"]
[plugins.tunnelrelay]
cmd = "{{bin}}/tunnel"
relay_sockets = true
[plugins.tunnelrelay.config]
allow = ["localhost:*"]
[plugins.expect]
builtin = "expect"
[plugins.clienterror]
builtin = "clienterror"

[[routes]]
path = "/echo"
events = ["request", "upgrade"]
plugin = "echo"
[[routes]]
path = "/relay"
events = ["upgrade"]
plugin = "echorelay"
[[routes]]
path = "/expect"
events = ["request", "checkContinue", "checkExpectation"]
plugin = "expect"
[[routes]]
path = "/unhandled"
events = ["checkExpectation"]
plugin = "echo"
[[routes]]
path = "/unhandled"
events = ["upgrade"]
plugin = "expect"
[[routes]]
authority = "127.0.0.1:*"
events = ["connect"]
plugin = "tunnel"
[[routes]]
authority = "localhost:*"
events = ["connect"]
plugin = "tunnelrelay"
`

func TestEventsReachPluginsAndAnswersReachClients(t *testing.T) {
	h := hostdtest.Start(t, config(eventsConfig))

	t.Run("a request reaches echo and its JSON answer comes back", func(t *testing.T) {
		r := h.Get(t, "/echo/x?y=1").RequireStatus(200).RequireHeader("Content-Type", "application/json")
		var a echo.Answer
		require.NoError(t, json.Unmarshal([]byte(r.Body), &a))
		require.Equal(t, "GET", a.Method)
		require.Equal(t, "/echo/x?y=1", a.URL)
		require.Equal(t, "1.1", a.HTTPVersion)
		require.Equal(t, h.Addr, a.Headers.Get("host"))
	})

	t.Run("checkContinue reaches the plugin, which sends 100 then reads the body", func(t *testing.T) {
		c := h.Dial(t)
		_, err := io.WriteString(c, "POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
		blank, _ := br.ReadString('\n')
		require.Equal(t, "\r\n", blank)
		_, err = io.WriteString(c, "hello")
		require.NoError(t, err)
		res, body := hostdtest.ReadResponse(t, br, "POST")
		require.Equal(t, 200, res.StatusCode)
		require.Equal(t, "continued: hello", body)
	})

	t.Run("checkContinue can refuse the body", func(t *testing.T) {
		out := h.Raw(t, "POST /expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nX-Refuse: 1\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 417 Expectation Failed\r\n"), out)
		require.NotContains(t, out, "100 Continue")
		require.Contains(t, out, "Connection: close\r\n", "a refused 100-continue cannot keep the connection")
	})

	t.Run("checkExpectation reaches the plugin", func(t *testing.T) {
		out := h.Raw(t, "GET /expect HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 418 I'm a Teapot\r\n"), out)
		require.Contains(t, out, "\r\nexpectation: tea\r\n", out)
	})

	t.Run("an unknown expectation without a plugin gets 417", func(t *testing.T) {
		out := h.Raw(t, "GET /echo HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 417 Expectation Failed\r\n"), out)
	})

	for _, path := range []string{"/echo", "/relay"} {
		t.Run("an upgrade on "+path+" switches protocols and echoes bytes", func(t *testing.T) {
			c := h.Dial(t)
			_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nearly")
			require.NoError(t, err)
			br := bufio.NewReader(c)
			want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nearly"
			got := make([]byte, len(want))
			_, err = io.ReadFull(br, got)
			require.NoError(t, err)
			require.Equal(t, want, string(got))
			for _, msg := range []string{"ping", strings.Repeat("x", 100000)} {
				_, err = io.WriteString(c, msg)
				require.NoError(t, err)
				back := make([]byte, len(msg))
				_, err = io.ReadFull(br, back)
				require.NoError(t, err)
				require.Equal(t, msg, string(back))
			}
			require.NoError(t, c.(*net.TCPConn).CloseWrite())
			rest, _ := io.ReadAll(br)
			require.Empty(t, rest, "the echo ends when the client does")
		})
	}

	target := hostdtest.TCPEcho(t)
	_, port, _ := net.SplitHostPort(target)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run("a CONNECT to "+host+" tunnels both ways", func(t *testing.T) {
			c := h.Dial(t)
			_, err := io.WriteString(c, "CONNECT "+host+":"+port+" HTTP/1.1\r\nHost: "+host+":"+port+"\r\n\r\nfirst")
			require.NoError(t, err)
			br := bufio.NewReader(c)
			want := "HTTP/1.1 200 Connection Established\r\n\r\nfirst"
			got := make([]byte, len(want))
			_, err = io.ReadFull(br, got)
			require.NoError(t, err)
			require.Equal(t, want, string(got))
			_, err = io.WriteString(c, "second")
			require.NoError(t, err)
			got = make([]byte, 6)
			_, err = io.ReadFull(br, got)
			require.NoError(t, err)
			require.Equal(t, "second", string(got))
		})
	}

	t.Run("a CONNECT no route takes gets 404", func(t *testing.T) {
		out := h.Raw(t, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 404 Not Found\r\n"), out)
	})

	t.Run("an event routed to a plugin that does not handle it gets 501", func(t *testing.T) {
		// echo handles request and upgrade, not checkExpectation: its route
		// for that event is a configuration mistake, answered, not forwarded.
		out := h.Raw(t, "GET /unhandled HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 501 Not Implemented\r\n"), out)
	})

	t.Run("an upgrade routed to a plugin that does not handle it gets 501", func(t *testing.T) {
		out := h.Raw(t, "GET /unhandled HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 501 Not Implemented\r\n"), out)
		require.Contains(t, out, "Connection: close\r\n")
	})

	t.Run("a request no route takes gets 404", func(t *testing.T) {
		h.Get(t, "/nowhere").RequireStatus(404).RequireBody("Not Found\n")
	})

	t.Run("a malformed request reaches the clientError plugin", func(t *testing.T) {
		out := h.Raw(t, "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 2*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 400 Bad Request\r\nX-Code: HPE_INVALID_HEADER_TOKEN\r\n"), out)
		require.Contains(t, out, "X-Bytes-Parsed: 20\r\n")
	})
}
