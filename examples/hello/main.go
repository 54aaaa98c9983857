// Command hello is the smallest useful hostd plugin: it answers every
// request it is routed with a greeting. See README.md beside it.
package main

import "github.com/hostd/hostd/sdk"

func main() {
	sdk.Serve(sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		res.SetHeader("Content-Type", "text/plain")
		_ = res.End([]byte("Hello, World!"))
	}))
}
