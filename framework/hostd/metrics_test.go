package hostd_test

import (
	"bufio"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

const metricsConfig = `
[server]
listen = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"

[plugins.echo]
cmd = "{{bin}}/echo"
[plugins.relayed]
cmd = "{{bin}}/echo"
relay_sockets = true

[[routes]]
path = "/echo"
events = ["request", "upgrade"]
plugin = "echo"
[[routes]]
path = "/relayed"
events = ["upgrade"]
plugin = "relayed"
`

// scrape reads GET /metrics from the admin API over its socket and
// parses it.
func scrape(t *testing.T, h *hostdtest.Host) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + h.AdminAddr().String() + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	require.NoError(t, err)
	return fams
}

// sample returns the value of the series of name with labels (a counter,
// a gauge, or a histogram's count), and whether it exists.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func requireSample(t *testing.T, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := sample(fams, name, labels...)
	require.True(t, ok, "no series %s%v", name, labels)
	require.Equal(t, want, got, "%s%v", name, labels)
}

// upgradeEcho upgrades a connection to path, has msg echoed and closes
// it; it returns every byte the client received.
func upgradeEcho(t *testing.T, h *hostdtest.Host, path, msg string) int {
	c := h.Dial(t)
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, 101, res.StatusCode)
	_, err = io.WriteString(c, msg)
	require.NoError(t, err)
	back := make([]byte, len(msg))
	_, err = io.ReadFull(br, back)
	require.NoError(t, err)
	require.Equal(t, msg, string(back))
	require.NoError(t, c.(interface{ CloseWrite() error }).CloseWrite())
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	require.Empty(t, rest)
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"
	return len(head) + len(msg)
}

func TestMetricsAreScrapedFromTheAdminAPI(t *testing.T) {
	h := hostdtest.Start(t, config(metricsConfig))
	for range 3 {
		h.Get(t, "/echo/a").RequireStatus(200)
	}
	h.Get(t, "/nowhere").RequireStatus(404)
	out := h.Raw(t, "GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 5*time.Second)
	require.Contains(t, out, "HTTP/1.1 400 Bad Request\r\n")
	passedBytes := upgradeEcho(t, h, "/echo", "passed through the plugin")
	require.Positive(t, passedBytes)
	relayedOut := upgradeEcho(t, h, "/relayed", "relayed by hostd")
	// A keep-alive connection held open while the metrics are read.
	held := h.Dial(t)
	_, err := io.WriteString(held, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	res, _ := hostdtest.ReadResponse(t, bufio.NewReader(held), "GET")
	require.Equal(t, 200, res.StatusCode)

	// A plugin's small answer can reach the client from the data plane's
	// reader before the connection's goroutine records the request: read
	// the metrics once the last request is counted.
	var fams map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		fams = scrape(t, h)
		n, _ := sample(fams, "hostd_requests_total", "route", "/echo", "plugin", "echo", "event", "request", "code", "2xx")
		return n == 4
	}, 10*time.Second, 10*time.Millisecond, "the four answered requests are counted")
	t.Run("requests by route, plugin, event and status class", func(t *testing.T) {
		requireSample(t, fams, 4, "hostd_requests_total", "route", "/echo", "plugin", "echo", "event", "request", "code", "2xx")
		requireSample(t, fams, 0, "hostd_requests_total", "route", "/echo", "plugin", "echo", "event", "request", "code", "5xx")
		requireSample(t, fams, 1, "hostd_requests_total", "route", "", "plugin", "", "event", "request", "code", "4xx")
		requireSample(t, fams, 4, "hostd_request_duration_seconds", "route", "/echo", "plugin", "echo", "event", "request")
		requireSample(t, fams, 1, "hostd_request_duration_seconds", "route", "", "plugin", "", "event", "request")
	})
	t.Run("the plugin hop and requests in flight", func(t *testing.T) {
		requireSample(t, fams, 4, "hostd_plugin_hop_seconds", "plugin", "echo")
		requireSample(t, fams, 0, "hostd_requests_in_flight", "plugin", "echo")
		h := fams["hostd_plugin_hop_seconds"].GetMetric()[0].GetHistogram()
		require.Positive(t, h.GetSampleSum())
		require.NotEmpty(t, h.GetBucket())
	})
	t.Run("parser refusals by reason", func(t *testing.T) {
		requireSample(t, fams, 1, "hostd_client_errors_total", "reason", "HPE_INVALID_CONTENT_LENGTH")
	})
	t.Run("connections, and sockets passed or relayed with their bytes", func(t *testing.T) {
		accepted, ok := sample(fams, "hostd_connections_accepted_total")
		require.True(t, ok)
		require.GreaterOrEqual(t, accepted, 5.0) // the keep-alive client, the malformed request, two upgrades, the held one
		open, ok := sample(fams, "hostd_connections_open")
		require.True(t, ok)
		require.GreaterOrEqual(t, open, 1.0, "the held connection")
		requireSample(t, fams, 1, "hostd_sockets_total", "plugin", "echo", "event", "upgrade", "mode", "passed")
		requireSample(t, fams, 0, "hostd_sockets_total", "plugin", "echo", "event", "upgrade", "mode", "relayed")
		requireSample(t, fams, 1, "hostd_sockets_total", "plugin", "relayed", "event", "upgrade", "mode", "relayed")
		// A passed socket's bytes never cross hostd.
		requireSample(t, fams, 0, "hostd_relayed_bytes_total", "plugin", "echo", "direction", "in")
		requireSample(t, fams, 0, "hostd_relayed_bytes_total", "plugin", "echo", "direction", "out")
	})
	// The relayed socket's gauge and byte counters are settled once hostd
	// has let go of it, which may follow the client's last read.
	require.Eventually(t, func() bool {
		v, _ := sample(scrape(t, h), "hostd_relayed_sockets_open", "plugin", "relayed")
		return v == 0
	}, 10*time.Second, 10*time.Millisecond)
	fams = scrape(t, h)
	requireSample(t, fams, float64(len("relayed by hostd")), "hostd_relayed_bytes_total", "plugin", "relayed", "event", "upgrade", "direction", "in")
	requireSample(t, fams, float64(relayedOut), "hostd_relayed_bytes_total", "plugin", "relayed", "event", "upgrade", "direction", "out")

	t.Run("swaps and drains", func(t *testing.T) {
		res, err := http.Post("http://"+h.AdminAddr().String()+"/plugins/echo/restart", "", nil)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
		requireSample(t, scrape(t, h), 1, "hostd_plugin_swaps_total", "plugin", "echo")
		// The old generation drains in the background.
		require.Eventually(t, func() bool {
			v, _ := sample(scrape(t, h), "hostd_plugin_drain_seconds", "plugin", "echo")
			return v == 1
		}, 20*time.Second, 20*time.Millisecond)
		requireSample(t, scrape(t, h), 0, "hostd_plugin_restarts_total", "plugin", "echo")
	})
}

// Without the admin API there is nothing to serve metrics on, and no
// metrics are kept.
func TestNoMetricsWithoutTheAdminAPI(t *testing.T) {
	h := hostdtest.Start(t, config(echoConfig))
	h.Get(t, "/echo").RequireStatus(200)
	require.Nil(t, h.AdminAddr())
}

func TestMetricsCountRestartsAfterACrash(t *testing.T) {
	hold := filepath.Join(t.TempDir(), "hold") // never created: restarts succeed
	h := hostdtest.Start(t, config(strings.ReplaceAll(crashConfig, "{{hold}}", hold))+"\n[admin]\nlisten = \"127.0.0.1:0\"\n")
	h.Get(t, "/flaky?crash=before").RequireStatus(502)
	require.Eventually(t, func() bool {
		v, _ := sample(scrape(t, h), "hostd_plugin_restarts_total", "plugin", "flaky")
		return v == 1
	}, 20*time.Second, 20*time.Millisecond)
	fams := scrape(t, h)
	requireSample(t, fams, 1, "hostd_requests_total", "route", "/flaky", "plugin", "flaky", "event", "request", "code", "5xx")
	requireSample(t, fams, 0, "hostd_plugin_swaps_total", "plugin", "flaky")
	requireSample(t, fams, 0, "hostd_plugin_restarts_total", "plugin", "steady")
}
