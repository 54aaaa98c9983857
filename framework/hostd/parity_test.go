package hostd_test

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/nodetest"
)

// nodeEchoPlugin is what the echo plugin does, written as a Node v20
// handler: it answers with the request's fields as JSON. OPTIONS is
// replaced by the options of http.createServer.
const nodeEchoPlugin = `
const http = require('node:http');
const server = http.createServer(OPTIONS, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({
      method: req.method, url: req.url, httpVersion: req.httpVersion,
      headers: req.headers, rawHeaders: req.rawHeaders,
      trailers: req.trailers, rawTrailers: req.rawTrailers,
      body: body.toString(), bodyLength: body.length,
    }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`

// startNodeEcho runs nodeEchoPlugin with the createServer options opts (a
// JavaScript object literal).
func startNodeEcho(t *testing.T, opts string) string {
	return nodetest.Start(t, strings.Replace(nodeEchoPlugin, "OPTIONS", opts, 1))
}

// echoOf sends raw to addr and decodes the JSON body of the answer.
func echoOf(t *testing.T, addr, raw string) map[string]any {
	t.Helper()
	out := rawExchange(t, addr, raw)
	head, body, ok := strings.Cut(out, "\r\n\r\n")
	require.True(t, ok, "no answer: %q", out)
	require.True(t, strings.HasPrefix(head, "HTTP/1.1 200 "), head)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	return m
}

// rawExchange writes raw on a new connection to addr and returns what
// comes back until the server closes it.
func rawExchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c := dialAddr(t, addr)
	_, err := c.Write([]byte(raw))
	require.NoError(t, err)
	return hostdtest.ReadUntilClose(c, 10*time.Second)
}

// dialAddr connects to addr; the connection closes with the test.
func dialAddr(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// Issue 12 item 1: with join_duplicate_headers (Node's
// joinDuplicateHeaders) a plugin's Request.Headers joins the fields Node
// otherwise keeps the first of, as Node's message.headers does.
func TestJoinDuplicateHeadersReachesPlugins(t *testing.T) {
	const raw = "GET /echo HTTP/1.1\r\nHost: h\r\nUser-Agent: u1\r\nUser-Agent: u2\r\n" +
		"Authorization: a1\r\nauthorization: a2\r\nX-Dup: x1\r\nX-Dup: x2\r\nConnection: close\r\n\r\n"
	for _, tc := range []struct {
		join      bool
		nodeOpts  string
		userAgent string
	}{
		{join: false, nodeOpts: "{}", userAgent: "u1"},
		{join: true, nodeOpts: "{joinDuplicateHeaders: true}", userAgent: "u1, u2"},
	} {
		t.Run(fmt.Sprintf("join_duplicate_headers = %v", tc.join), func(t *testing.T) {
			node := echoOf(t, startNodeEcho(t, tc.nodeOpts), raw)["headers"]
			cfg := strings.Replace(streamConfig, "[server]\n", fmt.Sprintf("[server]\njoin_duplicate_headers = %v\n", tc.join), 1)
			h := hostdtest.Start(t, config(cfg))
			ours := echoOf(t, h.Addr, raw)["headers"]
			require.Equal(t, node, ours, "Node's headers, then the plugin's")
			require.Equal(t, tc.userAgent, ours.(map[string]any)["user-agent"])
		})
	}
}
