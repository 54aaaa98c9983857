package hostd_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/testutil"
)

// nodeTimeouts is the timeouts builtin written as a Node v20 server with
// a 'timeout' listener that does ACTION ("end": socket.end('bye\n');
// "nothing"; "none": no listener at all). As the builtin, /fired?from=ADDR
// answers once ADDR's connection has timed out, /slow once its own has.
const nodeTimeouts = `
const http = require('node:http');
const action = 'ACTION';
const fired = new Map();
function event(addr) {
  let e = fired.get(addr);
  if (!e) { e = {}; e.promise = new Promise((r) => { e.resolve = r; }); fired.set(addr, e); }
  return e;
}
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  let addr;
  if (u.pathname === '/fired') addr = u.searchParams.get('from');
  else if (u.pathname === '/slow') {
    addr = req.socket.remoteAddress + ':' + req.socket.remotePort;
    if (u.searchParams.has('flush')) res.flushHeaders();
  } else { res.end('hi'); return; }
  event(addr).promise.then(() => { if (action === 'nothing' || u.pathname === '/fired') res.end('late'); });
});
server.timeout = 200;
server.keepAliveTimeout = 0;
if (action !== 'none') server.on('timeout', (socket) => {
  if (action === 'end') socket.end('bye\n');
  event(socket.remoteAddress + ':' + socket.remotePort).resolve();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`

// timeoutsConfig serves everything with the timeouts builtin doing
// ACTION, and names it timeout_plugin unless ACTION is "none".
const timeoutsConfig = `
[server]
listen = ["127.0.0.1:0"]
timeout = 200
keep_alive_timeout = 0
TIMEOUT_PLUGIN
[plugins.timeouts]
builtin = "timeouts"
[plugins.timeouts.config]
action = "ACTION"
[[routes]]
path = "/"
plugin = "timeouts"
`

// timeoutServers starts Node and hostd, each with a timeout listener that
// does action, and returns their addresses.
func timeoutServers(t *testing.T, action string) (node, ours string) {
	t.Helper()
	node = testutil.StartNode(t, strings.Replace(nodeTimeouts, "ACTION", action, 1))
	cfg, plugin := timeoutsConfig, `timeout_plugin = "timeouts"`
	if action == "none" {
		action, plugin = "nothing", "" // the builtin still answers requests
	}
	cfg = strings.Replace(strings.Replace(cfg, "ACTION", action, 1), "TIMEOUT_PLUGIN", plugin, 1)
	return node, hostdtest.Start(t, config(cfg)).Addr
}

// The server 'timeout' event routed to a plugin (issue 12), next to Node
// v20 with the same listener: the same bytes and the same fate of the
// socket.
func TestTimeoutEventMatchesNode(t *testing.T) {
	t.Run("a listener that writes and ends closes an idle keep-alive connection after its bytes", func(t *testing.T) {
		node, ours := timeoutServers(t, "end")
		const raw = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
		want := maskDate(rawExchange(t, node, raw))
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhibye\n", want)
		require.Equal(t, want, maskDate(rawExchange(t, ours, raw)))
	})

	t.Run("a listener that writes and ends answers a request in flight in place of its handler", func(t *testing.T) {
		node, ours := timeoutServers(t, "end")
		const raw = "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
		want := rawExchange(t, node, raw)
		require.Equal(t, "bye\n", want)
		require.Equal(t, want, rawExchange(t, ours, raw))
	})

	t.Run("a listener that does nothing keeps the idle connection", func(t *testing.T) {
		node, ours := timeoutServers(t, "nothing")
		exchange := func(addr string) string {
			c := dialAddr(t, addr)
			require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
			br := bufio.NewReader(c)
			var out strings.Builder
			get := func() {
				_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
				require.NoError(t, err)
				res, body := hostdtest.ReadResponse(t, br, "GET")
				out.WriteString(res.Status + " " + body + ";")
			}
			get()
			fired := rawExchange(t, addr, "GET /fired?from="+c.LocalAddr().String()+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			require.True(t, strings.HasSuffix(fired, "\r\n\r\nlate"), "the idle connection timed out: %q", fired)
			get() // the same connection, after its timeout event
			return out.String()
		}
		want := exchange(node)
		require.Equal(t, "200 OK hi;200 OK hi;", want)
		require.Equal(t, want, exchange(ours))
	})

	t.Run("a listener that does nothing lets the request in flight go on", func(t *testing.T) {
		node, ours := timeoutServers(t, "nothing")
		const raw = "GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		want := maskDate(rawExchange(t, node, raw))
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: close\r\nContent-Length: 4\r\n\r\nlate", want)
		require.Equal(t, want, maskDate(rawExchange(t, ours, raw)))
	})

	t.Run("without a listener the idle connection is destroyed", func(t *testing.T) {
		node, ours := timeoutServers(t, "none")
		const raw = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
		want := maskDate(rawExchange(t, node, raw))
		require.Equal(t, "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", want)
		require.Equal(t, want, maskDate(rawExchange(t, ours, raw)))
	})

	// Node lets the listener's bytes land in the middle of a response
	// that has begun; hostd refuses them (the plugin sees HeadersSent),
	// so the client reads the response as far as it went, then the end.
	t.Run("bytes into a begun response are Node's, never hostd's", func(t *testing.T) {
		node, ours := timeoutServers(t, "end")
		const raw = "GET /slow?flush HTTP/1.1\r\nHost: a\r\n\r\n"
		const head = "HTTP/1.1 200 OK\r\nDate: X\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
		require.Equal(t, head+"bye\n", maskDate(rawExchange(t, node, raw)), "Node writes the listener's bytes into the body")
		require.Equal(t, head, maskDate(rawExchange(t, ours, raw)), "hostd cuts the response short without them")
	})
}

// startTimeouts starts hostd with the timeouts builtin doing action as
// its timeout_plugin, and the admin API.
func startTimeouts(t *testing.T, action string) *hostdtest.Host {
	t.Helper()
	cfg := strings.Replace(strings.Replace(timeoutsConfig, "ACTION", action, 1), "TIMEOUT_PLUGIN", `timeout_plugin = "timeouts"`, 1)
	return hostdtest.Start(t, config(cfg+"[admin]\nlisten = \"127.0.0.1:0\"\n"))
}

// idleUntilClosed makes one request on a new connection, then waits for
// hostd to close it and returns what came after the response.
func idleUntilClosed(t *testing.T, h *hostdtest.Host) string {
	t.Helper()
	c := h.Dial(t)
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	res, body := hostdtest.ReadResponse(t, br, "GET")
	require.Equal(t, "200 hi", res.Status[:3]+" "+body)
	rest, err := io.ReadAll(br)
	require.NoError(t, err, "hostd closes the connection within 10 s")
	return string(rest)
}

// A timeout plugin that fails costs the socket of its event, and nothing
// else.
func TestTimeoutPluginFailures(t *testing.T) {
	for _, action := range []string{"panic", "exit", "slow"} {
		t.Run("a plugin that does "+action+" loses the connection", func(t *testing.T) {
			h := startTimeouts(t, action)
			require.Empty(t, idleUntilClosed(t, h), "closed without a byte")
			require.Eventually(t, func() bool { code, _ := h.Status("/"); return code == 200 },
				10*time.Second, 20*time.Millisecond, "the plugin serves other connections")
		})
	}

	t.Run("a plugin that does not handle the event leaves the socket to be destroyed", func(t *testing.T) {
		h := hostdtest.Start(t, config(`
[server]
listen = ["127.0.0.1:0"]
timeout = 200
keep_alive_timeout = 0
timeout_plugin = "gen"
[plugins.gen]
builtin = "gen"
[plugins.gen.config]
name = "hi"
[[routes]]
path = "/"
plugin = "gen"
`))
		require.Empty(t, idleUntilClosed(t, h))
	})
}

// The timeout_plugin here takes no route: only timeout_plugin puts it in
// the readiness probe.
func TestTimeoutPluginIsCountedAndProbed(t *testing.T) {
	h := hostdtest.Start(t, config(`
[server]
listen = ["127.0.0.1:0"]
timeout = 200
keep_alive_timeout = 0
timeout_plugin = "bye"
[plugins.bye]
builtin = "timeouts"
[plugins.bye.config]
action = "end"
[plugins.gen]
builtin = "gen"
[plugins.gen.config]
name = "hi"
[[routes]]
path = "/"
plugin = "gen"
[admin]
listen = "127.0.0.1:0"
`))
	require.Equal(t, "bye\n", idleUntilClosed(t, h))
	requireSample(t, scrape(t, h), 1, "hostd_timeouts_total", "plugin", "bye")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.Empty(t, h.NotReady(ctx))
	require.NoError(t, h.Shutdown(ctx))
	require.Equal(t, map[string]string{"bye": "hostd is shutting down", "gen": "hostd is shutting down"}, h.NotReady(ctx),
		"/readyz names the timeout_plugin as it names routed plugins")
}

// timeout_plugin is reloaded as client_error is; a bad name is refused
// with its key, and the running configuration stays.
func TestTimeoutPluginReload(t *testing.T) {
	h := startTimeouts(t, "end")
	running, err := os.ReadFile(h.File)
	require.NoError(t, err)
	reload := func(cfg string) error {
		require.NoError(t, os.WriteFile(h.File, []byte(cfg), 0o644))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return h.Reload(ctx)
	}

	err = reload(strings.Replace(string(running), `timeout_plugin = "timeouts"`, `timeout_plugin = "nope"`, 1))
	require.ErrorContains(t, err, `server.timeout_plugin: "nope" is not a configured plugin`)
	require.Equal(t, "bye\n", idleUntilClosed(t, h), "the running configuration stays")

	require.NoError(t, reload(strings.Replace(string(running), `timeout_plugin = "timeouts"`, "", 1)))
	require.Empty(t, idleUntilClosed(t, h), "without timeout_plugin the socket is destroyed")
}
