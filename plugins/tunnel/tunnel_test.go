package tunnel_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

var bin string

func TestMain(m *testing.M) {
	hostdtest.Main(m, &bin, "github.com/hostd/hostd/plugins/tunnel/cmd/tunnel")
}

func start(t *testing.T, table string) *hostdtest.Host {
	return hostdtest.Start(t, fmt.Sprintf(`
[server]
listen = ["127.0.0.1:0"]
[plugins.tunnel]
cmd = %q
[plugins.tunnel.config]
%s
[[routes]]
authority = "*"
events = ["connect"]
plugin = "tunnel"
`, bin+"/tunnel", table))
}

// connect sends a CONNECT and returns the status line's code and the
// connection, positioned after the response head.
func connect(t *testing.T, h *hostdtest.Host, target, extra, head string) (int, *http.Response, net.Conn, *bufio.Reader) {
	c := h.Dial(t)
	_, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n"+extra+"\r\n"+head)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	require.NoError(t, err)
	return res.StatusCode, res, c, br
}

func TestTunnelCarriesTenMiBBothWays(t *testing.T) {
	h := start(t, `allow = ["127.0.0.1:*"]`)
	target := hostdtest.TCPEcho(t)
	code, res, c, br := connect(t, h, target, "", "first-bytes")
	require.Equal(t, 200, code)
	require.Equal(t, "Connection Established", strings.TrimPrefix(res.Status, "200 "))

	payload := make([]byte, 10<<20)
	_, _ = rand.Read(payload)
	go func() {
		_, _ = c.Write(payload)
		_ = c.(*net.TCPConn).CloseWrite() // the target sees the end, and ends too
	}()
	got, err := io.ReadAll(br)
	require.NoError(t, err)
	require.Equal(t, len("first-bytes")+len(payload), len(got))
	require.Equal(t, "first-bytes", string(got[:11]), "the head bytes are forwarded first")
	require.True(t, bytes.Equal(payload, got[11:]), "every byte comes back intact")
}

func TestTunnelRefusals(t *testing.T) {
	h := start(t, `allow = ["127.0.0.1:*"]
dial_timeout = 2000
[plugins.tunnel.config.users]
alice = "secret"`)
	target := hostdtest.TCPEcho(t)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	auth := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret")) + "\r\n"
	for _, tc := range []struct {
		name, target, extra string
		code                int
	}{
		{"a target without a port gets 400", "127.0.0.1", auth, 400},
		{"a target with a bad port gets 400", "127.0.0.1:99999", auth, 400},
		{"no credentials get 407", target, "", 407},
		{"a wrong password gets 407", target, "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alice:nope")) + "\r\n", 407},
		{"a target the allowlist lacks gets 403", "localhost:" + strings.Split(target, ":")[1], auth, 403},
		{"a target that refuses the connection gets 502", closed, auth, 502},
		{"the right credentials and an allowed target get 200", target, auth, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res, _, _ := connect(t, h, tc.target, tc.extra, "")
			require.Equal(t, tc.code, code)
			if code == 407 {
				require.Equal(t, `Basic realm="hostd"`, res.Header.Get("Proxy-Authenticate"))
			}
		})
	}
}

func TestTunnelDeniesEverythingByDefault(t *testing.T) {
	h := start(t, ``)
	code, _, _, _ := connect(t, h, hostdtest.TCPEcho(t), "", "")
	require.Equal(t, 403, code)
}

func TestGoHTTPClientThroughTheTunnel(t *testing.T) {
	h := start(t, `allow = ["127.0.0.1:*"]`)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "secret through the tunnel")
	}))
	defer srv.Close()
	proxy, _ := url.Parse(h.URL)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(proxy) // https through a proxy: Go sends CONNECT
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	res, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	require.Equal(t, "secret through the tunnel", string(body))
}
