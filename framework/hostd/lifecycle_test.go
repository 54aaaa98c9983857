package hostd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/testutil"
)

const lifecycleConfig = `
[server]
listen = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
[plugins.echo]
cmd = "{{bin}}/echo"
[plugins.echo.config]
max_body = {{max}}
[plugins.tunnel]
cmd = "{{bin}}/tunnel"
[[routes]]
path = "/echo"
plugin = "echo"
[[routes]]
authority = "*"
events = ["connect"]
plugin = "tunnel"
`

// daemon is the hostd executable running as its own process.
type daemon struct {
	cmd   *exec.Cmd
	file  string
	addr  string
	admin string
	mu    sync.Mutex
	log   strings.Builder
	lines chan string
}

func startDaemon(t *testing.T, max int) *daemon {
	d := launchDaemon(t, max)
	addrRE := regexp.MustCompile(`listening: addr=(\S+)`)
	adminRE := regexp.MustCompile(`admin API listening: addr=(\S+)`)
	d.waitLine(t, func(line string) bool {
		if m := adminRE.FindStringSubmatch(line); m != nil {
			d.admin = m[1]
		} else if m := addrRE.FindStringSubmatch(line); m != nil {
			d.addr = m[1]
		}
		return d.addr != "" && d.admin != ""
	})
	return d
}

// launchDaemon starts hostd on the lifecycle configuration and follows
// its log, without waiting for anything.
func launchDaemon(t *testing.T, max int) *daemon {
	d := &daemon{file: filepath.Join(t.TempDir(), "hostd.toml"), lines: make(chan string, 1000)}
	d.write(t, max)
	d.cmd = exec.Command(filepath.Join(bin, "hostd"), "-config", d.file, "-watch=false")
	// hostd killed outright cannot remove its plugins' socket folders:
	// they go in the test's own.
	d.cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	stderr, err := d.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, d.cmd.Start())
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			select {
			case d.lines <- sc.Text():
			default:
			}
		}
		close(d.lines) // the process has exited
	}()
	return d
}

// inFlight is how many requests plugin has in flight, from the admin
// API's status; 0 when it cannot be read.
func (d *daemon) inFlight(t *testing.T, plugin string) uint64 {
	t.Helper()
	res, err := http.Get("http://" + d.admin + "/status")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	var st hostd.Status
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&st) != nil {
		return 0
	}
	return st.Plugins[plugin].InFlight
}

func (d *daemon) write(t *testing.T, max int) {
	toml := strings.ReplaceAll(config(lifecycleConfig), "{{max}}", strconv.Itoa(max))
	require.NoError(t, os.WriteFile(d.file, []byte(toml), 0o644))
}

// waitLine reads log lines until match accepts one.
func (d *daemon) waitLine(t *testing.T, match func(string) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-d.lines:
			if !ok {
				d.mu.Lock()
				defer d.mu.Unlock()
				t.Fatalf("hostd exited (%v) before the log line; its log:\n%s", d.cmd.Wait(), d.log.String())
			}
			if match(line) {
				return
			}
		case <-deadline:
			d.mu.Lock()
			defer d.mu.Unlock()
			t.Fatalf("timed out waiting for a log line; log so far:\n%s", d.log.String())
		}
	}
}

func get(t *testing.T, addr, path string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	return hostdtest.ReadUntilClose(c, 10*time.Second)
}

// TestDaemonTakesSignalsWhileItStarts sends SIGHUP while hostd is still
// starting its plugins: the reload must wait for the start, not kill
// hostd, whose handler for the signal has to be in place before it logs.
func TestDaemonTakesSignalsWhileItStarts(t *testing.T) {
	d := launchDaemon(t, 1000)
	d.waitLine(t, func(line string) bool {
		return strings.Contains(line, "starting: version=") && strings.Contains(line, "gomaxprocs=")
	})
	// The first of the two plugins has started; the second's launch, a
	// process and a handshake, is still to come.
	d.waitLine(t, func(line string) bool { return strings.Contains(line, "plugin started") })
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGHUP))
	addrRE := regexp.MustCompile(`\blistening: addr=(\S+)`)
	d.waitLine(t, func(line string) bool {
		if m := addrRE.FindStringSubmatch(line); m != nil && !strings.Contains(line, "admin API") {
			d.addr = m[1]
		}
		return strings.Contains(line, "configuration reloaded")
	})
	require.NotEmpty(t, d.addr)
	require.Contains(t, get(t, d.addr, "/echo"), "HTTP/1.1 200 OK")
}

func TestDaemonReloadsOnSIGHUPAndTheAdminCommand(t *testing.T) {
	d := startDaemon(t, 1000)
	require.Contains(t, get(t, d.addr, "/echo"), "HTTP/1.1 200 OK")
	before := testutil.Children(d.cmd.Process.Pid)
	require.Len(t, before, 2, "echo and tunnel run as children")

	t.Run("SIGHUP applies an edited file", func(t *testing.T) {
		d.write(t, 2000)
		require.NoError(t, d.cmd.Process.Signal(syscall.SIGHUP))
		d.waitLine(t, func(line string) bool { return strings.Contains(line, "configuration reloaded") })
		require.Contains(t, get(t, d.addr, "/echo"), "HTTP/1.1 200 OK")
	})

	t.Run("the reload command asks the admin API", func(t *testing.T) {
		d.write(t, 3000)
		toml, err := os.ReadFile(d.file)
		require.NoError(t, err)
		// The command finds the admin API in the file, which names port 0;
		// point this copy at the port the daemon got.
		file := filepath.Join(t.TempDir(), "client.toml")
		require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(toml), `listen = "127.0.0.1:0"`, `listen = "`+d.admin+`"`, 1)), 0o644))
		out, err := exec.Command(filepath.Join(bin, "hostd"), "-config", file, "reload").CombinedOutput()
		require.NoError(t, err, string(out))
		require.Equal(t, "reloaded\n", string(out))
	})

	t.Run("a bad file is refused by the reload command, and hostd keeps serving", func(t *testing.T) {
		require.NoError(t, os.WriteFile(d.file, []byte("[server]\nlisten = 5\n"), 0o644))
		require.NoError(t, d.cmd.Process.Signal(syscall.SIGHUP))
		d.waitLine(t, func(line string) bool { return strings.Contains(line, "new configuration refused") })
		require.Contains(t, get(t, d.addr, "/echo"), "HTTP/1.1 200 OK")
	})
}

func TestDaemonShutsDownGracefullyOnSIGTERM(t *testing.T) {
	d := startDaemon(t, 100000)
	plugins := testutil.Children(d.cmd.Process.Pid)
	require.Len(t, plugins, 2)

	// A request in flight: its body is not all sent yet. It is larger than
	// hostd sends inside the request frame, so the plugin has the request
	// (and counts it in flight) while the rest of the body is to come.
	c, err := net.DialTimeout("tcp", d.addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	first, rest := strings.Repeat("a", 20000), strings.Repeat("b", 20000)
	_, err = io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n"+first)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return d.inFlight(t, "echo") == 1 }, 5*time.Second, 10*time.Millisecond,
		"the request reaches the plugin")

	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	d.waitLine(t, func(line string) bool { return strings.Contains(line, "shutting down") })
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 5*time.Second, 20*time.Millisecond, "no new connections once shutting down")

	_, err = io.WriteString(c, rest)
	require.NoError(t, err)
	out := hostdtest.ReadUntilClose(c, 10*time.Second)
	require.Contains(t, out, "HTTP/1.1 200 OK", "the request in flight finishes")
	require.Contains(t, out, `"body":"`+first+rest+`"`)

	require.NoError(t, d.cmd.Wait())
	for _, pid := range plugins {
		require.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 20*time.Millisecond, "plugin %d outlived hostd", pid)
	}
}

func TestNoPluginOutlivesAKilledHostd(t *testing.T) {
	d := startDaemon(t, 1000)
	plugins := testutil.Children(d.cmd.Process.Pid)
	require.Len(t, plugins, 2)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	_ = d.cmd.Wait()
	for _, pid := range plugins {
		require.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 20*time.Millisecond, "plugin %d outlived a killed hostd", pid)
	}
}

func TestNoPluginOutlivesShutdown(t *testing.T) {
	h := hostdtest.Start(t, config(swapTOML("v1", bin+"/echo", 1000)))
	pids := []int{h.Plugin("gen").Current().Pid(), h.Plugin("echo").Current().Pid()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Shutdown(ctx))
	for _, pid := range pids {
		require.False(t, alive(pid), "plugin %d outlived Shutdown", pid)
	}
}

func TestStartRefusals(t *testing.T) {
	for _, tc := range []struct{ name, toml, want string }{
		{"a plugin built against another protocol version", `
[server]
listen = ["127.0.0.1:0"]
[plugins.old]
builtin = "oldproto"
`, "incompatible API version"},
		{"an executable whose digest differs from sha256", `
[server]
listen = ["127.0.0.1:0"]
[plugins.echo]
cmd = "{{bin}}/echo"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
`, "checksums did not match"},
		{"a plugin whose configuration fails", `
[server]
listen = ["127.0.0.1:0"]
[plugins.bad]
builtin = "badconfig"
`, "this plugin refuses to start"},
	} {
		t.Run(tc.name+" is refused at once", func(t *testing.T) {
			h, err := hostd.New(hostd.Options{Config: []byte(config(tc.toml)), ConfigName: "test.toml",
				Builtins: hostdtest.BuiltinNames(), Logger: hostdtest.Logger(t)})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = h.Start(ctx)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NoError(t, ctx.Err(), "refused without hanging")
			require.NoError(t, h.Shutdown(ctx))
		})
	}
}
