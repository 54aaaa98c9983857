package route_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/route"
)

func TestLookup(t *testing.T) {
	table := route.New([]route.Route{
		{Path: "/", Events: route.Request, Target: "root"},
		{Path: "/echo", Events: route.Request | route.Upgrade, Target: "echo"},
		{Path: "/echo/deep", Methods: []string{"POST"}, Events: route.Request, Target: "deep-post"},
		{Path: "/api/", Events: route.Request, Target: "api"},
		{Path: "/echo", Host: "example.com", Events: route.Request, Target: "echo-example"},
		{Path: "/", Host: "*.wild.test", Events: route.Request, Target: "wild"},
		{Path: "/expect", Events: route.CheckContinue, Target: "continue"},
		{Authority: "127.0.0.1:*", Events: route.Connect, Target: "local-tunnel"},
		{Authority: "*", Events: route.Connect, Target: "any-tunnel"},
	})
	for _, tc := range []struct {
		name         string
		ev           route.Event
		host, target string
		method       string
		want         any
	}{
		{"the longest prefix wins", route.Request, "x", "/echo/a", "GET", "echo"},
		{"a prefix matches itself", route.Request, "x", "/echo", "GET", "echo"},
		{"a prefix does not match a longer segment", route.Request, "x", "/echoes", "GET", "root"},
		{"the query is not part of the path", route.Request, "x", "/echo?a=/b", "GET", "echo"},
		{"a method filter skips other methods", route.Request, "x", "/echo/deep/1", "GET", "echo"},
		{"a method filter takes its methods", route.Request, "x", "/echo/deep/1", "POST", "deep-post"},
		{"a prefix ending in / matches below it", route.Request, "x", "/api/v1", "GET", "api"},
		{"a host route wins at equal length", route.Request, "example.com:8080", "/echo", "GET", "echo-example"},
		{"host matching ignores case", route.Request, "EXAMPLE.com", "/echo", "GET", "echo-example"},
		{"a wildcard host takes subdomains", route.Request, "a.wild.test", "/x", "GET", "wild"},
		{"a wildcard host does not take its parent", route.Request, "wild.test", "/x", "GET", "root"},
		{"an absolute-form target routes by its path", route.Request, "x", "http://other/echo/z", "GET", "echo"},
		{"an event filter applies", route.Upgrade, "x", "/echo", "GET", "echo"},
		{"no route takes an event nobody lists", route.Upgrade, "x", "/other", "GET", nil},
		{"checkContinue routes are their own", route.CheckContinue, "x", "/expect", "POST", "continue"},
		{"an IPv6 Host is matched without its port", route.Request, "[::1]:80", "/echo", "GET", "echo"},
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
		require.False(t, route.New([]route.Route{{Path: "/", Events: route.Request | route.Upgrade, Target: "x"}}).HasConnect())
	})
}

func TestLookupAllocatesNothing(t *testing.T) {
	table := route.New([]route.Route{{Path: "/echo", Events: route.Request, Target: 1}, {Path: "/", Host: "*.x.test", Events: route.Request, Target: 2}})
	host, target := []byte("a.x.test:80"), []byte("/echo/a?b")
	allocs := testing.AllocsPerRun(100, func() { table.Lookup(route.Request, host, target, "GET") })
	require.Zero(t, allocs)
}
