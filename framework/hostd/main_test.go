package hostd_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/plugins/earlyhints"
	"github.com/hostd/hostd/plugins/echo"
	"github.com/hostd/hostd/plugins/tunnel"
)

// bin holds the real plugin executables (echo, tunnel, earlyhints) and
// hostd itself, built once for the whole test binary.
var bin string

func TestMain(m *testing.M) {
	hostdtest.ServeBuiltin(map[string]func() any{
		"echo":       func() any { return echo.New() },
		"tunnel":     func() any { return tunnel.New() },
		"earlyhints": func() any { return earlyhints.New() },
	})
	hostdtest.Main(m, &bin,
		"github.com/hostd/hostd/cmd/hostd",
		"github.com/hostd/hostd/plugins/echo/cmd/echo",
		"github.com/hostd/hostd/plugins/tunnel/cmd/tunnel",
		"github.com/hostd/hostd/plugins/earlyhints/cmd/earlyhints",
	)
}

// echoConfig routes /echo to the echo plugin, and nothing else.
const echoConfig = `
[server]
listen = ["127.0.0.1:0"]
[plugins.echo]
cmd = "{{bin}}/echo"
[[routes]]
path = "/echo"
plugin = "echo"
`

// config fills {{bin}} in a configuration with the folder of the built
// executables.
func config(s string) string { return strings.ReplaceAll(s, "{{bin}}", bin) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }
