package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/testutil"
)

var bin string

func TestMain(m *testing.M) {
	runHelperIfAsked() // a helper a test started from this binary
	hostdtest.Main(m, &bin, "github.com/hostd/hostd/plugins/echo/cmd/echo")
}

// startNodeHandler serves the Node request handler src on a free port,
// as testutil.StartNode wants its scripts.
func startNodeHandler(t *testing.T, src string) string {
	return testutil.StartNode(t, `'use strict';
const http = require('http');
const server = http.createServer(`+src+`);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`)
}

func TestNodeEchoAnswersTheLoadWithTheEchoPluginsBytes(t *testing.T) {
	h := hostdtest.Start(t, (&bench{bin: bin}).echoConfig("127.0.0.1:0"))
	node := startNodeHandler(t, nodeEchoHandler)
	ctx := context.Background()

	t.Run("the same JSON for the load's request", func(t *testing.T) {
		require.NoError(t, checkEcho(ctx, h.Addr, node, h.Addr))
		body, err := askOnce(ctx, node, loadRequest(echoPath, "127.0.0.1:8080"))
		require.NoError(t, err)
		require.JSONEq(t, `{"method": "GET", "url": "/echo", "httpVersion": "1.1", "headers": {"host": "127.0.0.1:8080"},
			"rawHeaders": ["Host", "127.0.0.1:8080"], "trailers": {}, "rawTrailers": [], "body": "", "bodyLength": 0}`, string(body))
	})

	t.Run("a different answer fails the check", func(t *testing.T) {
		other := startNodeHandler(t, `(req, res) => res.end(JSON.stringify({ method: req.method, url: req.url }))`)
		err := checkEcho(ctx, h.Addr, other, h.Addr)
		require.ErrorContains(t, err, "the echo answers differ")
		require.ErrorContains(t, err, `{"method":"GET","url":"/echo"}`, "the error shows both answers")
	})

	t.Run("an error status fails the check", func(t *testing.T) {
		other := startNodeHandler(t, `(req, res) => { res.statusCode = 404; res.end(); }`)
		require.ErrorContains(t, checkEcho(ctx, h.Addr, other, h.Addr), fmt.Sprintf("%s answered 404", other))
	})
}
