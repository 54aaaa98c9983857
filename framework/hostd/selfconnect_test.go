package hostd_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/examples"
	"github.com/hostd/hostd/internal/hostdtest"
)

// connect sends a CONNECT for target and returns hostd's answer line and
// the connection, positioned after the answer's head.
func connect(t *testing.T, h *hostdtest.Host, target string) (string, *bufio.Reader, net.Conn) {
	t.Helper()
	c := h.Dial(t)
	_, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	for {
		l, err := br.ReadString('\n')
		require.NoError(t, err)
		if l == "\r\n" {
			break
		}
	}
	return strings.TrimRight(line, "\r\n"), br, c
}

func TestATunnelCannotReachHostdsOwnListeners(t *testing.T) {
	// The plugin allows every target: only hostd stands in the way.
	h := hostdtest.Start(t, config(`
[server]
listen = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
[plugins.tunnel]
cmd = "{{bin}}/tunnel"
[plugins.tunnel.config]
allow = ["*"]
[[routes]]
authority = "*"
events = ["connect"]
plugin = "tunnel"
`))
	_, admin, _ := net.SplitHostPort(h.AdminAddr().String())
	_, server, _ := net.SplitHostPort(h.Addr)
	for _, target := range []string{
		"127.0.0.1:" + admin, "localhost:" + admin, "LocalHost:" + admin, "[::1]:" + admin, "127.0.0.2:" + admin, "0.0.0.0:" + admin,
		"127.0.0.1:" + server, "localhost:" + server, "[::1]:" + server,
		"127.0.0.1:0" + admin, "[::ffff:127.0.0.1]:" + admin,
	} {
		t.Run("CONNECT "+target+" is refused", func(t *testing.T) {
			line, _, _ := connect(t, h, target)
			require.Equal(t, "HTTP/1.1 403 Forbidden", line)
		})
	}

	t.Run("an allowed target still tunnels", func(t *testing.T) {
		target := hostdtest.TCPEcho(t)
		line, br, c := connect(t, h, target)
		require.Equal(t, "HTTP/1.1 200 Connection Established", line)
		_, err := io.WriteString(c, "through")
		require.NoError(t, err)
		got := make([]byte, 7)
		_, err = io.ReadFull(br, got)
		require.NoError(t, err)
		require.Equal(t, "through", string(got))
	})
}

func TestTheShippedConfigurationDoesNotTunnelToHostd(t *testing.T) {
	toml := strings.Replace(string(examples.DefaultConfig), `listen = ["127.0.0.1:8080"]`, `listen = ["127.0.0.1:0"]`, 1)
	toml = strings.Replace(toml, `listen = "127.0.0.1:9180"`, `listen = "127.0.0.1:0"`, 1)
	h := hostdtest.Start(t, toml, hostdtest.WithBuiltins("echo", "tunnel", "earlyhints"))
	_, admin, _ := net.SplitHostPort(h.AdminAddr().String())
	_, server, _ := net.SplitHostPort(h.Addr)
	for _, target := range []string{"127.0.0.1:" + admin, "localhost:" + admin, "[::1]:" + admin, "127.0.0.1:" + server} {
		line, _, _ := connect(t, h, target)
		require.Equal(t, "HTTP/1.1 403 Forbidden", line, target)
	}
	line, _, _ := connect(t, h, "127.0.0.1:22")
	require.Equal(t, "HTTP/1.1 403 Forbidden", line, "the allowlist is not every loopback port")
}
