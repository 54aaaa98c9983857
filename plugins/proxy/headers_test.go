package proxy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/httpspec"
)

func TestRequestFields(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     []string
		upgrade bool
		keep    bool // preserve_host
		want    []string
		body    bool
		chunked bool
		expect  bool
	}{
		{
			name: "hop-by-hop fields go, the others stay in order",
			raw:  []string{"Host", "a", "X-1", "1", "connection", "X-Named, keep-alive", "X-Named", "n", "Keep-Alive", "5", "proxy-connection", "x", "x-1", "2"},
			want: []string{"Host", "up:1", "X-1", "1", "x-1", "2", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
		},
		{
			name: "TE stays as trailers only",
			raw:  []string{"Host", "a", "TE", "deflate, trailers", "te", "gzip"},
			want: []string{"Host", "up:1", "TE", "trailers", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
		},
		{
			name: "TE named by Connection goes whole",
			raw:  []string{"Host", "a", "Connection", "TE", "TE", "trailers"},
			want: []string{"Host", "up:1", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
		},
		{
			name: "a chunked body is re-framed chunked, in its place",
			raw:  []string{"Host", "a", "Transfer-Encoding", "gzip, chunked", "X-2", "2"},
			want: []string{"Host", "up:1", "Transfer-Encoding", "chunked", "X-2", "2", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
			body: true, chunked: true,
		},
		{
			name: "X-Forwarded-For is appended to, in the first one's place; the others are set anew",
			raw:  []string{"X-Forwarded-For", "1.1.1.1", "Host", "a", "x-forwarded-for", "2.2.2.2", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "b", "Content-Length", "3"},
			want: []string{"X-Forwarded-For", "1.1.1.1, 2.2.2.2, 10.0.0.9", "Host", "up:1", "Content-Length", "3", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
			body: true,
		},
		{
			name:   "no Host: the upstream's comes first",
			raw:    []string{"X-Forwarded-For", "1.1.1.1", "Expect", "100-continue", "Content-Length", "0"},
			want:   []string{"Host", "up:1", "X-Forwarded-For", "1.1.1.1, 10.0.0.9", "Expect", "100-continue", "Content-Length", "0", "X-Forwarded-Proto", "http"},
			expect: true,
		},
		{
			name: "preserve_host keeps the client's",
			raw:  []string{"hOsT", "front:8080"},
			keep: true,
			want: []string{"hOsT", "front:8080", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "front:8080"},
		},
		{
			name:    "an upgrade keeps Upgrade and says Connection: Upgrade",
			raw:     []string{"Host", "a", "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Key", "k"},
			upgrade: true,
			want:    []string{"Host", "up:1", "Upgrade", "websocket", "Sec-WebSocket-Key", "k", "Connection", "Upgrade", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
		},
		{
			name: "Upgrade goes without an upgrade",
			raw:  []string{"Host", "a", "Upgrade", "h2c"},
			want: []string{"Host", "up:1", "X-Forwarded-For", "10.0.0.9", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := requestFields(tc.raw, "up:1", tc.keep, tc.upgrade, forwardedFor{clientIP: "10.0.0.9", proto: "http"})
			require.Equal(t, tc.want, out.fields)
			require.Equal(t, tc.body, out.body, "body")
			require.Equal(t, tc.chunked, out.chunked, "chunked")
			require.Equal(t, tc.expect, out.expect, "expect")
		})
	}
}

func TestResponseFields(t *testing.T) {
	raw := []string{"Set-Cookie", "a", "Connection", "close, X-Hop", "X-Hop", "1", "Keep-Alive", "timeout=5",
		"Transfer-Encoding", "chunked", "TE", "trailers", "Upgrade", "h2c", "Proxy-Connection", "x", "set-cookie", "b", "Trailer", "X-Sum"}
	require.Equal(t, []string{"Set-Cookie", "a", "set-cookie", "b", "Trailer", "X-Sum"}, responseFields(raw, false))
	require.Equal(t, []string{"Connection", "Upgrade", "Upgrade", "websocket", "X-A", "1"},
		responseFields([]string{"Connection", "Upgrade", "Upgrade", "websocket", "X-A", "1", "Keep-Alive", "1"}, true))
}

func TestParseUpstream(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want upstream
		err  string
	}{
		{in: "http://127.0.0.1:9000", want: upstream{name: "http://127.0.0.1:9000", host: "127.0.0.1", port: 9000, hostHeader: "127.0.0.1:9000"}},
		{in: "http://[::1]", want: upstream{name: "http://[::1]", host: "::1", port: 80, hostHeader: "[::1]"}},
		{in: "http://example.com/", want: upstream{name: "http://example.com/", host: "example.com", port: 80, hostHeader: "example.com"}},
		{in: "https://example.com", err: "want http://host:port or unix:/path"},
		{in: "unix:/run/app.sock", want: upstream{name: "unix:/run/app.sock", socketPath: "/run/app.sock", hostHeader: "localhost"}},
		{in: "unix:", err: "needs a socket path"},
		{in: "ftp://h", err: "want http://host:port or unix:/path"},
		{in: "http://h/base", err: "without path"},
		{in: "http://h:0", err: "bad port"},
		{in: "", err: "want http://host:port or unix:/path"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseUpstream(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// FuzzRequestFields feeds arbitrary header lists, as a client may send
// them, to the upstream request's fields: nothing hop-by-hop gets through,
// there is one Host, the fields kept keep their order, and what this hop
// adds is there once.
func FuzzRequestFields(f *testing.F) {
	f.Add("Host: a\nConnection: X-A, close\nX-A: 1\nTE: trailers\nX-B: 2\n", false)
	f.Add("Upgrade: websocket\nConnection: upgrade\nX-Forwarded-For: 1.2.3.4\n", true)
	f.Add("Transfer-Encoding: chunked\nKeep-Alive: 1\nProxy-Connection: x\nhost: b\nHOST: c\n", false)
	f.Fuzz(func(t *testing.T, lines string, upgrade bool) {
		var raw []string
		for _, l := range strings.Split(lines, "\n") {
			if name, value, ok := strings.Cut(l, ":"); ok && httpspec.IsToken(name) {
				raw = append(raw, name, strings.TrimSpace(value))
			}
		}
		out := requestFields(raw, "up", false, upgrade, forwardedFor{clientIP: "10.0.0.1", proto: "http"})
		hop := newHopByHop(raw)
		hosts, protos := 0, 0
		next := 0 // where the next kept input field may be found
		for i := 0; i < len(out.fields); i += 2 {
			name, value := out.fields[i], out.fields[i+1]
			switch {
			case httpspec.EqualFoldASCII(name, "host"):
				hosts++
				require.Equal(t, "up", value)
			case httpspec.EqualFoldASCII(name, "x-forwarded-proto"):
				protos++
			case httpspec.EqualFoldASCII(name, "connection"):
				require.True(t, upgrade, "Connection only for an upgrade")
				require.Equal(t, "Upgrade", value)
			case httpspec.EqualFoldASCII(name, "upgrade"):
				require.True(t, upgrade)
			case httpspec.EqualFoldASCII(name, "te"):
				require.Equal(t, "trailers", value)
			case httpspec.EqualFoldASCII(name, "transfer-encoding"):
				require.Equal(t, "chunked", value)
			case httpspec.EqualFoldASCII(name, "x-forwarded-for"), httpspec.EqualFoldASCII(name, "x-forwarded-host"):
			default:
				require.False(t, hop.drops(name), "hop-by-hop %q got through", name)
				found := false
				for ; next+1 < len(raw); next += 2 {
					if raw[next] == name && raw[next+1] == value {
						found = true
						next += 2
						break
					}
				}
				require.True(t, found, "%q: %q is not from the client, or out of order", name, value)
			}
		}
		require.Equal(t, 1, hosts)
		require.Equal(t, 1, protos)
	})
}
