package hostd_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
)

const misbehaveConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.mis]
builtin = "misbehave"
[[routes]]
path = "/mis"
plugin = "mis"
`

// sockets counts the Unix socket files under dir.
func sockets(t *testing.T, dir string) int {
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSocket != 0 {
			n++
		}
		return nil
	}))
	return n
}

func TestACrashedPluginLeavesNoSocketFileBehind(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where go-plugin puts the plugin's socket
	h := hostdtest.Start(t, misbehaveConfig)
	require.Equal(t, 1, sockets(t, tmp), "the running plugin's socket")
	for i := range 3 {
		pid := h.Get(t, "/mis").RequireStatus(200).Header.Get("X-Pid")
		h.Get(t, "/mis?crash=before").RequireStatus(502)
		require.Eventually(t, func() bool {
			code, newPid := h.Status("/mis")
			return code == 200 && newPid != pid
		}, 20*time.Second, 10*time.Millisecond, "restart %d", i)
		require.Equal(t, 1, sockets(t, tmp), "after crash %d, only the new generation's socket", i+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))
	require.Equal(t, 0, sockets(t, tmp), "none once stopped")
}

// gone reports whether process pid has ended (a zombie waiting for init
// to reap it has ended too).
func gone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) STATE ...: the state follows the last ')'.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	return bytes.HasPrefix(bytes.TrimSpace(rest), []byte("Z"))
}

func TestWhatAPluginStartsEndsWithIt(t *testing.T) {
	spawn := func(t *testing.T, h *hostdtest.Host) int {
		body := h.Get(t, "/mis?spawn").RequireStatus(200).Body
		pid, err := strconv.Atoi(body)
		require.NoError(t, err, body)
		require.False(t, gone(pid), "the child runs")
		t.Cleanup(func() { _ = syscallKill(pid) })
		return pid
	}
	t.Run("when the plugin crashes", func(t *testing.T) {
		h := hostdtest.Start(t, misbehaveConfig)
		child := spawn(t, h)
		h.Get(t, "/mis?crash=before").RequireStatus(502)
		require.Eventually(t, func() bool { return gone(child) }, 20*time.Second, 10*time.Millisecond)
	})
	t.Run("when the plugin is stopped", func(t *testing.T) {
		h := hostdtest.Start(t, misbehaveConfig)
		child := spawn(t, h)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, h.Shutdown(ctx))
		require.Eventually(t, func() bool { return gone(child) }, 20*time.Second, 10*time.Millisecond)
	})
	t.Run("when the plugin is restarted", func(t *testing.T) {
		h := hostdtest.Start(t, misbehaveConfig)
		child := spawn(t, h)
		require.NoError(t, h.RestartPlugin(context.Background(), "mis"))
		require.Eventually(t, func() bool { return gone(child) }, 20*time.Second, 10*time.Millisecond)
	})
}

func TestPluginOutputReachesTheLogAtInfoWithItsName(t *testing.T) {
	var logs hostdtest.LogBuffer
	h := hostdtest.Start(t, misbehaveConfig, func(o *hostd.Options) {
		o.Logger = hclog.New(&hclog.LoggerOptions{Name: "hostd", Output: &logs, Level: hclog.Info})
	})
	h.Get(t, "/mis?print=fmt.Println").RequireStatus(200)
	for _, want := range []string{
		"[INFO]  hostd.mis: fmt.Println on stdout: stream=stdout",
		"[INFO]  hostd.mis: fmt.Println on stderr: stream=stderr",
	} {
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), want) }, 10*time.Second, 10*time.Millisecond,
			"want %q in:\n%s", want, logs.String())
	}
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	path := filepath.Join(t.TempDir(), "plugin.sh")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
	return path
}

// startErr starts hostd with one plugin running cmd, expecting it to fail
// within bound (start_timeout is far below it), and returns the error.
func startErr(t *testing.T, cmd string, bound time.Duration, log hclog.Logger) error {
	file := filepath.Join(t.TempDir(), "hostd.toml")
	require.NoError(t, os.WriteFile(file, []byte(`
[server]
listen = ["127.0.0.1:0"]
[plugins.p]
cmd = "`+cmd+`"
start_timeout = 300
`), 0o644))
	h, err := hostd.New(hostd.Options{ConfigFile: file, Logger: log})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- h.Start(context.Background()) }()
	select {
	case err := <-done:
		require.Error(t, err)
		return err
	case <-time.After(bound):
		t.Fatalf("Start did not return within %v with start_timeout = 300 ms", bound)
		return nil
	}
}

func TestAPluginThatFailsToStart(t *testing.T) {
	t.Run("shows its own stderr, not go-plugin's guess", func(t *testing.T) {
		var logs hostdtest.LogBuffer
		log := hclog.New(&hclog.LoggerOptions{Name: "hostd", Output: &logs, Level: hclog.Debug})
		err := startErr(t, script(t, "echo 'cannot read /etc/plugin.key: permission denied' >&2\nexit 1\n"), time.Minute, log)
		require.Contains(t, err.Error(), "its stderr: cannot read /etc/plugin.key: permission denied")
		require.NotContains(t, err.Error(), "architecture")
		require.Contains(t, logs.String(), "[INFO]  hostd.p: cannot read /etc/plugin.key: permission denied: stream=stderr")
		require.Equal(t, 1, strings.Count(logs.String(), "cannot read /etc/plugin.key"), "logged once, even at debug level:\n%s", logs.String())
	})
	// The children (sleep) hold the plugin's output pipes: go-plugin waits
	// for their end unless the whole group is ended.
	t.Run("start_timeout holds for one that prints a line and hangs", func(t *testing.T) {
		err := startErr(t, script(t, "echo hello\nsleep 300\n"), time.Minute, hostdtest.Logger(t))
		require.Contains(t, err.Error(), "Unrecognized remote plugin message: hello")
	})
	t.Run("start_timeout holds for one that prints nothing and hangs", func(t *testing.T) {
		err := startErr(t, script(t, "sleep 300\n"), time.Minute, hostdtest.Logger(t))
		require.Contains(t, err.Error(), "timeout while waiting for plugin to start")
	})
}
