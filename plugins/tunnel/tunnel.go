// Package tunnel is the tunnel plugin: the server half of the tunnelling
// proxy example in Node's documentation. It answers CONNECT by dialling
// the target, if an allowlist permits it, and copying bytes both ways.
package tunnel

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hostd/hostd/internal/glob"
	"github.com/hostd/hostd/sdk"
)

// Config is the plugin's [plugins.NAME.config] table.
type Config struct {
	// Allow lists globs on the target "host:port" ("*" any run, "?" one
	// character), such as "127.0.0.1:*" or "[::1]:*". Empty denies every
	// target.
	Allow []string `json:"allow"`
	// DialTimeout bounds connecting to the target, in milliseconds.
	// Default 10000.
	DialTimeout int `json:"dial_timeout"`
	// Users, when set, requires Proxy-Authorization: Basic with one of
	// these user names and passwords.
	Users map[string]string `json:"users"`
}

// Tunnel is the plugin.
type Tunnel struct {
	cfg  Config
	dial func(network, addr string, timeout time.Duration) (net.Conn, error)
}

var (
	_ sdk.ConnectHandler = (*Tunnel)(nil)
	_ sdk.Configurer     = (*Tunnel)(nil)
)

// New returns the plugin, denying everything until configured.
func New() *Tunnel { return &Tunnel{dial: net.DialTimeout} }

// Configure reads the config table.
func (t *Tunnel) Configure(c *sdk.Config) error {
	cfg := Config{DialTimeout: 10000}
	if err := c.Decode(&cfg); err != nil {
		return err
	}
	if cfg.DialTimeout <= 0 {
		return &sdk.ConfigError{Key: "dial_timeout", Reason: "must be positive"}
	}
	t.cfg = cfg
	return nil
}

// HandleConnect checks the target, the credentials and the allowlist,
// dials, answers "200 Connection Established", forwards head and copies
// both ways, passing each side's end of file on to the other.
func (t *Tunnel) HandleConnect(req *sdk.Request, client net.Conn, head []byte) {
	defer client.Close()
	log := sdk.Logger().With("client", req.RemoteAddr(), "target", req.URL())
	target := req.URL()
	if !validTarget(target) {
		refuse(client, 400, "")
		log.Info("tunnel refused: bad target")
		return
	}
	if len(t.cfg.Users) > 0 && !t.authorized(req.Header("proxy-authorization")) {
		refuse(client, 407, "Proxy-Authenticate: Basic realm=\"hostd\"\r\n")
		log.Info("tunnel refused: proxy authentication")
		return
	}
	if !t.allowed(target) {
		refuse(client, 403, "")
		log.Info("tunnel refused: target not allowed")
		return
	}
	start := time.Now()
	upstream, err := t.dial("tcp", target, time.Duration(t.cfg.DialTimeout)*time.Millisecond)
	if err != nil {
		refuse(client, 502, "")
		log.Info("tunnel refused: dial failed", "error", err)
		return
	}
	defer upstream.Close()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		return
	}
	if len(head) > 0 {
		if _, err := upstream.Write(head); err != nil {
			return
		}
	}
	var down int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		down = copyHalf(client, upstream)
	}()
	sent := copyHalf(upstream, client) + int64(len(head))
	wg.Wait()
	log.Info("tunnel closed", "bytes_up", sent, "bytes_down", down, "duration", time.Since(start).Round(time.Millisecond).String())
}

// copyHalf copies src to dst until src ends, then half-closes dst so that
// its reader sees the end too. With TCP connections on both sides this is
// a splice within the kernel.
func copyHalf(dst, src net.Conn) int64 {
	n, _ := io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	} else {
		_ = dst.Close()
	}
	return n
}

// validTarget checks that target is host:port with a port number.
func validTarget(target string) bool {
	host, port, err := net.SplitHostPort(target)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536
}

func (t *Tunnel) allowed(target string) bool {
	for _, pattern := range t.cfg.Allow {
		if glob.Match(pattern, target) {
			return true
		}
	}
	return false
}

// authorized checks a Proxy-Authorization value, in constant time for the
// password.
func (t *Tunnel) authorized(value string) bool {
	scheme, cred, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	want, known := t.cfg.Users[user]
	return ok && known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1
}

// refuse answers a CONNECT with an error status and closes.
func refuse(conn net.Conn, code int, extra string) {
	text := map[int]string{400: "Bad Request", 403: "Forbidden", 407: "Proxy Authentication Required", 502: "Bad Gateway"}[code]
	_, _ = fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", code, text, extra)
}
