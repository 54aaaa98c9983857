package hostd_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hostd -log-format json writes every line of its log, its plugins' and
// the access log as one JSON object.
func TestLogFormatJSON(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hostd.toml")
	require.NoError(t, os.WriteFile(file, []byte(config(`
[server]
listen = ["127.0.0.1:0"]
[log]
access = true
[plugins.echo]
cmd = "{{bin}}/echo"
[[routes]]
path = "/echo"
plugin = "echo"
`)), 0o644))
	cmd := exec.Command(filepath.Join(bin, "hostd"), "-config", file, "-watch=false", "-log-format", "json")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir()) // for what a killed hostd leaves
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				line = map[string]any{"not JSON": sc.Text()}
			}
			lines <- line
		}
	}()
	next := func(message string) map[string]any {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				require.True(t, ok, "hostd's log ended")
				require.NotContains(t, line, "not JSON")
				if line["@message"] == message {
					return line
				}
			case <-deadline:
				t.Fatalf("no %q line", message)
			}
		}
	}
	started := next("plugin started")
	require.Equal(t, "hostd.echo", started["@module"])
	addr, _ := next("listening")["addr"].(string)
	require.NotEmpty(t, addr)

	res, err := http.Get("http://" + addr + "/echo")
	require.NoError(t, err)
	res.Body.Close()
	access := next("request")
	require.Equal(t, "hostd.access", access["@module"])
	require.Equal(t, "/echo", access["target"])
	require.EqualValues(t, 200, access["status"])
}

func TestLogFormatIsCheckedAtStart(t *testing.T) {
	out, err := exec.Command(filepath.Join(bin, "hostd"), "-log-format", "xml").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), `-log-format: "xml" is neither text nor json`)
}
