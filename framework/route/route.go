// Package route maps an event to the plugin that handles it: by path
// prefix, Host, method and event for requests and upgrades, and by a glob
// on the target for CONNECT.
package route

import (
	"bytes"
	"sort"
	"strings"

	"github.com/hostd/hostd/internal/glob"
	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/protocol"
)

// Route is one [[routes]] entry.
type Route struct {
	// Path is a path prefix. "/echo" matches "/echo" and "/echo/…" but
	// not "/echoes"; a prefix ending in "/" matches anything below it.
	Path string
	// Host, when set, must equal the request's Host without its port,
	// ignoring case; "*.example.com" matches any subdomain.
	Host string
	// Methods, when set, lists the methods the route takes.
	Methods []string
	// Events the route takes; a CONNECT route takes only EventConnect.
	Events protocol.EventSet
	// Authority is a glob on a CONNECT target "host:port" ("*" matches
	// any run of characters, "?" one); "*" matches every target.
	Authority string
	// Target is what the route leads to: the plugin.
	Target any
}

// Table is an immutable set of routes.
type Table struct {
	http    []*Route // by decreasing path length, host-specific first
	connect []*Route // in configuration order
}

// New builds a table. Among routes that match, the longest path prefix
// wins; at equal length a route with a Host wins, then the earlier one.
func New(routes []Route) *Table {
	t := &Table{}
	for i := range routes {
		r := &routes[i]
		if r.Events&^protocol.EventSetOf(protocol.EventConnect) != 0 {
			t.http = append(t.http, r)
		}
		if r.Events.Has(protocol.EventConnect) {
			t.connect = append(t.connect, r)
		}
	}
	sort.SliceStable(t.http, func(i, j int) bool {
		a, b := t.http[i], t.http[j]
		if len(a.Path) != len(b.Path) {
			return len(a.Path) > len(b.Path)
		}
		return a.Host != "" && b.Host == ""
	})
	return t
}

// Lookup returns the route for an event of a request, or nil. host is the
// Host header (a port is ignored) and target the request-target.
func (t *Table) Lookup(ev protocol.Event, host, target []byte, method string) *Route {
	p := pathOf(target)
	h := hostOf(host)
	for _, r := range t.http {
		if !r.Events.Has(ev) || !prefixMatch(p, r.Path) || !hostMatch(h, r.Host) || !methodMatch(method, r.Methods) {
			continue
		}
		return r
	}
	return nil
}

// HasConnect reports whether any route takes the connect event.
func (t *Table) HasConnect() bool { return len(t.connect) > 0 }

// LookupConnect returns the route for a CONNECT to authority, or nil.
func (t *Table) LookupConnect(authority string) *Route {
	for _, r := range t.connect {
		if glob.Match(r.Authority, authority) {
			return r
		}
	}
	return nil
}

// pathOf returns the path of a request-target: origin-form up to the
// query, or the path of an absolute-form URL.
func pathOf(target []byte) []byte {
	if len(target) > 0 && target[0] != '/' {
		if i := bytes.Index(target, []byte("://")); i >= 0 {
			rest := target[i+3:]
			j := 0
			for j < len(rest) && rest[j] != '/' && rest[j] != '?' && rest[j] != '#' {
				j++
			}
			target = rest[j:]
			if len(target) == 0 || target[0] != '/' {
				return []byte("/")
			}
		}
	}
	for i, c := range target {
		if c == '?' || c == '#' {
			return target[:i]
		}
	}
	return target
}

// hostOf strips the port from a Host value.
func hostOf(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' { // [v6]:port
		if i := bytes.IndexByte(h, ']'); i >= 0 {
			return h[:i+1]
		}
		return h
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

func prefixMatch(p []byte, prefix string) bool {
	if len(p) < len(prefix) || string(p[:len(prefix)]) != prefix {
		return false
	}
	return len(p) == len(prefix) || strings.HasSuffix(prefix, "/") || p[len(prefix)] == '/'
}

func hostMatch(h []byte, want string) bool {
	switch {
	case want == "":
		return true
	case strings.HasPrefix(want, "*."):
		suffix := want[1:] // ".example.com"
		return len(h) > len(suffix) && httpspec.EqualFoldASCII(h[len(h)-len(suffix):], suffix)
	}
	return httpspec.EqualFoldASCII(h, want)
}

func methodMatch(m string, methods []string) bool {
	if len(methods) == 0 {
		return true
	}
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}
