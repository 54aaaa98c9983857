package hostd_test

import (
	"testing"

	"github.com/hostd/hostd/internal/hostdtest"
)

func TestPluginsRunOnOneProcessorUnlessConfigured(t *testing.T) {
	h := hostdtest.Start(t, `
[server]
listen = ["127.0.0.1:0"]
[plugins.default]
builtin = "gen"
[plugins.two]
builtin = "gen"
max_procs = 2
[plugins.env]
builtin = "gen"
max_procs = 2
env = { GOMAXPROCS = "3" }
[[routes]]
path = "/default"
plugin = "default"
[[routes]]
path = "/two"
plugin = "two"
[[routes]]
path = "/env"
plugin = "env"
`)
	h.Get(t, "/default").RequireStatus(200).RequireHeader("X-Gomaxprocs", "1")
	h.Get(t, "/two").RequireStatus(200).RequireHeader("X-Gomaxprocs", "2")
	h.Get(t, "/env").RequireStatus(200).RequireHeader("X-Gomaxprocs", "3")
}
