// Command earlyhints is the early-hints plugin as its own executable.
package main

import (
	"github.com/hostd/hostd/plugins/earlyhints"
	"github.com/hostd/hostd/sdk"
)

func main() { sdk.Serve(earlyhints.New()) }
