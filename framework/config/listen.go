package config

import (
	"fmt"
	"net"
	"strings"
)

// listenAddr is a listen address as the kernel sees it, to find two that
// cannot both be bound.
type listenAddr struct {
	key  string // where it is configured: server.listen[1], admin.listen
	unix string // the socket path, or empty for TCP
	ips  []net.IP
	any4 bool // every IPv4 address (0.0.0.0)
	any  bool // every address ("", ::)
	port string
}

func parseListen(key, addr string) listenAddr {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return listenAddr{key: key, unix: p}
	}
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(addr, TLSPrefix))
	l := listenAddr{key: key, port: port}
	switch ip := net.ParseIP(host); {
	case host == "" || host == "::":
		l.any = true
	case host == "0.0.0.0":
		l.any4 = true
	case strings.EqualFold(host, "localhost"):
		l.ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	case ip != nil:
		l.ips = []net.IP{ip}
	}
	return l
}

// collides reports whether a and b cannot both be bound. A port of 0 asks
// for a free port and never collides; a host name other than localhost
// is not resolved here.
func (a listenAddr) collides(b listenAddr) bool {
	if a.unix != "" || b.unix != "" {
		return a.unix == b.unix
	}
	if a.port != b.port || a.port == "0" {
		return false
	}
	if a.any || b.any {
		return true
	}
	if a.any4 || b.any4 {
		other := b
		if b.any4 {
			other = a
		}
		if other.any4 {
			return true
		}
		for _, ip := range other.ips {
			if ip.To4() != nil {
				return true
			}
		}
		return false
	}
	for _, x := range a.ips {
		for _, y := range b.ips {
			if x.Equal(y) {
				return true
			}
		}
	}
	return false
}

// checkCollisions refuses two listen addresses (server or admin) that
// cannot both be bound, such as 127.0.0.1:8080 and 0.0.0.0:8080.
func (c *Config) checkCollisions() error {
	var addrs []listenAddr
	for i, a := range c.Server.Listen {
		addrs = append(addrs, parseListen(fmt.Sprintf("server.listen[%d]", i), a))
	}
	if c.Admin.Listen != "" {
		addrs = append(addrs, parseListen("admin.listen", c.Admin.Listen))
	}
	for i, a := range addrs {
		for _, b := range addrs[:i] {
			if a.collides(b) {
				return &Error{File: c.File, Key: a.key, Reason: "collides with " + b.key + ": both cannot be bound at once"}
			}
		}
	}
	return nil
}
