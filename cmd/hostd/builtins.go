package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/hostd/hostd/plugins/earlyhints"
	"github.com/hostd/hostd/plugins/echo"
	"github.com/hostd/hostd/plugins/proxy"
	"github.com/hostd/hostd/plugins/tunnel"
	"github.com/hostd/hostd/sdk"
)

// builtins are the shipped plugins, compiled into hostd so that the
// default configuration runs with nothing else built. Each still runs as
// its own process: hostd re-executes itself with hostd.EnvBuiltin set.
var builtins = map[string]func() any{
	"echo":       func() any { return echo.New() },
	"earlyhints": func() any { return earlyhints.New() },
	"tunnel":     func() any { return tunnel.New() },
	"proxy":      func() any { return proxy.New() },
}

func builtinNames() []string {
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// serveBuiltin runs this process as the built-in plugin name.
func serveBuiltin(name string) {
	mk, ok := builtins[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "hostd: no built-in plugin %q\n", name)
		os.Exit(1)
	}
	sdk.Serve(mk())
}
