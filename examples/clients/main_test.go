package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/examples"
	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/plugins/earlyhints"
	echoplugin "github.com/hostd/hostd/plugins/echo"
	"github.com/hostd/hostd/plugins/tunnel"
)

func TestMain(m *testing.M) {
	hostdtest.ServeBuiltin(map[string]func() any{
		"echo":       func() any { return echoplugin.New() },
		"tunnel":     func() any { return tunnel.New() },
		"earlyhints": func() any { return earlyhints.New() },
	})
	hostdtest.ClearEnvironment()
	m.Run()
}

// TestClientsAgainstTheDefaultConfiguration runs each client against
// hostd serving examples/hostd.toml, on a free port.
func TestClientsAgainstTheDefaultConfiguration(t *testing.T) {
	toml := strings.Replace(string(examples.DefaultConfig), `listen = ["127.0.0.1:8080"]`, `listen = ["127.0.0.1:0"]`, 1)
	toml = strings.Replace(toml, `listen = "127.0.0.1:9180"`, `listen = "127.0.0.1:0"`, 1)
	// The upstream listens on a free port rather than 3000.
	toml = strings.Replace(toml, `allow = ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"]`, `allow = ["127.0.0.1:*"]`, 1)
	h := hostdtest.Start(t, toml, hostdtest.WithBuiltins("echo", "tunnel", "earlyhints"))
	for _, tc := range []struct{ cmd, want string }{
		{"echo", `"body":"hello, plugin"`},
		{"hints", "103 Early Hints\n  Link: </hints/style.css>; rel=preload; as=style, </hints/app.js>; rel=preload; as=script\n200 OK"},
		{"upgrade", "101 Switching Protocols Upgrade: websocket\nechoed: hello\nechoed: over the upgraded socket\n"},
		{"connect", "CONNECT: 200 Connection Established\nthrough the tunnel: 200 OK, hello from the upstream\n"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			require.NoError(t, run(ctx, tc.cmd, h.Addr, "127.0.0.1:0", &out))
			require.Contains(t, out.String(), tc.want)
		})
	}
}
