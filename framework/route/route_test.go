package route_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/route"
	"github.com/hostd/hostd/protocol"
)

func TestLookup(t *testing.T) {
	table := route.New([]route.Route{
		{Path: "/", Events: protocol.EventSetOf(protocol.EventRequest), Target: "root"},
		{Path: "/echo", Events: protocol.EventSetOf(protocol.EventRequest, protocol.EventUpgrade), Target: "echo"},
		{Path: "/echo/deep", Methods: []string{"POST"}, Events: protocol.EventSetOf(protocol.EventRequest), Target: "deep-post"},
		{Path: "/api/", Events: protocol.EventSetOf(protocol.EventRequest), Target: "api"},
		{Path: "/echo", Host: "example.com", Events: protocol.EventSetOf(protocol.EventRequest), Target: "echo-example"},
		{Path: "/", Host: "*.wild.test", Events: protocol.EventSetOf(protocol.EventRequest), Target: "wild"},
		{Path: "/expect", Events: protocol.EventSetOf(protocol.EventCheckContinue), Target: "continue"},
		{Authority: "127.0.0.1:*", Events: protocol.EventSetOf(protocol.EventConnect), Target: "local-tunnel"},
		{Authority: "*", Events: protocol.EventSetOf(protocol.EventConnect), Target: "any-tunnel"},
	})
	for _, tc := range []struct {
		name         string
		ev           protocol.Event
		host, target string
		method       string
		want         any
	}{
		{"the longest prefix wins", protocol.EventRequest, "x", "/echo/a", "GET", "echo"},
		{"a prefix matches itself", protocol.EventRequest, "x", "/echo", "GET", "echo"},
		{"a prefix does not match a longer segment", protocol.EventRequest, "x", "/echoes", "GET", "root"},
		{"the query is not part of the path", protocol.EventRequest, "x", "/echo?a=/b", "GET", "echo"},
		{"a method filter skips other methods", protocol.EventRequest, "x", "/echo/deep/1", "GET", "echo"},
		{"a method filter takes its methods", protocol.EventRequest, "x", "/echo/deep/1", "POST", "deep-post"},
		{"a prefix ending in / matches below it", protocol.EventRequest, "x", "/api/v1", "GET", "api"},
		{"a host route wins at equal length", protocol.EventRequest, "example.com:8080", "/echo", "GET", "echo-example"},
		{"host matching ignores case", protocol.EventRequest, "EXAMPLE.com", "/echo", "GET", "echo-example"},
		{"a wildcard host takes subdomains", protocol.EventRequest, "a.wild.test", "/x", "GET", "wild"},
		{"a wildcard host does not take its parent", protocol.EventRequest, "wild.test", "/x", "GET", "root"},
		{"an absolute-form target routes by its path", protocol.EventRequest, "x", "http://other/echo/z", "GET", "echo"},
		{"an event filter applies", protocol.EventUpgrade, "x", "/echo", "GET", "echo"},
		{"no route takes an event nobody lists", protocol.EventUpgrade, "x", "/other", "GET", nil},
		{"checkContinue routes are their own", protocol.EventCheckContinue, "x", "/expect", "POST", "continue"},
		{"an IPv6 Host is matched without its port", protocol.EventRequest, "[::1]:80", "/echo", "GET", "echo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := table.Lookup(tc.ev, []byte(tc.host), []byte(tc.target), tc.method)
			if tc.want == nil {
				require.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			require.Equal(t, tc.want, r.Target)
		})
	}
	t.Run("CONNECT routes match their authority glob in order", func(t *testing.T) {
		require.Equal(t, "local-tunnel", table.LookupConnect("127.0.0.1:443").Target)
		require.Equal(t, "any-tunnel", table.LookupConnect("example.com:443").Target)
	})
	t.Run("HasConnect tells whether any route takes CONNECT", func(t *testing.T) {
		require.True(t, table.HasConnect())
		require.False(t, route.New([]route.Route{{Path: "/", Events: protocol.EventSetOf(protocol.EventRequest, protocol.EventUpgrade), Target: "x"}}).HasConnect())
	})
}

func TestLookupAllocatesNothing(t *testing.T) {
	table := route.New([]route.Route{{Path: "/echo", Events: protocol.EventSetOf(protocol.EventRequest), Target: 1}, {Path: "/", Host: "*.x.test", Events: protocol.EventSetOf(protocol.EventRequest), Target: 2}})
	host, target := []byte("a.x.test:80"), []byte("/echo/a?b")
	allocs := testing.AllocsPerRun(100, func() { table.Lookup(protocol.EventRequest, host, target, "GET") })
	require.Zero(t, allocs)
}
