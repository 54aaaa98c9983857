package hostd_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/sysmon"
)

// adminCall sends one raw request to the admin listener at addr (a TCP
// address, or a Unix socket path) and returns the status and body.
func adminCall(t *testing.T, network, addr, raw string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	res, body := hostdtest.ReadResponse(t, bufio.NewReader(c), strings.Fields(raw)[0])
	return res.StatusCode, body
}

const guardConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.gen]
builtin = "gen"
[[routes]]
path = "/gen"
plugin = "gen"
[admin]
`

func TestAdminAPIRefusesWebPagesAndForeignNames(t *testing.T) {
	h := hostdtest.Start(t, guardConfig+`listen = "127.0.0.1:0"`+"\n")
	admin := h.AdminAddr().String()
	_, port, _ := net.SplitHostPort(admin)
	call := func(raw string) (int, string) { return adminCall(t, "tcp", admin, raw) }
	gen := func() uint64 { return h.Plugin("gen").Current().Generation() }

	t.Run("a cross-origin text/plain POST /plugins/gen/restart is refused and restarts nothing", func(t *testing.T) {
		code, body := call("POST /plugins/gen/restart HTTP/1.1\r\nHost: 127.0.0.1:" + port +
			"\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		require.Equal(t, 403, code, body)
		require.EqualValues(t, 1, gen())
	})

	t.Run("a cross-origin text/plain POST /reload is refused", func(t *testing.T) {
		require.NoError(t, writeFile(h.File, "[server]\nlisten = []\n")) // a reload would answer 400
		code, body := call("POST /reload HTTP/1.1\r\nHost: 127.0.0.1:" + port +
			"\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		require.Equal(t, 403, code, body)
		require.Contains(t, body, "cross-origin")
	})

	t.Run("a page whose DNS name was rebound to 127.0.0.1 is refused (Host: evil.example)", func(t *testing.T) {
		for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1:1"} {
			code, body := call("GET /status HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
			require.Equal(t, 403, code, "Host %s: %s", host, body)
		}
	})

	t.Run("an Origin on another port of the same host is foreign", func(t *testing.T) {
		code, _ := call("GET /status HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: http://127.0.0.1:8080\r\nConnection: close\r\n\r\n")
		require.Equal(t, 403, code)
	})

	t.Run("state changes take only POST", func(t *testing.T) {
		code, _ := call("GET /reload HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
		require.Equal(t, 405, code)
	})

	t.Run("curl-like calls by each of the listener's names still work", func(t *testing.T) {
		for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port, "[::1]:" + port} {
			code, body := call("GET /status HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: curl/8\r\nConnection: close\r\n\r\n")
			require.Equal(t, 200, code, "Host %s: %s", host, body)
		}
		code, body := call("GET /status HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: http://127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
		require.Equal(t, 200, code, "the listener's own origin: %s", body)
		require.NoError(t, writeFile(h.File, config(guardConfig+`listen = "127.0.0.1:0"`+"\n")))
		code, body = call("POST /plugins/gen/restart HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		require.Equal(t, 200, code, body)
		require.EqualValues(t, 2, gen())
	})
}

func TestAdminAPIRequiresTheTokenWhenOneIsSet(t *testing.T) {
	t.Setenv("HOSTD_ADMIN_TOKEN", "s3cret-token")
	h := hostdtest.Start(t, guardConfig+`listen = "127.0.0.1:0"`+"\n"+`
[plugins.env]
builtin = "misbehave"
[[routes]]
path = "/env"
plugin = "env"
`)
	admin := h.AdminAddr().String()
	status := func(auth string) int {
		code, _ := adminCall(t, "tcp", admin, "GET /status HTTP/1.1\r\nHost: "+admin+"\r\n"+auth+"Connection: close\r\n\r\n")
		return code
	}
	require.Equal(t, 401, status(""), "no token")
	require.Equal(t, 401, status("Authorization: Bearer wrong\r\n"), "a wrong token")
	require.Equal(t, 401, status("Authorization: Basic czNjcmV0LXRva2Vu\r\n"), "another scheme")
	require.Equal(t, 200, status("Authorization: Bearer s3cret-token\r\n"))
	code, body := adminCall(t, "tcp", admin, "POST /reload HTTP/1.1\r\nHost: "+admin+"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	require.Equal(t, 401, code, body)

	t.Run("the probes need no token", func(t *testing.T) {
		code, _ := adminCall(t, "tcp", admin, "GET /healthz HTTP/1.1\r\nHost: "+admin+"\r\nConnection: close\r\n\r\n")
		require.Equal(t, 200, code)
	})

	t.Run("plugins do not inherit the token", func(t *testing.T) {
		h.Get(t, "/env?env=HOSTD_ADMIN_TOKEN").RequireStatus(200).RequireBody("")
		h.Get(t, "/env?env=HOSTD_BUILTIN_PLUGIN").RequireStatus(200).RequireBody("misbehave")
	})

	t.Run("plugins run with sysmon kept awake", func(t *testing.T) {
		require.Contains(t, h.Get(t, "/env?env=GODEBUG").RequireStatus(200).Body, sysmon.Setting)
	})
}

func TestAdminAPIOnAUnixSocketIsPrivate(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admin.sock")
	h := hostdtest.Start(t, guardConfig+`listen = "unix:`+sock+`"`+"\n")
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	require.Equal(t, os.ModeSocket|0o600, fi.Mode()&(os.ModeSocket|os.ModePerm))
	code, body := adminCall(t, "unix", sock, "GET /status HTTP/1.1\r\nHost: hostd\r\nConnection: close\r\n\r\n")
	require.Equal(t, 200, code, body)
	code, _ = adminCall(t, "unix", sock, "POST /reload HTTP/1.1\r\nHost: hostd\r\nOrigin: http://evil.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	require.Equal(t, 403, code)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))
	_, err = os.Stat(sock)
	require.True(t, os.IsNotExist(err), "the socket file goes with the listener")
}

func TestAdminProbes(t *testing.T) {
	hold := filepath.Join(t.TempDir(), "hold")
	h := hostdtest.Start(t, strings.ReplaceAll(`
[server]
listen = ["127.0.0.1:0"]
[plugins.flaky]
builtin = "misbehave"
[plugins.flaky.config]
fail_while = "{{hold}}"
[plugins.unrouted]
builtin = "gen"
[[routes]]
path = "/flaky"
plugin = "flaky"
[admin]
listen = "127.0.0.1:0"
`, "{{hold}}", hold))
	admin := "http://" + h.AdminAddr().String()
	get := func(path string) (int, string) {
		res, err := http.Get(admin + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := get("/readyz")
	require.Equal(t, 200, code, body)
	code, _ = get("/healthz")
	require.Equal(t, 200, code)

	// Crash the routed plugin and hold it down: not ready, and says which.
	require.NoError(t, os.WriteFile(hold, nil, 0o644))
	h.Get(t, "/flaky?crash=before").RequireStatus(502)
	code, body = get("/readyz")
	require.Equal(t, 503, code)
	require.Equal(t, "flaky: down, restarting\n", body)
	code, _ = get("/healthz")
	require.Equal(t, 200, code, "alive all the same")

	require.NoError(t, os.Remove(hold))
	require.Eventually(t, func() bool { c, _ := get("/readyz"); return c == 200 }, 20*time.Second, 20*time.Millisecond)
}
