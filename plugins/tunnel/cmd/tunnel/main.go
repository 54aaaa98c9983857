// Command tunnel is the tunnel plugin as its own executable.
package main

import (
	"github.com/hostd/hostd/plugins/tunnel"
	"github.com/hostd/hostd/sdk"
)

func main() { sdk.Serve(tunnel.New()) }
