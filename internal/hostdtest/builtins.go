package hostdtest

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/protocol"
	"github.com/hostd/hostd/sdk"
)

// ServeBuiltin turns the process into the built-in plugin hostd asked
// for, if it asked: call it first thing in TestMain. plugins adds the
// caller's own builtins (such as the shipped plugins) to the misbehaving
// ones here.
func ServeBuiltin(plugins map[string]func() any) {
	name := os.Getenv(hostd.EnvBuiltin)
	if name == "" {
		return
	}
	if name == "oldproto" {
		serveOldProtocol()
	}
	mk, ok := plugins[name]
	if !ok {
		mk, ok = Builtins[name]
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "hostdtest: no builtin %q\n", name)
		os.Exit(2)
	}
	sdk.Serve(mk())
}

// Builtins are the test plugins every test binary serves.
var Builtins = map[string]func() any{
	"misbehave":   func() any { return &misbehave{} },
	"badconfig":   func() any { return badConfig{} },
	"stream":      func() any { return stream{} },
	"gen":         func() any { return &gen{} },
	"expect":      func() any { return expect{} },
	"clienterror": func() any { return clientError{} },
	"duplex":      func() any { return duplex{} },
	"drops":       func() any { return &drops{last: make(chan string, 1)} },
	"sockets":     func() any { return sockets{} },
	"asksrelay":   func() any { return asksRelay{} },
	"lifecycle":   func() any { return &lifecycle{} },
	"timeouts":    func() any { return &timeouts{} },
}

// BuiltinNames lists Builtins plus extra names, for hostd.Options.
func BuiltinNames(extra ...string) []string {
	names := append([]string{"oldproto"}, extra...)
	for name := range Builtins {
		names = append(names, name)
	}
	return names
}

// misbehave answers by the query: ?crash=before exits before any answer,
// ?crash=after exits after sending the head and part of the body,
// ?sleep=DURATION answers after that long (or when aborted), ?panic
// panics, ?framing=both sets both Content-Length and Transfer-Encoding,
// ?framing=overlong declares 5 bytes and writes 42, ?destroy writes part
// of a body and destroys the response, ?reqtimeout=DURATION answers from
// a Request.SetTimeout callback, ?env=NAME answers the variable's
// value, ?spawn starts a child process (sleep 300) and answers its pid,
// ?print=TEXT prints TEXT on stdout and stderr; otherwise it answers "ok"
// with its process id in X-Pid. Its
// configuration may name a file (fail_while) whose existence makes it
// refuse to start, to hold it down after a crash.
type misbehave struct{}

func (*misbehave) Configure(c *sdk.Config) error {
	var cfg struct {
		FailWhile string `json:"fail_while"`
	}
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	if cfg.FailWhile != "" {
		if _, err := os.Stat(cfg.FailWhile); err == nil {
			return fmt.Errorf("held down by %s", cfg.FailWhile)
		}
	}
	return nil
}

func (*misbehave) HandleRequest(req *sdk.Request, res *sdk.Response) {
	q := query(req)
	res.SetHeader("X-Pid", strconv.Itoa(os.Getpid()))
	switch {
	case q.Get("crash") == "before":
		os.Exit(3)
	case q.Get("crash") == "after":
		res.WriteHead(200)
		_, _ = res.Write([]byte("partial"))
		time.Sleep(100 * time.Millisecond)
		os.Exit(3)
	case q.Has("panic"):
		panic("asked to panic")
	case q.Has("env"):
		_ = res.End([]byte(os.Getenv(q.Get("env"))))
		return
	case q.Has("spawn"):
		child := exec.Command("sleep", "300")
		if err := child.Start(); err != nil {
			_ = res.WriteHead(500)
			_ = res.End([]byte(err.Error()))
			return
		}
		_ = res.End([]byte(strconv.Itoa(child.Process.Pid)))
		return
	case q.Get("print") != "":
		fmt.Println(q.Get("print") + " on stdout")
		fmt.Fprintln(os.Stderr, q.Get("print")+" on stderr")
	case q.Get("framing") == "both":
		res.SetHeader("Content-Length", "5").SetHeader("Transfer-Encoding", "chunked")
		_ = res.End([]byte("hello"))
		return
	case q.Get("framing") == "overlong":
		res.SetHeader("Content-Length", "5")
		_ = res.End([]byte("hello, and 36 more bytes not declared here"))
		return
	case q.Has("destroy"):
		res.SetHeader("Content-Length", "100")
		_, _ = res.Write([]byte("part of it"))
		res.Destroy(fmt.Errorf("the upstream went away"))
		return
	case q.Get("timeout") != "":
		// SetTimeout: with ?callback the callback answers; without, hostd
		// must close the connection once the socket is idle that long.
		// ?callback=twice sets a second callback with a second SetTimeout;
		// a callback that ran twice would panic.
		d, _ := time.ParseDuration(q.Get("timeout"))
		var cb func()
		done := make(chan struct{})
		if q.Has("callback") {
			cb = func() { _ = res.End([]byte("timed out")); close(done) }
		}
		if q.Get("callback") == "twice" {
			second := make(chan struct{})
			_ = res.SetTimeout(d, func() { close(second) })
			first := cb
			cb = func() { <-second; first() }
		}
		_ = res.SetTimeout(d, cb)
		select {
		case <-done:
		case <-req.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return
	case q.Get("reqtimeout") != "":
		// Request.SetTimeout: the callback answers if the timeout passes
		// while the body is still arriving; otherwise hostd closes the
		// connection, as Node does.
		d, _ := time.ParseDuration(q.Get("reqtimeout"))
		done := make(chan struct{})
		_ = req.SetTimeout(d, func() { _ = res.End([]byte("request timed out")); close(done) })
		select {
		case <-done:
		case <-req.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return
	case q.Get("sleep") != "":
		d, _ := time.ParseDuration(q.Get("sleep"))
		select {
		case <-time.After(d):
		case <-req.Context().Done():
			return
		}
	}
	_, _ = io.Copy(io.Discard, req)
	_ = res.End([]byte("ok"))
}

// badConfig refuses every configuration, as a plugin failing its checks.
type badConfig struct{}

func (badConfig) Configure(*sdk.Config) error { return fmt.Errorf("this plugin refuses to start") }
func (badConfig) HandleRequest(_ *sdk.Request, res *sdk.Response) {
	_ = res.End([]byte("should never run"))
}

// stream answers ?bytes=N with N bytes of body, written in 64 KiB pieces.
type stream struct{}

func (stream) HandleRequest(req *sdk.Request, res *sdk.Response) {
	n, _ := strconv.ParseInt(query(req).Get("bytes"), 10, 64)
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte('a' + i%26)
	}
	res.SetHeader("Content-Type", "application/octet-stream")
	for n > 0 {
		m := min(n, int64(len(chunk)))
		if _, err := res.Write(chunk[:m]); err != nil {
			return
		}
		n -= m
	}
	_ = res.End()
}

// gen answers with its configured "name" and its process id, so a test
// can tell generations apart.
type gen struct{ name string }

func (g *gen) Configure(c *sdk.Config) error {
	var cfg struct {
		Name string `json:"name"`
	}
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	g.name = cfg.Name
	return nil
}

func (g *gen) HandleRequest(req *sdk.Request, res *sdk.Response) {
	_, _ = io.Copy(io.Discard, req)
	res.SetHeader("X-Pid", strconv.Itoa(os.Getpid()))
	res.SetHeader("X-Gomaxprocs", strconv.Itoa(runtime.GOMAXPROCS(0)))
	_ = res.End([]byte(g.name))
}

// expect handles the Expect events: checkContinue sends "100 Continue"
// unless the request has X-Refuse (then 417), and echoes the body;
// checkExpectation answers 418 naming the expectation.
type expect struct{}

func (expect) HandleCheckContinue(req *sdk.Request, res *sdk.Response) {
	if req.Header("x-refuse") != "" {
		res.WriteHead(417)
		_ = res.End()
		return
	}
	_ = res.WriteContinue()
	body, _ := io.ReadAll(req)
	_ = res.End([]byte("continued: " + string(body)))
}

func (expect) HandleCheckExpectation(req *sdk.Request, res *sdk.Response) {
	res.WriteHead(418)
	_ = res.End([]byte("expectation: " + req.Header("expect")))
}

func (expect) HandleRequest(req *sdk.Request, res *sdk.Response) {
	body, _ := io.ReadAll(req)
	_ = res.End([]byte("request: " + string(body)))
}

// clientError answers malformed requests with its own 400, naming the
// error code and how much was parsed. It logs each error, and answers even
// when the response had begun (HeadersSent), when neither the SDK nor
// hostd may let the answer through.
type clientError struct{}

func (clientError) HandleClientError(err *sdk.ClientError, socket net.Conn) {
	sdk.Logger().Info("client error", "code", err.Code, "headers_sent", err.HeadersSent)
	_, _ = fmt.Fprintf(socket, "HTTP/1.1 400 Bad Request\r\nX-Code: %s\r\nX-Bytes-Parsed: %d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		err.Code, err.BytesParsed)
}

// drops hears of the requests hostd drops (dropRequest) and answers /last
// with the URL of the latest, once there is one; other requests get "ok".
type drops struct{ last chan string }

func (d *drops) HandleDropRequest(req *sdk.Request) {
	select {
	case d.last <- req.URL():
	default:
	}
}

func (d *drops) HandleRequest(req *sdk.Request, res *sdk.Response) {
	if req.URL() != "/last" {
		_ = res.End([]byte("ok"))
		return
	}
	select {
	case u := <-d.last:
		_ = res.End([]byte(u))
	case <-time.After(10 * time.Second):
		_ = res.End([]byte("none"))
	}
}

// duplex answers as the body arrives: "start;", then each piece of the
// body as it is read, then "end".
type duplex struct{}

func (duplex) HandleRequest(req *sdk.Request, res *sdk.Response) {
	if _, err := res.Write([]byte("start;")); err != nil {
		return
	}
	buf := make([]byte, 4<<10)
	for {
		n, err := req.Read(buf)
		if n > 0 {
			if _, werr := res.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err == io.EOF {
			_ = res.End([]byte("end"))
			return
		}
		if err != nil {
			return
		}
	}
}

func query(req *sdk.Request) url.Values {
	u, err := url.Parse(req.URL())
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

// serveOldProtocol is a plugin built against an older protocol version.
func serveOldProtocol() {
	hs := protocol.Handshake
	hs.ProtocolVersion = protocol.Version + 100 // a version hostd does not speak
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         protocol.PluginSet(unimplemented{}),
		GRPCServer:      plugin.DefaultGRPCServer,
	})
	os.Exit(0)
}

type unimplemented struct {
	protocol.UnimplementedControlServer
}

// sockets answers an upgrade with a 101 and a line telling how its socket
// came, "passed" (the client's own descriptor) or "relayed" (frames through
// hostd), then echoes every byte.
type sockets struct{}

func (sockets) HandleUpgrade(_ *sdk.Request, socket net.Conn, head []byte) {
	defer socket.Close()
	how := "relayed"
	if _, ok := socket.(syscall.Conn); ok {
		how = "passed"
	}
	if _, err := fmt.Fprintf(socket, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n%s\n", how); err != nil {
		return
	}
	if _, err := socket.Write(head); err != nil {
		return
	}
	_, _ = io.Copy(socket, socket)
}

// asksRelay is sockets asking for its sockets to be relayed.
type asksRelay struct{ sockets }

func (asksRelay) RelaySockets() bool { return true }

// lifecycle shows the end of an exchange as the plugin sees it: /answer
// answers with listeners on the response and the request, and /events
// answers, once the previous exchange is over (or after 10 s), with what
// its listeners saw, in order: "finish close request-close" when hostd
// wrote the answer to the client.
type lifecycle struct {
	mu     sync.Mutex
	events []string
	over   chan struct{}
}

func (l *lifecycle) HandleRequest(req *sdk.Request, res *sdk.Response) {
	switch req.URL() {
	case "/answer":
		l.mu.Lock()
		l.events, l.over = nil, make(chan struct{})
		over := l.over
		l.mu.Unlock()
		note := func(e string) {
			l.mu.Lock()
			l.events = append(l.events, e)
			l.mu.Unlock()
		}
		res.OnFinish(func() { note("finish") })
		res.OnClose(func() { note("close") })
		req.OnClose(func() { note("request-close"); close(over) })
		_ = res.End([]byte("answered"))
	case "/events":
		l.mu.Lock()
		over := l.over
		l.mu.Unlock()
		select {
		case <-over:
		case <-time.After(10 * time.Second):
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		_ = res.End([]byte(strings.Join(l.events, " ")))
	}
}

// ReadStreamPattern reads r to its end, checking that it carries the
// stream builtin's bytes (a–z repeated, in 64 KiB pieces that each start
// at 'a'), and returns how many it read.
func ReadStreamPattern(t testing.TB, r io.Reader) int64 {
	t.Helper()
	var n int64
	buf := make([]byte, 32<<10)
	for {
		m, err := r.Read(buf)
		for i := range m {
			if want := byte('a' + (n+int64(i))%(64<<10)%26); buf[i] != want {
				t.Fatalf("byte %d is %q, want %q", n+int64(i), buf[i], want)
			}
		}
		n += int64(m)
		if err == io.EOF {
			return n
		}
		require.NoError(t, err)
	}
}
