// Package echo is the echo plugin: it answers a request with a JSON
// description of it, exactly as the SDK sees it, and turns an upgraded
// connection into a byte echo.
package echo

import (
	"encoding/json"
	"io"
	"net"

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
// request's, named as Node names them.
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

// HandleRequest answers with the request's own fields. The body is read
// as a stream: only MaxBody bytes of it are kept.
func (e *Echo) HandleRequest(req *sdk.Request, res *sdk.Response) {
	var kept []byte
	var n int64
	buf := make([]byte, 32<<10)
	for {
		m, err := req.Read(buf)
		if room := e.cfg.MaxBody - int64(len(kept)); room > 0 {
			kept = append(kept, buf[:min(int64(m), room)]...)
		}
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return // the client went away: nobody to answer
		}
	}
	a := Answer{
		Method:      req.Method(),
		URL:         req.URL(),
		HTTPVersion: req.HTTPVersion(),
		Headers:     req.Headers(),
		RawHeaders:  req.RawHeaders(),
		Trailers:    req.Trailers(),
		RawTrailers: req.RawTrailers(),
		Body:        string(kept),
		BodyLength:  n,
	}
	out, err := json.Marshal(a)
	if err != nil {
		res.WriteHead(500)
		_ = res.End()
		return
	}
	res.SetHeader("Content-Type", "application/json")
	_ = res.End(out)
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
