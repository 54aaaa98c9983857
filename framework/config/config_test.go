package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/examples"
	"github.com/hostd/hostd/framework/config"
	"github.com/hostd/hostd/protocol"
)

var builtins = config.Options{Builtins: []string{"echo", "tunnel", "earlyhints"}, Environ: []string{}}

func TestTheDefaultConfigurationLoads(t *testing.T) {
	c, err := config.Load(examples.DefaultConfig, "hostd.toml", ".", builtins)
	require.NoError(t, err)
	require.Equal(t, []string{"127.0.0.1:8080"}, c.Server.Listen)
	require.Equal(t, 60*time.Second, c.Server.HeadersTimeout)
	require.Equal(t, 5*time.Second, c.Server.KeepAliveTimeout)
	require.Equal(t, 16384, c.Server.MaxHeaderSize)
	require.True(t, c.Server.RequireHostHeader)
	require.Len(t, c.Plugins, 3)
	require.Len(t, c.Routes, 3)
	require.JSONEq(t, `{"max_body":1048576}`, string(c.Plugins["echo"].Config))
	require.Equal(t, 1, c.Plugins["echo"].MaxProcs, "plugins run on one processor by default")
	require.Equal(t, []string{"request", "upgrade"}, c.Routes[0].Events)
	require.Equal(t, []string{"request"}, c.Routes[1].Events, "events default to request")
	require.Equal(t, protocol.EventSetOf(protocol.EventRequest, protocol.EventUpgrade), c.Routes[0].EventSet, "validation parses the events")
	require.Equal(t, protocol.EventSetOf(protocol.EventRequest), c.Routes[1].EventSet)
}

func TestDefaultsAreNodes(t *testing.T) {
	c, err := config.Load([]byte(""), "empty.toml", ".", builtins)
	require.NoError(t, err)
	s := c.Server
	require.Equal(t, 60*time.Second, s.HeadersTimeout)
	require.Equal(t, 300*time.Second, s.RequestTimeout)
	require.Equal(t, 5*time.Second, s.KeepAliveTimeout)
	require.Zero(t, s.Timeout)
	require.Equal(t, 2000, s.MaxHeadersCount)
	require.Zero(t, s.MaxRequestsPerSocket)
	require.True(t, s.NoDelay)
	require.False(t, s.KeepAlive)
}

func TestDurationsAreMillisecondsOrStrings(t *testing.T) {
	c, err := config.Load([]byte("[server]\nheaders_timeout = 1500\nrequest_timeout = \"2m\"\nkeep_alive_timeout = \"250ms\"\n"), "t.toml", ".", builtins)
	require.NoError(t, err)
	require.Equal(t, 1500*time.Millisecond, c.Server.HeadersTimeout)
	require.Equal(t, 2*time.Minute, c.Server.RequestTimeout)
	require.Equal(t, 250*time.Millisecond, c.Server.KeepAliveTimeout)
}

func TestTimeoutPluginNamesThePluginOfTheTimeoutEvent(t *testing.T) {
	c, err := config.Load([]byte("[plugins.p]\nbuiltin = \"echo\"\n[server]\ntimeout = 250\ntimeout_plugin = \"p\"\n"), "t.toml", ".", builtins)
	require.NoError(t, err)
	require.Equal(t, "p", c.Server.TimeoutPlugin)
	require.Equal(t, 250*time.Millisecond, c.Server.Timeout, "timeout stays Node's duration")
}

func TestEnvironmentOverridesKeys(t *testing.T) {
	opts := builtins
	opts.Environ = []string{
		"HOSTD_SERVER__KEEP_ALIVE_TIMEOUT=9000",
		"HOSTD_SERVER__LISTEN=127.0.0.1:1,127.0.0.1:2",
		"HOSTD_SERVER__MAX_REQUESTS_PER_SOCKET=7",
		"HOSTD_PLUGINS__ECHO__CONFIG__MAX_BODY=12",
		"OTHER=ignored",
	}
	c, err := config.Load(examples.DefaultConfig, "hostd.toml", ".", opts)
	require.NoError(t, err)
	require.Equal(t, 9*time.Second, c.Server.KeepAliveTimeout)
	require.Equal(t, []string{"127.0.0.1:1", "127.0.0.1:2"}, c.Server.Listen)
	require.Equal(t, 7, c.Server.MaxRequestsPerSocket)
	require.JSONEq(t, `{"max_body":12}`, string(c.Plugins["echo"].Config), "scalars are typed")
}

func TestRelativeCommandsResolveAgainstTheFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "p"), []byte("#!/bin/sh\n"), 0o755))
	file := filepath.Join(dir, "hostd.toml")
	require.NoError(t, os.WriteFile(file, []byte("[plugins.p]\ncmd = \"bin/p\"\n"), 0o644))
	c, err := config.LoadFile(file, builtins)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "bin", "p"), c.Plugins["p"].Cmd)
}

func TestRefusalsNameTheFileTheKeyAndTheReason(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(notExec, nil, 0o644))
	empty := filepath.Join(dir, "empty-token")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for _, tc := range []struct{ name, toml, want string }{
		{"an unknown top-level key", "[servers]\n", "t.toml: servers: unknown key"},
		{"an unknown server key", "[server]\nlisten_on = 1\n", "t.toml: server.listen_on: unknown key"},
		{"an unknown plugin key", "[plugins.p]\nbuiltin = \"echo\"\ncomand = \"x\"\n", "t.toml: plugins.p.comand: unknown key"},
		{"an unknown route key", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\npth = \"/\"\n", "t.toml: routes[0].pth: unknown key"},
		{"a wrong type", "[server]\nmax_header_size = \"big\"\n", "t.toml: server.max_header_size: cannot parse"},
		{"a bad duration", "[server]\ntimeout = \"soon\"\n", "t.toml: server.timeout:"},
		{"a negative count", "[server]\nmax_headers_count = -1\n", "t.toml: server.max_headers_count: must not be negative"},
		{"headers_timeout above request_timeout", "[server]\nheaders_timeout = 10\nrequest_timeout = 5\n", "t.toml: server.headers_timeout: must not exceed request_timeout"},
		{"a listen address without a port", "[server]\nlisten = [\"localhost\"]\n", "t.toml: server.listen[0]:"},
		{"no listen address", "[server]\nlisten = []\n", "t.toml: server.listen: at least one address"},
		{"a plugin with neither cmd nor builtin", "[plugins.p]\nargs = []\n", "t.toml: plugins.p: set cmd"},
		{"a plugin with both", "[plugins.p]\nbuiltin = \"echo\"\ncmd = \"x\"\n", "t.toml: plugins.p: set cmd or builtin, not both"},
		{"an unknown builtin", "[plugins.p]\nbuiltin = \"nope\"\n", "t.toml: plugins.p.builtin: \"nope\" is not a built-in plugin"},
		{"a missing executable", "[plugins.p]\ncmd = \"/no/such/file\"\n", "t.toml: plugins.p.cmd: stat /no/such/file"},
		{"a file that is not executable", "[plugins.p]\ncmd = \"" + notExec + "\"\n", "is not an executable file"},
		{"negative max_procs", "[plugins.p]\nbuiltin = \"echo\"\nmax_procs = -1\n", "t.toml: plugins.p.max_procs: must not be negative"},
		{"a bad sha256", "[plugins.p]\nbuiltin = \"echo\"\nsha256 = \"abc\"\n", "t.toml: plugins.p.sha256: must be 64 hexadecimal digits"},
		{"a route to no plugin", "[[routes]]\npath = \"/\"\nplugin = \"p\"\n", "t.toml: routes[0].plugin: \"p\" is not a configured plugin"},
		{"a route without a plugin", "[[routes]]\npath = \"/\"\n", "t.toml: routes[0].plugin: every route needs a plugin"},
		{"an unknown event", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\nevents = [\"data\"]\n", "t.toml: routes[0].events[0]: \"data\" is not an event (request, checkContinue, checkExpectation, upgrade, connect, dropRequest)"},
		{"an event named in the wrong case", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\nevents = [\"request\", \"Upgrade\"]\n", "t.toml: routes[0].events[1]: \"Upgrade\" is not an event"},
		{"clientError as a route event", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\nevents = [\"clientError\"]\n", "t.toml: routes[0].events[0]: clientError is not a route event: name its plugin in server.client_error"},
		{"a connect route without authority", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\nevents = [\"connect\"]\n", "t.toml: routes[0].authority: a connect route needs authority"},
		{"a path without a slash", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\npath = \"echo\"\n", "t.toml: routes[0].path: \"echo\" must start with /"},
		{"an unknown method", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\nmethods = [\"FETCH\"]\n", "t.toml: routes[0].methods[0]: \"FETCH\" is not an HTTP method"},
		{"a client_error plugin that does not exist", "[server]\nclient_error = \"p\"\n", "t.toml: server.client_error: \"p\" is not a configured plugin"},
		{"timeout as a route event", "[plugins.p]\nbuiltin = \"echo\"\n[[routes]]\nplugin = \"p\"\nevents = [\"timeout\"]\n", "t.toml: routes[0].events[0]: timeout is not a route event: name its plugin in server.timeout_plugin"},
		{"a timeout_plugin that does not exist", "[server]\ntimeout = 100\ntimeout_plugin = \"p\"\n", "t.toml: server.timeout_plugin: \"p\" is not a configured plugin"},
		{"a timeout_plugin without a timeout", "[plugins.p]\nbuiltin = \"echo\"\n[server]\ntimeout_plugin = \"p\"\n", "t.toml: server.timeout_plugin: the timeout event never fires while server.timeout is 0: set it"},
		{"broken TOML, with its line and column", "[plugins.p]\nbuiltin = \"echo\"\n[server\n", "t.toml:3:8: not valid TOML"},
		{"a key set twice", "[server]\ntimeout = 1\ntimeout = 2\n", "t.toml: not valid TOML: toml: key timeout is already defined"},
		{"a non-loopback admin API without a token", "[admin]\nlisten = \"0.0.0.0:9180\"\n", "t.toml: admin.listen: 0.0.0.0:9180 is reachable from other machines: set admin.token_file or HOSTD_ADMIN_TOKEN"},
		{"an admin API on a host name without a token", "[admin]\nlisten = \"admin.internal:9180\"\n", "t.toml: admin.listen: admin.internal:9180 is reachable"},
		{"a missing token file", "[admin]\nlisten = \"0.0.0.0:9180\"\ntoken_file = \"nope\"\n", "t.toml: admin.token_file: open " + filepath.Join(dir, "nope")},
		{"an empty token file", "[admin]\nlisten = \"0.0.0.0:9180\"\ntoken_file = \"" + empty + "\"\n", "t.toml: admin.token_file: " + empty + " is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load([]byte(tc.toml), "t.toml", dir, builtins)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			var ce *config.Error
			require.ErrorAs(t, err, &ce)
			require.True(t, strings.HasPrefix(ce.File, "t.toml"), ce.File)
		})
	}
}

func TestListenAddressesThatCannotBothBeBoundAreRefused(t *testing.T) {
	for _, tc := range []struct{ name, server, admin, want string }{
		{"the same address twice", `"127.0.0.1:8080", "127.0.0.1:8080"`, "", "server.listen[1]: collides with server.listen[0]"},
		{"server and admin on one address", `"127.0.0.1:8080"`, "127.0.0.1:8080", "admin.listen: collides with server.listen[0]"},
		{"every IPv4 address and loopback", `"127.0.0.1:8080"`, "0.0.0.0:8080", "admin.listen: collides with server.listen[0]"},
		{"every address and loopback", `":8080"`, "127.0.0.1:8080", "admin.listen: collides with server.listen[0]"},
		{"[::] and 0.0.0.0", `"[::]:8080", "0.0.0.0:8080"`, "", "server.listen[1]: collides with server.listen[0]"},
		{"localhost and ::1", `"localhost:8080", "[::1]:8080"`, "", "server.listen[1]: collides with server.listen[0]"},
		{"a TLS listener and a plain one on one port", `"tls://127.0.0.1:8443", "0.0.0.0:8443"`, "", "server.listen[1]: collides with server.listen[0]"},
		{"TLS listeners on other ports", `"tls://127.0.0.1:8443", "tls://127.0.0.1:9443"`, "", ""},
		{"one Unix socket twice", `"unix:/tmp/h.sock"`, "unix:/tmp/h.sock", "admin.listen: collides with server.listen[0]"},
		{"other ports", `"127.0.0.1:8080", "0.0.0.0:8081"`, "127.0.0.1:9180", ""},
		{"other loopback addresses", `"127.0.0.1:8080", "127.0.0.2:8080"`, "", ""},
		{"0.0.0.0 and ::1 (other families)", `"0.0.0.0:8080", "[::1]:8080"`, "", ""},
		{"free ports, chosen at bind", `"127.0.0.1:0", "127.0.0.1:0"`, "127.0.0.1:0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toml := "[server]\nlisten = [" + tc.server + "]\n"
			if strings.Contains(tc.server, "tls://") {
				toml += "[server.tls]\ncert_file = \"token\"\nkey_file = \"token\"\n" // present, not read here
			}
			if tc.admin != "" {
				toml += "[admin]\nlisten = \"" + tc.admin + "\"\ntoken_file = \"token\"\n"
			}
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600))
			_, err := config.Load([]byte(toml), "t.toml", dir, builtins)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "t.toml: "+tc.want)
		})
	}
}

func TestTheAdminToken(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("from-file\n"), 0o600))
	load := func(toml string, env ...string) (*config.Config, error) {
		opts := builtins
		opts.Environ = append([]string{}, env...) // not nil: nothing from the process's environment
		return config.Load([]byte(toml), "t.toml", dir, opts)
	}
	c, err := load("[admin]\nlisten = \"0.0.0.0:9180\"\ntoken_file = \"token\"\n")
	require.NoError(t, err)
	require.Equal(t, "from-file", c.Admin.Token, "read relative to the file, trimmed")
	c, err = load("[admin]\nlisten = \"0.0.0.0:9180\"\n", "HOSTD_ADMIN_TOKEN=from-env")
	require.NoError(t, err, "HOSTD_ADMIN_TOKEN is the token, not a key override")
	require.Equal(t, "from-env", c.Admin.Token)
	c, err = load("[admin]\nlisten = \"127.0.0.1:9180\"\n")
	require.NoError(t, err, "loopback needs no token")
	require.Empty(t, c.Admin.Token)
	_, err = load("[admin]\nlisten = \"unix:/run/hostd.sock\"\n")
	require.NoError(t, err, "nor does a Unix socket")
}

func TestAnOverrideRefusedNamesItsVariable(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"HOSTD_SERVER__MAX_HEADER_SIZE=big", "t.toml: server.max_header_size: cannot parse"},
		{"HOSTD_SERVER__LISTEN_ON=1", "t.toml: server.listen_on: unknown key"},
		{"HOSTD_SERVER__LISTEN=localhost", "t.toml: server.listen[0]:"},
		{"HOSTD_PLUGINS__P__MAX_PROCS=-1", "t.toml: plugins.p.max_procs: must not be negative"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			opts := builtins
			opts.Environ = []string{tc.env}
			_, err := config.Load([]byte("[plugins.p]\nbuiltin = \"echo\"\n"), "t.toml", ".", opts)
			require.ErrorContains(t, err, tc.want)
			name, _, _ := strings.Cut(tc.env, "=")
			require.ErrorContains(t, err, "(set by the environment variable "+name+")")
		})
	}
	_, err := config.Load([]byte("[server]\nmax_header_size = \"big\"\n"), "t.toml", ".", builtins)
	require.NotContains(t, err.Error(), "environment variable", "a value from the file")
}
