package client_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/hostd/hostd/sdk/client"
)

// The README's example: Get for the common case, NewRequest with events
// and a keep-alive agent for the rest.
func ExampleNewRequest() {
	ctx := context.Background()

	res, err := client.Get(ctx, "http://127.0.0.1:8080/echo", nil)
	if err != nil {
		fmt.Println(err) // a *client.Error: ECONNREFUSED, HPE_INVALID_STATUS, ...
		return
	}
	fmt.Println(res.StatusCode, res.Headers.Get("content-type"), res.RawHeaders)
	_, _ = io.Copy(os.Stdout, res.Body) // read to the end: the socket goes back to the agent

	agent := client.NewAgent(client.AgentOptions{KeepAlive: true, MaxSockets: 8})
	defer agent.Destroy()
	// The callbacks run on the request's own goroutine; these channels
	// tell this one what became of Expect.
	continued, answered, closed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	req, err := client.NewRequest(ctx, client.Options{
		URL:     "http://127.0.0.1:8080/echo",
		Method:  "POST",
		Agent:   agent,
		Headers: map[string][]string{"Expect": {"100-continue"}}, // the head goes out at once
		Events: client.Events{
			OnContinue:    func() { close(continued) },
			OnInformation: func(i *client.Information) { fmt.Println("1xx:", i.StatusCode) },
			OnResponse: func(res *client.IncomingMessage) {
				close(answered)
				_, _ = io.Copy(os.Stdout, res.Body)
				fmt.Println(res.RawTrailers)
			},
			OnUpgrade: func(res *client.IncomingMessage, c net.Conn, head []byte) { c.Close() },
			OnError:   func(err error) { fmt.Println("error:", err) },
			OnClose:   func() { fmt.Println("close"); close(closed) },
		},
	})
	if err != nil {
		fmt.Println(err) // ERR_INVALID_HTTP_TOKEN, ERR_INVALID_CHAR, ...
		return
	}
	select {
	case <-continued: // 100 Continue: the body may go
		_ = req.End([]byte("body after 100"))
	case <-answered: // a final answer instead (417, 403, …): no body
	case <-closed: // an error: OnError said which
	}
	if res, err := req.Response(ctx); err == nil {
		fmt.Println(res.StatusCode)
	}
}
