package hostdtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/hostd/hostd/sdk"
)

// timeouts handles the server timeout event as its configured "action"
// says: "end" writes "bye\n" and ends the socket (Node's
// socket.end('bye\n')), "close" destroys it, "nothing" returns, "panic"
// panics, "exit" ends the plugin's process, "slow" does not return for a
// minute. It also answers requests,
// so that a test can wait for the events: /fired?from=ADDR answers once
// the connection from ADDR has timed out, /slow once its own connection
// has ("late", unless the action ended the connection), anything else
// "hi".
type timeouts struct {
	action string
	mu     sync.Mutex
	fired  map[string]chan struct{} // closed at the first event from a client address
}

func (p *timeouts) Configure(c *sdk.Config) error {
	var cfg struct {
		Action string `json:"action"`
	}
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	switch cfg.Action {
	case "end", "close", "nothing", "panic", "exit", "slow":
	default:
		return fmt.Errorf("unknown action %q", cfg.Action)
	}
	p.action = cfg.Action
	return nil
}

// event returns the channel closed when addr times out.
func (p *timeouts) event(addr string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fired == nil {
		p.fired = map[string]chan struct{}{}
	}
	ch, ok := p.fired[addr]
	if !ok {
		ch = make(chan struct{})
		p.fired[addr] = ch
	}
	return ch
}

func (p *timeouts) HandleTimeout(ev *sdk.Timeout, socket net.Conn) {
	sdk.Logger().Info("timeout event", "remote", ev.RemoteAddr, "headers_sent", ev.HeadersSent)
	ch := p.event(ev.RemoteAddr)
	defer func() {
		select {
		case <-ch:
		default:
			close(ch)
		}
	}()
	switch p.action {
	case "end":
		_, err := fmt.Fprint(socket, "bye\n")
		if err != nil {
			sdk.Logger().Info("timeout write refused", "error", err)
		}
		_ = socket.(interface{ CloseWrite() error }).CloseWrite()
	case "close":
		_ = socket.Close()
	case "panic":
		panic("timeout handler failed")
	case "exit":
		os.Exit(3)
	case "slow":
		time.Sleep(time.Minute)
	}
}

func (p *timeouts) HandleRequest(req *sdk.Request, res *sdk.Response) {
	u, err := url.Parse(req.URL())
	if err != nil {
		_ = res.End([]byte(err.Error()))
		return
	}
	addr := ""
	switch u.Path {
	case "/fired":
		addr = u.Query().Get("from")
	case "/slow":
		addr = req.RemoteAddr()
		if u.Query().Has("flush") {
			_ = res.FlushHeaders()
		}
	default:
		_ = res.End([]byte("hi"))
		return
	}
	select {
	case <-p.event(addr):
		if p.action != "nothing" && u.Path == "/slow" {
			// The timeout handler ended or broke the connection, as
			// Node's socket.end would: nothing is left to answer on.
			<-req.Context().Done()
			return
		}
		_ = res.End([]byte("late"))
	case <-time.After(10 * time.Second):
		_ = res.End([]byte("no timeout event"))
	}
}
