package hostd_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

const crashConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.flaky]
builtin = "misbehave"
[plugins.flaky.config]
fail_while = "{{hold}}"
[plugins.steady]
builtin = "gen"
[plugins.steady.config]
name = "steady"
[[routes]]
path = "/flaky"
plugin = "flaky"
[[routes]]
path = "/steady"
plugin = "steady"
`

func TestACrashingPluginCostsOnlyItsOwnRequests(t *testing.T) {
	hold := filepath.Join(t.TempDir(), "hold")
	h := hostdtest.Start(t, config(strings.ReplaceAll(crashConfig, "{{hold}}", hold)))
	firstPid := h.Get(t, "/flaky").RequireStatus(200).RequireBody("ok").Header.Get("X-Pid")

	// Hold the plugin down once it has crashed: its restarts fail until
	// the file is gone, so the routes' 503 can be seen.
	require.NoError(t, os.WriteFile(hold, nil, 0o644))

	var wg sync.WaitGroup
	steadyFailures := 0
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		// The other plugin serves throughout.
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := h.Client.Get(h.URL + "/steady")
			if err != nil || res.StatusCode != 200 {
				steadyFailures++
			}
			if res != nil {
				res.Body.Close()
			}
		}
	}()

	t.Run("a crash before the answer is a 502", func(t *testing.T) {
		h.Get(t, "/flaky?crash=before").RequireStatus(502).RequireBody("Bad Gateway\n")
	})

	t.Run("while it is down its routes answer 503 with Retry-After", func(t *testing.T) {
		r := h.Get(t, "/flaky").RequireStatus(503)
		require.NotEmpty(t, r.Header.Get("Retry-After"))
	})

	t.Run("it restarts once it can", func(t *testing.T) {
		require.NoError(t, os.Remove(hold))
		require.Eventually(t, func() bool {
			code, pid := h.Status("/flaky")
			return code == 200 && pid != firstPid
		}, 20*time.Second, 50*time.Millisecond)
	})

	t.Run("a crash after the head closes the connection", func(t *testing.T) {
		out := h.Raw(t, "GET /flaky?crash=after HTTP/1.1\r\nHost: x\r\n\r\n", 5*time.Second)
		require.True(t, strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n"), out)
		require.Contains(t, out, "partial")
		require.NotContains(t, out, "0\r\n\r\n", "the chunked body must not look complete")
		require.Eventually(t, func() bool { code, _ := h.Status("/flaky"); return code == 200 }, 20*time.Second, 50*time.Millisecond)
	})

	t.Run("a handler that panics gets a 500, and the plugin lives on", func(t *testing.T) {
		pid := h.Get(t, "/flaky").RequireStatus(200).Header.Get("X-Pid")
		h.Get(t, "/flaky?panic").RequireStatus(500)
		r := h.Get(t, "/flaky").RequireStatus(200)
		require.Equal(t, pid, r.Header.Get("X-Pid"), "a panic is caught in the plugin, which keeps running")
	})

	close(stop)
	wg.Wait()
	require.Zero(t, steadyFailures, "the other plugin must not notice")
}

const limitsConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.slow]
builtin = "misbehave"
request_timeout = 300
[plugins.narrow]
builtin = "misbehave"
max_concurrent = 1
[[routes]]
path = "/slow"
plugin = "slow"
[[routes]]
path = "/narrow"
plugin = "narrow"
`

func TestPerPluginLimits(t *testing.T) {
	h := hostdtest.Start(t, config(limitsConfig))

	t.Run("a request past request_timeout gets 504", func(t *testing.T) {
		h.Get(t, "/slow?sleep=10s").RequireStatus(504)
		h.Get(t, "/slow").RequireStatus(200)
	})

	t.Run("a request past max_concurrent gets 503", func(t *testing.T) {
		// A long request holds the one slot once it reaches the plugin,
		// which then counts it in flight.
		done := make(chan int, 1)
		go func() {
			res, err := h.Client.Get(h.URL + "/narrow?sleep=4s")
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		require.Eventually(t, func() bool {
			st, err := h.Plugin("narrow").Current().Stats(t.Context())
			return err == nil && st.InFlight == 1
		}, 10*time.Second, 5*time.Millisecond, "the long request reaches the plugin")
		code, _ := h.Status("/narrow")
		require.Equal(t, 503, code, "no second request while one holds the only slot")
		require.Equal(t, 200, <-done)
		h.Get(t, "/narrow").RequireStatus(200)
	})
}

func TestPluginSetTimeout(t *testing.T) {
	h := hostdtest.Start(t, config(`
[server]
listen = ["127.0.0.1:0"]
[plugins.p]
builtin = "misbehave"
[[routes]]
path = "/"
plugin = "p"
`))
	t.Run("without a callback the connection closes once idle that long", func(t *testing.T) {
		c := h.Dial(t)
		_, err := io.WriteString(c, "GET /?timeout=200ms HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		out, err := io.ReadAll(c)
		require.NoError(t, err, "hostd closed the connection (end of file), not the test's deadline")
		require.Empty(t, out)
	})
	t.Run("with a callback the plugin answers", func(t *testing.T) {
		h.Get(t, "/?timeout=200ms&callback").RequireStatus(200).RequireBody("timed out")
	})
	t.Run("with two callbacks each runs once", func(t *testing.T) {
		h.Get(t, "/?timeout=200ms&callback=twice").RequireStatus(200).RequireBody("timed out")
	})
}
