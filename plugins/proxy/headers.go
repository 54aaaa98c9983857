package proxy

import (
	"net"
	"strconv"
	"strings"

	"github.com/hostd/hostd/internal/httpspec"
)

// hopByHop reports whether a field belongs to one connection rather than
// to the message (RFC 9110, 7.6.1), so that a proxy does not pass it on:
// Connection, the fields it names, and the fields that are hop-by-hop
// whether named or not.
type hopByHop struct {
	named []string // lower-case field names listed by Connection
}

// newHopByHop reads the Connection fields of a raw name, value list.
func newHopByHop(raw []string) hopByHop {
	var h hopByHop
	for i := 0; i+1 < len(raw); i += 2 {
		if !httpspec.EqualFoldASCII(raw[i], "connection") {
			continue
		}
		for _, tok := range strings.Split(raw[i+1], ",") {
			if tok = httpspec.TrimOWS(tok); tok != "" {
				h.named = append(h.named, httpspec.ToLower(tok))
			}
		}
	}
	return h
}

// drops reports whether name is hop-by-hop. TE and Upgrade are left to
// the caller, which keeps them in some cases.
func (h hopByHop) drops(name string) bool {
	for _, n := range [...]string{"connection", "keep-alive", "proxy-connection", "transfer-encoding"} {
		if httpspec.EqualFoldASCII(name, n) {
			return true
		}
	}
	for _, n := range h.named {
		if httpspec.EqualFoldASCII(name, n) {
			return true
		}
	}
	return false
}

// names reports whether Connection names the field.
func (h hopByHop) names(name string) bool {
	for _, n := range h.named {
		if httpspec.EqualFoldASCII(name, n) {
			return true
		}
	}
	return false
}

// outgoing describes the request the proxy sends upstream.
type outgoing struct {
	fields  []string // the head's fields, name and value alternating
	body    bool     // a body follows (Content-Length or chunked)
	chunked bool     // the client's body was chunked, and so is ours
	expect  bool     // Expect: 100-continue
}

// forwardedFor is what the proxy adds about the client: its address, the
// scheme it spoke and the Host it asked for.
type forwardedFor struct {
	clientIP string // "" when the client is not on IP
	proto    string // "http", or "https" when the client came over TLS
}

// requestFields turns the client's raw header list into the upstream's,
// keeping each field's casing, order and repetition: hop-by-hop fields
// are dropped (TE becomes "TE: trailers" when the client accepts
// trailers; the upgrade fields stay for an upgrade), Transfer-Encoding
// becomes "chunked" (the body is re-framed), Host is the upstream's unless
// preserveHost, and X-Forwarded-For gets the client appended while
// X-Forwarded-Proto and X-Forwarded-Host are set anew.
func requestFields(raw []string, upstreamHost string, preserveHost, upgrade bool, fw forwardedFor) outgoing {
	hop := newHopByHop(raw)
	out := outgoing{fields: make([]string, 0, len(raw)+8)}
	var (
		clientHost string
		hostAt     = -1 // index in out.fields of the Host field
		xffAt      = -1 // index of the first X-Forwarded-For field
		xff        []string
	)
	for i := 0; i+1 < len(raw); i += 2 {
		name, value := raw[i], raw[i+1]
		switch {
		case httpspec.EqualFoldASCII(name, "host"):
			if hostAt >= 0 {
				continue // hostd refuses two; keep one
			}
			clientHost = value
			hostAt = len(out.fields)
			if !preserveHost {
				value = upstreamHost
			}
		case httpspec.EqualFoldASCII(name, "upgrade"):
			if !upgrade {
				continue
			}
		case httpspec.EqualFoldASCII(name, "connection"):
			continue // rewritten below for an upgrade; the client adds its own
		case httpspec.EqualFoldASCII(name, "te"):
			if hop.names(name) || !httpspec.ListContainsToken(value, "trailers") {
				continue
			}
			value = "trailers"
		case httpspec.EqualFoldASCII(name, "transfer-encoding"):
			out.body = true
			out.chunked = lastChunked(value)
			if !out.chunked {
				continue // hostd's parser refuses a request body that is not chunked
			}
			value = "chunked"
		case hop.drops(name):
			continue
		case httpspec.EqualFoldASCII(name, "content-length"):
			out.body = out.body || strings.TrimSpace(value) != "0"
		case httpspec.EqualFoldASCII(name, "expect"):
			out.expect = httpspec.ListContainsToken(value, "100-continue")
		case httpspec.EqualFoldASCII(name, "x-forwarded-for"):
			xff = append(xff, value)
			if xffAt >= 0 {
				continue
			}
			xffAt = len(out.fields)
		case httpspec.EqualFoldASCII(name, "x-forwarded-proto"), httpspec.EqualFoldASCII(name, "x-forwarded-host"):
			continue // set below from what this hop saw
		}
		out.fields = append(out.fields, name, value)
	}
	if hostAt < 0 {
		out.fields = append([]string{"Host", upstreamHost}, out.fields...)
		if xffAt >= 0 {
			xffAt += 2
		}
	}
	if upgrade {
		out.fields = append(out.fields, "Connection", "Upgrade")
	}
	if fw.clientIP != "" {
		xff = append(xff, fw.clientIP)
	}
	if len(xff) > 0 {
		v := strings.Join(xff, ", ")
		if xffAt >= 0 {
			out.fields[xffAt+1] = v
		} else {
			out.fields = append(out.fields, "X-Forwarded-For", v)
		}
	}
	out.fields = append(out.fields, "X-Forwarded-Proto", fw.proto)
	if clientHost != "" {
		out.fields = append(out.fields, "X-Forwarded-Host", clientHost)
	}
	return out
}

// responseFields drops the hop-by-hop fields of the upstream's answer,
// keeping the others as they came. keepUpgrade keeps Connection and
// Upgrade, which a 101 needs.
func responseFields(raw []string, keepUpgrade bool) []string {
	hop := newHopByHop(raw)
	out := make([]string, 0, len(raw))
	for i := 0; i+1 < len(raw); i += 2 {
		name := raw[i]
		switch {
		case keepUpgrade && (httpspec.EqualFoldASCII(name, "connection") || httpspec.EqualFoldASCII(name, "upgrade")):
		case httpspec.EqualFoldASCII(name, "te"), httpspec.EqualFoldASCII(name, "upgrade"), hop.drops(name):
			continue
		}
		out = append(out, name, raw[i+1])
	}
	return out
}

// lastChunked reports whether chunked is the last coding of a
// Transfer-Encoding value.
func lastChunked(v string) bool {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return httpspec.EqualFoldASCII(httpspec.TrimOWS(v), "chunked")
}

// hostHeader is the Host an upstream at host:port expects: the port left
// out when it is the scheme's default, an IPv6 address in brackets.
func hostHeader(host string, port, defaultPort int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != defaultPort {
		host += ":" + strconv.Itoa(port)
	}
	return host
}

// clientIP returns the IP of an "ip:port" address, or "" for an address
// that is not on IP (a Unix socket).
func clientIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil || net.ParseIP(host) == nil {
		return ""
	}
	return host
}

// hasField reports whether a raw list has a field.
func hasField(raw []string, name string) bool {
	for i := 0; i+1 < len(raw); i += 2 {
		if httpspec.EqualFoldASCII(raw[i], name) {
			return true
		}
	}
	return false
}
