// Command stream is a bench plugin: it answers GET /anything?size=N with
// N bytes, written 64 KiB at a time, so that a large download streams
// through hostd without either process holding the body.
package main

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/hostd/hostd/sdk"
)

const chunkSize = 64 << 10

func main() {
	chunk := []byte(strings.Repeat("x", chunkSize))
	sdk.Serve(sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		size, ok := sizeOf(req.URL())
		if !ok {
			res.WriteHead(400)
			_ = res.End([]byte("want ?size=N\n"))
			return
		}
		res.SetHeader("Content-Type", "application/octet-stream")
		res.SetHeader("Content-Length", strconv.FormatInt(size, 10))
		for size > 0 {
			n := min(size, chunkSize)
			if _, err := res.Write(chunk[:n]); err != nil {
				return // the client went away
			}
			size -= n
		}
		_ = res.End()
	}))
}

// sizeOf reads the size query parameter of a request-target.
func sizeOf(target string) (int64, bool) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return 0, false
	}
	size, err := strconv.ParseInt(u.Query().Get("size"), 10, 64)
	return size, err == nil && size >= 0
}
