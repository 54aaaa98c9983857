// Package echo is the echo plugin: it answers a request with a JSON
// description of it, exactly as the SDK sees it, and turns an upgraded
// connection into a byte echo.
package echo

import (
	"io"
	"net"
	"sync"

	"github.com/hostd/hostd/sdk"
)

// Config is the plugin's [plugins.NAME.config] table.
type Config struct {
	// MaxBody caps the bytes of the body the answer repeats; the body is
	// read to its end regardless, and bodyLength counts every byte.
	MaxBody int64 `json:"max_body"`
}

// DefaultMaxBody is MaxBody when unset: 1 MiB.
const DefaultMaxBody = 1 << 20

// Echo is the plugin.
type Echo struct{ cfg Config }

var (
	_ sdk.RequestHandler = (*Echo)(nil)
	_ sdk.UpgradeHandler = (*Echo)(nil)
	_ sdk.Configurer     = (*Echo)(nil)
)

// New returns the plugin with its defaults.
func New() *Echo { return &Echo{cfg: Config{MaxBody: DefaultMaxBody}} }

// Configure reads the config table.
func (e *Echo) Configure(c *sdk.Config) error {
	cfg := Config{MaxBody: DefaultMaxBody}
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	e.cfg = cfg
	return nil
}

// Answer is the JSON the plugin answers with; its fields are the
// request's, named as Node names them, and its strings are what a Node
// handler sees: header values (and every string but the body) read as
// latin1, the body decoded as UTF-8 with WHATWG replacement (one U+FFFD
// per ill-formed subpart). HandleRequest encodes it by hand, with the
// bytes JSON.stringify writes for the object a Node handler builds:
// header names in the order Node adds them (first arrival, array-index
// names first), and only the escapes JSON.stringify makes. Decoding it
// with encoding/json gives back every string; re-encoding it with
// encoding/json would not give the same bytes.
type Answer struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Headers     sdk.Headers `json:"headers"`
	RawHeaders  []string    `json:"rawHeaders"`
	Trailers    sdk.Headers `json:"trailers"`
	RawTrailers []string    `json:"rawTrailers"`
	Body        string      `json:"body"`
	BodyLength  int64       `json:"bodyLength"`
}

// HandleRequest answers with the request as a Node handler sees it: the
// JSON of Answer. The body is read as a stream: only MaxBody bytes of it
// are kept.
func (e *Echo) HandleRequest(req *sdk.Request, res *sdk.Response) {
	s := scratchPool.Get().(*scratch)
	defer s.release()
	q := &s.req
	var n int64
	for {
		m, err := req.Read(s.read)
		if room := e.cfg.MaxBody - int64(len(q.body)); room > 0 {
			q.body = append(q.body, s.read[:min(int64(m), room)]...)
		}
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return // the client went away: nobody to answer
		}
	}
	q.method, q.url, q.httpVersion = req.Method(), req.URL(), req.HTTPVersion()
	q.headers, q.rawHeaders = req.Headers(), req.RawHeaders()
	q.trailers, q.rawTrailers = req.Trailers(), req.RawTrailers()
	q.bodyLength = n
	s.out = appendAnswer(s.out[:0], q, &s.keys)
	res.SetHeader("Content-Type", "application/json")
	_ = res.End(s.out) // End copies what it sends
}

// scratch is the memory of one request, reused across requests.
type scratch struct {
	read []byte // body reads
	req  request
	out  []byte // the answer
	keys keyOrder
}

var scratchPool = sync.Pool{New: func() any { return &scratch{read: make([]byte, 32<<10)} }}

// maxPooled: buffers grown past this by a large body or answer are left
// to the collector rather than kept in the pool.
const maxPooled = 256 << 10

func (s *scratch) release() {
	body := s.req.body[:0]
	s.req = request{body: body} // drop the request's strings and maps
	if cap(body) > maxPooled || cap(s.out) > maxPooled {
		return
	}
	scratchPool.Put(s)
}

// HandleUpgrade is the server half of the upgrade example in Node's
// documentation: it switches protocols, sends back the bytes that came
// with the request, then echoes every byte until the client ends.
func (e *Echo) HandleUpgrade(req *sdk.Request, socket net.Conn, head []byte) {
	defer socket.Close()
	_, err := io.WriteString(socket, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: "+req.Header("upgrade")+"\r\n"+
		"Connection: Upgrade\r\n\r\n")
	if err == nil && len(head) > 0 {
		_, err = socket.Write(head)
	}
	if err != nil {
		return
	}
	// With the descriptor hostd passed, this is a splice within the
	// kernel.
	_, _ = io.Copy(socket, socket)
	if cw, ok := socket.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
