// Command proxy is the proxy plugin as its own executable.
package main

import (
	"github.com/hostd/hostd/plugins/proxy"
	"github.com/hostd/hostd/sdk"
)

func main() { sdk.Serve(proxy.New()) }
