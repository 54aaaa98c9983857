// Command clients talks to the shipped plugins of hostd's default
// configuration, one subcommand each:
//
//	go run ./examples/clients echo      # a POST, answered with JSON
//	go run ./examples/clients hints     # a 103 Early Hints, then the page
//	go run ./examples/clients upgrade   # switch protocols, then a byte echo
//	go run ./examples/clients connect   # a CONNECT through the tunnel
//
// -addr says where hostd listens (default 127.0.0.1:8080); -upstream
// where connect serves the target it tunnels to (default 127.0.0.1:3000,
// which the default configuration's tunnel allows).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "hostd's address")
	upstream := flag.String("upstream", "127.0.0.1:3000", "where connect serves the tunnel's target")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, flag.Arg(0), *addr, *upstream, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd, addr, upstream string, out io.Writer) error {
	switch cmd {
	case "echo":
		return echo(ctx, addr, out)
	case "hints":
		return hints(ctx, addr, out)
	case "upgrade":
		return upgrade(ctx, addr, out)
	case "connect":
		return connect(ctx, addr, upstream, out)
	}
	return fmt.Errorf("usage: clients [-addr host:port] [-upstream host:port] echo|hints|upgrade|connect")
}

// echo posts a body to the echo plugin and prints its JSON answer.
func echo(ctx context.Context, addr string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/echo/hello?from=client", strings.NewReader("hello, plugin"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	fmt.Fprintln(out, res.Proto, res.Status)
	_, err = io.Copy(out, res.Body)
	fmt.Fprintln(out)
	return err
}

// hints shows the 103 Early Hints that precede the earlyhints page.
func hints(ctx context.Context, addr string, out io.Writer) error {
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		fmt.Fprintf(out, "%d %s\n", code, http.StatusText(code))
		for _, link := range h["Link"] {
			fmt.Fprintf(out, "  Link: %s\n", link)
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, "http://"+addr+"/hints", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	fmt.Fprintf(out, "%s, %d bytes of %s\n", res.Status, len(body), res.Header.Get("Content-Type"))
	return err
}

// upgrade is the client half of the upgrade example in Node's
// documentation: it asks the echo plugin to switch protocols, then sends
// bytes and reads them back.
func upgrade(ctx context.Context, addr string, out io.Writer) error {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: "+addr+"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, res.Status, "Upgrade:", res.Header.Get("Upgrade"))
	if res.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("not upgraded")
	}
	for _, msg := range []string{"hello", "over the upgraded socket"} {
		if _, err := io.WriteString(c, msg); err != nil {
			return err
		}
		back := make([]byte, len(msg))
		if _, err := io.ReadFull(br, back); err != nil {
			return err
		}
		fmt.Fprintf(out, "echoed: %s\n", back)
	}
	return nil
}

// connect is the client half of the tunnelling proxy example in Node's
// documentation: it serves a small upstream on upstream (a loopback
// target the default configuration allows), opens a tunnel to it through
// hostd and sends a request through the tunnel.
func connect(ctx context.Context, addr, upstream string, out io.Writer) error {
	l, err := net.Listen("tcp", upstream)
	if err != nil {
		return fmt.Errorf("serving the upstream: %w", err)
	}
	defer l.Close()
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { //nolint:errcheck // ends with l
		_, _ = io.WriteString(w, "hello from the upstream\n")
	}))
	target := l.Addr().String()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, _ = io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "CONNECT:", res.Status)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("tunnel refused")
	}
	// Inside the tunnel: plain HTTP to the target.
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+target+"\r\nConnection: close\r\n\r\n")
	inner, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer inner.Body.Close()
	body, err := io.ReadAll(inner.Body)
	fmt.Fprintf(out, "through the tunnel: %s, %s", inner.Status, body)
	return err
}
