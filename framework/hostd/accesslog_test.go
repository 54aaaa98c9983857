package hostd_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/plugins/echo"
)

const accessConfig = `
[server]
listen = ["127.0.0.1:0"]
request_id = true
[log]
access = true
[plugins.echo]
cmd = "{{bin}}/echo"
[[routes]]
path = "/echo"
plugin = "echo"
`

// logLines is a log output that hands each access log line to the test.
type logLines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLogLines() *logLines { return &logLines{lines: make(chan string, 100)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // an unfinished line waits for its end
			return len(p), nil
		}
		if strings.Contains(line, "hostd.access") {
			l.lines <- line
		}
	}
}

// next returns the next access log line.
func (l *logLines) next(t *testing.T) string {
	t.Helper()
	select {
	case line := <-l.lines:
		return line
	case <-time.After(10 * time.Second):
		t.Fatal("no access log line")
		return ""
	}
}

func withLog(out *logLines, json bool) hostdtest.Option {
	return func(o *hostd.Options) {
		o.Logger = hclog.New(&hclog.LoggerOptions{Name: "hostd", Output: out, JSONFormat: json, Level: hclog.Info})
	}
}

func TestAccessLogHasALinePerRequest(t *testing.T) {
	t.Run("in JSON", func(t *testing.T) {
		lines := newLogLines()
		h := hostdtest.Start(t, config(accessConfig), withLog(lines, true))
		req, _ := http.NewRequest("GET", h.URL+"/echo/x?y=1", nil)
		req.Header.Set("X-Request-Id", "abc-123")
		r := h.Do(t, req).RequireStatus(200)
		var line map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines.next(t)), &line))
		require.Equal(t, "hostd.access", line["@module"])
		require.Equal(t, "request", line["@message"])
		require.Equal(t, "GET", line["method"])
		require.Equal(t, "/echo/x?y=1", line["target"])
		require.EqualValues(t, 200, line["status"])
		require.EqualValues(t, len(r.Body), line["bytes"])
		require.Equal(t, "request", line["event"])
		require.Equal(t, "echo", line["plugin"])
		require.EqualValues(t, 1, line["generation"])
		require.Equal(t, "abc-123", line["request_id"])
		require.Contains(t, line["remote"], "127.0.0.1:")
		require.GreaterOrEqual(t, line["duration_ms"], 0.0)

		h.Get(t, "/nowhere").RequireStatus(404)
		require.NoError(t, json.Unmarshal([]byte(lines.next(t)), &line))
		require.EqualValues(t, 404, line["status"])
		require.Equal(t, "", line["plugin"])
		require.EqualValues(t, 0, line["generation"])
	})

	t.Run("in text", func(t *testing.T) {
		lines := newLogLines()
		h := hostdtest.Start(t, config(accessConfig), withLog(lines, false))
		h.Get(t, "/echo").RequireStatus(200)
		line := lines.next(t)
		require.Regexp(t, `\[INFO\]  hostd\.access: request: method=GET target=/echo status=200 bytes=\d+ duration_ms=[0-9.]+ `+
			`event=request plugin=echo generation=1 remote=127\.0\.0\.1:\d+ request_id=[0-9a-f]{16}-[0-9a-z]+\n$`, line)
	})

	t.Run("off by default", func(t *testing.T) {
		lines := newLogLines()
		h := hostdtest.Start(t, config(strings.Replace(accessConfig, "access = true", "", 1)), withLog(lines, false))
		h.Get(t, "/echo").RequireStatus(200)
		h.Get(t, "/echo").RequireStatus(200)
		select {
		case line := <-lines.lines:
			t.Fatalf("an access log line: %s", line)
		default:
		}
	})
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-z]+$`)

func TestRequestIDsReachThePlugin(t *testing.T) {
	h := hostdtest.Start(t, config(accessConfig))
	seen := func(t *testing.T, ids ...string) (string, *hostdtest.Response) {
		t.Helper()
		req, _ := http.NewRequest("GET", h.URL+"/echo", nil)
		for _, id := range ids {
			req.Header.Add("X-Request-Id", id)
		}
		r := h.Do(t, req).RequireStatus(200)
		a := answer(t, r.Body)
		n := 0
		for i := 0; i < len(a.RawHeaders); i += 2 {
			if strings.EqualFold(a.RawHeaders[i], "x-request-id") {
				n++
			}
		}
		require.Equal(t, 1, n, "the plugin sees one X-Request-Id: %v", a.RawHeaders)
		return a.Headers.Get("x-request-id"), r
	}

	t.Run("a sane one from the client is kept", func(t *testing.T) {
		id, r := seen(t, "0f8fad5b-d9cb-469f-a165-70867728950e")
		require.Equal(t, "0f8fad5b-d9cb-469f-a165-70867728950e", id)
		require.Empty(t, r.Header.Get("X-Request-Id"), "not echoed in the response")
	})
	t.Run("without one, each request gets its own", func(t *testing.T) {
		a, _ := seen(t)
		b, _ := seen(t)
		require.Regexp(t, generatedID, a)
		require.Regexp(t, generatedID, b)
		require.NotEqual(t, a, b)
	})
	for name, ids := range map[string][]string{
		"one with a space is replaced":    {"a b"},
		"one with a quote is replaced":    {`a"b`},
		"a too long one is replaced":      {strings.Repeat("a", 129)},
		"two of them are replaced by one": {"a", "b"},
	} {
		t.Run(name, func(t *testing.T) {
			id, _ := seen(t, ids...)
			require.Regexp(t, generatedID, id)
		})
	}
	t.Run("the longest sane one is kept", func(t *testing.T) {
		id, _ := seen(t, strings.Repeat("a", 128))
		require.Equal(t, strings.Repeat("a", 128), id)
	})
}

// With request_id off (the default), the plugin sees the client's fields
// and no more.
func TestNoRequestIDsUnlessConfigured(t *testing.T) {
	h := hostdtest.Start(t, config(strings.Replace(accessConfig, "request_id = true", "", 1)))
	a := answer(t, h.Get(t, "/echo").RequireStatus(200).Body)
	require.Empty(t, a.Headers.Get("x-request-id"))
}

func answer(t *testing.T, body string) echo.Answer {
	t.Helper()
	var a echo.Answer
	require.NoError(t, json.Unmarshal([]byte(body), &a), body)
	return a
}
