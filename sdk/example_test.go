package sdk_test

import (
	"bytes"
	"fmt"
	"io"
	"net"

	"github.com/hostd/hostd/sdk"
	"github.com/hostd/hostd/sdk/sdktest"
)

// A plugin is a program whose main calls Serve; hostd starts it and sends
// it the events its routes select. Serve does not return.
func ExampleServe() {
	sdk.Serve(sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		res.SetHeader("Content-Type", "text/plain")
		_ = res.End([]byte("Hello, World!\n"))
	}))
}

// A handler is tested without hostd by sdktest, which plays hostd's part
// of the data plane; tests pass their *testing.T instead of nil.
func ExampleHandlerFunc() {
	hello := sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		name, _ := io.ReadAll(req)
		res.SetHeader("Content-Type", "text/plain")
		_ = res.EndString("Hello, " + string(name) + "!")
	})
	rec := sdktest.Do(nil, hello, sdktest.Request{Method: "POST", URL: "/greet", Body: bytes.NewReader([]byte("plugin"))})
	fmt.Println(rec.Status, rec.Header("content-type"))
	fmt.Println(string(rec.Body))
	// Output:
	// 200 text/plain
	// Hello, plugin!
}

// Early hints let the browser fetch a page's assets while the page is
// being made. Each Link value is its own field; hostd joins them into one
// Link header of the 103 response.
func ExampleResponse_WriteEarlyHints() {
	page := sdk.HandlerFunc(func(req *sdk.Request, res *sdk.Response) {
		_ = res.WriteEarlyHints(
			"Link", "</style.css>; rel=preload; as=style",
			"Link", "</app.js>; rel=preload; as=script",
		)
		res.SetHeader("Content-Type", "text/html")
		_ = res.EndString(`<!doctype html><link rel="stylesheet" href="/style.css"><script src="/app.js"></script>`)
	})
	rec := sdktest.Do(nil, page, sdktest.Request{})
	for _, info := range rec.Informational {
		fmt.Println(info.Status, info.Headers)
	}
	fmt.Println(rec.Status, rec.Header("Content-Type"))
	// Output:
	// 103 [Link </style.css>; rel=preload; as=style Link </app.js>; rel=preload; as=script]
	// 200 text/html
}

// shout is an upgrade handler: after its own 101 response it answers
// each message in upper case.
type shout struct{}

func (shout) HandleUpgrade(req *sdk.Request, socket net.Conn, head []byte) {
	defer socket.Close()
	_, _ = io.WriteString(socket, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n")
	msg, _ := io.ReadAll(socket) // until the client half-closes
	_, _ = socket.Write(bytes.ToUpper(append(head, msg...)))
}

// An upgrade handler owns the client's socket and writes its own 101
// response on it, as in Node.
func ExampleUpgradeHandler() {
	h := sdktest.New(nil, shout{})
	defer h.Close()
	conn := h.Dial(sdktest.Request{URL: "/shout", Headers: []string{"Connection", "Upgrade", "Upgrade", "shout"}})
	_, _ = conn.Write([]byte("hello, "))
	_, _ = conn.Write([]byte("socket"))
	_ = conn.(*net.UnixConn).CloseWrite()
	answer, _ := io.ReadAll(conn)
	fmt.Printf("%q\n", answer)
	// Output:
	// "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nHELLO, SOCKET"
}
