package hostd

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hostd/hostd/framework/config"
)

// hostd's own listeners, the server's and the admin API's, are never a
// CONNECT target: a tunnel to them would hand a client the admin API (from
// inside, past its Host and Origin checks) or a loop through hostd. The
// check lives here, before any route, because only hostd knows its
// listeners; a tunnel plugin's allowlist cannot. A target is refused with
// 403 when its port is one hostd listens on and its host is this machine:
// a loopback or unspecified address, one of the machine's interface
// addresses, or a name resolving to one. (A name whose DNS answer changes
// between this check and the plugin's dial escapes it: keep the plugin's
// allowlist narrow too.)

// ownPorts are the TCP ports hostd listens on.
type ownPorts map[string]bool

// addOwn records the port of a listener. Start records the configured
// ports before listening and the bound ones (for port 0) as soon as each
// listens; it holds h.mu.
func (h *Host) addOwn(addr string) {
	_, port, err := net.SplitHostPort(strings.TrimPrefix(addr, config.TLSPrefix))
	if err != nil || port == "0" || port == "" {
		return // a Unix socket, or a port not yet bound
	}
	ports := ownPorts{port: true}
	if old := h.own.Load(); old != nil {
		for p := range *old {
			ports[p] = true
		}
	}
	h.own.Store(&ports)
}

// isOwnListener reports whether a CONNECT to target would reach hostd
// itself.
func (h *Host) isOwnListener(ctx context.Context, target string) bool {
	host, port, err := net.SplitHostPort(target)
	ports := h.own.Load()
	if err != nil || ports == nil {
		return false
	}
	// As the dialer reads it: "08080" is port 8080.
	if n, err := strconv.Atoi(port); err != nil || !(*ports)[strconv.Itoa(n)] {
		return false
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return false // the plugin's dial fails the same way
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	var local []net.Addr
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsUnspecified() {
			return true
		}
		if local == nil {
			local, _ = net.InterfaceAddrs()
		}
		for _, a := range local {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
	}
	return false
}
