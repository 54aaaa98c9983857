package hostd_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

const swapConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.gen]
builtin = "gen"
[plugins.gen.config]
name = "{{name}}"
[plugins.echo]
cmd = "{{echo}}"
[plugins.echo.config]
max_body = {{max}}
[[routes]]
path = "/gen"
plugin = "gen"
[[routes]]
path = "/echo"
events = ["request", "upgrade"]
plugin = "echo"
`

func swapTOML(name, echo string, max int) string {
	s := strings.ReplaceAll(swapConfig, "{{name}}", name)
	s = strings.ReplaceAll(s, "{{echo}}", echo)
	return strings.ReplaceAll(s, "{{max}}", strconv.Itoa(max))
}

// load runs clients against path until stopped, counting answers by body
// and every failure.
type load struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	failures atomic.Int64
	mu       sync.Mutex
	bodies   map[string]int
	lastErr  atomic.Value
}

func startLoad(h *hostdtest.Host, path string, clients int) *load {
	l := &load{stop: make(chan struct{}), bodies: map[string]int{}}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				res, err := h.Client.Get(h.URL + path)
				if err != nil {
					l.failures.Add(1)
					l.lastErr.Store(err.Error())
					continue
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 {
					l.failures.Add(1)
					l.lastErr.Store(res.Status + " " + string(body))
					continue
				}
				l.mu.Lock()
				l.bodies[string(body)]++
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// waitFor waits until the load has had n answers with body, or fails the
// test once the swap's own timeout has passed.
func (l *load) waitFor(t *testing.T, body string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.bodies[body] >= n
	}, 30*time.Second, 5*time.Millisecond, "%d answers %q under load", n, body)
}

func (l *load) finish() map[string]int {
	close(l.stop)
	l.wg.Wait()
	return l.bodies
}

// upgraded opens an upgraded echo connection and checks it echoes.
func upgraded(t *testing.T, h *hostdtest.Host) (io.Writer, *bufio.Reader) {
	c := h.Dial(t)
	_, err := io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"
	got := make([]byte, len(head))
	_, err = io.ReadFull(br, got)
	require.NoError(t, err)
	require.Equal(t, head, string(got))
	echoes(t, c, br, "before")
	return c, br
}

func echoes(t *testing.T, w io.Writer, br *bufio.Reader, msg string) {
	t.Helper()
	_, err := io.WriteString(w, msg)
	require.NoError(t, err)
	back := make([]byte, len(msg))
	_, err = io.ReadFull(br, back)
	require.NoError(t, err)
	require.Equal(t, msg, string(back))
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestHotSwapUnderLoadLosesNothing(t *testing.T) {
	h := hostdtest.Start(t, config(swapTOML("v1", bin+"/echo", 1000)))
	conn, br := upgraded(t, h)
	oldEcho := h.Plugin("echo").Current().Pid()
	oldGen := h.Plugin("gen").Current().Pid()

	l := startLoad(h, "/gen", 8)
	l.waitFor(t, "v1", 50) // the load is running before the swap
	require.NoError(t, os.WriteFile(h.File, []byte(config(swapTOML("v2", bin+"/echo", 2000))), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, h.Reload(ctx))
	l.waitFor(t, "v2", 50) // and goes on after it
	bodies := l.finish()

	require.Zero(t, l.failures.Load(), "failed requests during the swap (last: %v)", l.lastErr.Load())
	require.Positive(t, bodies["v1"], "answers from the old generation")
	require.Positive(t, bodies["v2"], "answers from the new generation")
	require.Len(t, bodies, 2)
	h.Get(t, "/gen").RequireStatus(200).RequireBody("v2")

	require.NotEqual(t, oldEcho, h.Plugin("echo").Current().Pid(), "echo got a new generation")
	echoes(t, conn, br, "after the swap")
	require.True(t, alive(oldEcho), "the old echo keeps its upgraded socket")
	require.Eventually(t, func() bool { return !alive(oldGen) }, 10*time.Second, 20*time.Millisecond,
		"the old gen, with nothing left in flight, is stopped")

	require.NoError(t, conn.(interface{ Close() error }).Close())
	require.Eventually(t, func() bool { return !alive(oldEcho) }, 10*time.Second, 20*time.Millisecond,
		"the old echo stops once its socket closes")
}

func TestReloadRefusesABadConfigAndKeepsServing(t *testing.T) {
	h := hostdtest.Start(t, config(swapTOML("v1", bin+"/echo", 1000)))
	pid := h.Plugin("gen").Current().Pid()
	ctx := context.Background()

	for _, tc := range []struct {
		name, toml, want string
	}{
		{"an unknown key", config(swapTOML("v2", bin+"/echo", 1000)) + "\n[admin]\nlisten_port = 1\n", "admin.listen_port: unknown key"},
		{"a route to no plugin", config(swapTOML("v2", bin+"/echo", 1000)) + "\n[[routes]]\npath = \"/x\"\nplugin = \"nope\"\n", "routes[2].plugin: \"nope\" is not a configured plugin"},
		{"a missing executable", config(swapTOML("v2", "/no/such/echo", 1000)), "plugins.echo.cmd"},
		{"broken TOML", "[server\n", "not valid TOML"},
		{"a plugin that fails its checks", config(swapTOML("v2", bin+"/echo", 1000)) + "\n[plugins.bad]\nbuiltin = \"badconfig\"\n", "this plugin refuses to start"},
	} {
		t.Run(tc.name+" is refused with the file, the key and the reason", func(t *testing.T) {
			require.NoError(t, os.WriteFile(h.File, []byte(tc.toml), 0o644))
			err := h.Reload(ctx)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			if !strings.Contains(tc.name, "checks") {
				require.Contains(t, err.Error(), h.File)
			}
			h.Get(t, "/gen").RequireStatus(200).RequireBody("v1")
			require.Equal(t, pid, h.Plugin("gen").Current().Pid(), "the running generation stays")
		})
	}
}

func TestWatchedChangesSwap(t *testing.T) {
	dir := t.TempDir()
	echoBin := filepath.Join(dir, "echo")
	copyFile(t, bin+"/echo", echoBin)
	h := hostdtest.Start(t, config(swapTOML("v1", echoBin, 1000)), hostdtest.WithWatch())

	t.Run("an edit of the configuration file", func(t *testing.T) {
		require.NoError(t, os.WriteFile(h.File, []byte(config(swapTOML("v2", echoBin, 1000))), 0o644))
		require.Eventually(t, func() bool {
			return h.Get(t, "/gen").Body == "v2"
		}, 10*time.Second, 50*time.Millisecond)
	})

	t.Run("a new plugin executable", func(t *testing.T) {
		pid := h.Plugin("echo").Current().Pid()
		genPid := h.Plugin("gen").Current().Pid()
		// A rebuilt binary arrives as a new file moved into place.
		tmp := echoBin + ".new"
		copyFile(t, bin+"/echo", tmp)
		require.NoError(t, os.Rename(tmp, echoBin))
		require.Eventually(t, func() bool {
			in := h.Plugin("echo").Current()
			return in != nil && in.Pid() != pid
		}, 10*time.Second, 50*time.Millisecond)
		require.Equal(t, genPid, h.Plugin("gen").Current().Pid(), "other plugins keep their generation")
		h.Get(t, "/echo").RequireStatus(200)
	})
}

func copyFile(t *testing.T, from, to string) {
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, 0o755))
}
