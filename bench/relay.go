package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	hserver "github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/socketpair"
)

// relayFrame is the size of the message the relay sends to its second
// process and back: about a request frame's size at hello world.
const relayFrame = 32

// serveRelay is the plugin hop's floor: hostd's engine serving hello
// world, where each request first sends relayFrame bytes over a
// socketpair to a second process (relayChild), which sends them back. It
// is what any crossing into another process costs, without hostd's
// frames, streams, SDK or plugin runtime.
func serveRelay(addr string) error {
	hostEnd, childEnd, err := socketpair.New()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self)
	child.Env = append(os.Environ(), envHelper+"=relaychild")
	child.ExtraFiles = []*os.File{childEnd} // descriptor 3
	child.Stderr = os.Stderr
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := child.Start(); err != nil {
		return err
	}
	childEnd.Close()

	var mu sync.Mutex // one message on the socketpair at a time
	frame := make([]byte, relayFrame)
	s := hserver.New(hserver.Options{
		KeepAliveTimeout: 10 * time.Minute,
		Handlers: hserver.Handlers{Request: func(_ *hserver.IncomingMessage, res *hserver.ServerResponse) {
			mu.Lock()
			_, err := hostEnd.Write(frame)
			if err == nil {
				_, err = io.ReadFull(hostEnd, frame)
			}
			mu.Unlock()
			if err != nil {
				res.StatusCode = 502
				_ = res.End(nil)
				return
			}
			_ = res.SetHeader("Content-Type", "text/plain")
			_ = res.End(helloBody)
		}},
	})
	if _, err := s.Listen(addr); err != nil {
		return err
	}
	return child.Wait() // the second process ended: so does the relay
}

// relayChild is the relay's second process: it sends back each message.
func relayChild() error {
	c, err := net.FileConn(os.NewFile(3, "relay"))
	if err != nil {
		return err
	}
	buf := make([]byte, relayFrame)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
}
