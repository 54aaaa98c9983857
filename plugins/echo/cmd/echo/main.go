// Command echo is the echo plugin as its own executable.
package main

import (
	"github.com/hostd/hostd/plugins/echo"
	"github.com/hostd/hostd/sdk"
)

func main() { sdk.Serve(echo.New()) }
