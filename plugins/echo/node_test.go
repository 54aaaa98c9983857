package echo_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/nodeecho"
	"github.com/hostd/hostd/internal/testutil"
)

// answerBytes sends raw on a new connection to addr and returns the body
// of the answer, which must be a 200.
func answerBytes(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(c, raw)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode, "%s", body)
	return string(body)
}

// allControls is every C0 control character and DEL.
func allControls() string {
	var sb strings.Builder
	for c := range 0x20 {
		sb.WriteByte(byte(c))
	}
	return sb.String() + "\x7f"
}

func post(head, body string) string {
	return fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: h\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", head, len(body), body)
}

// Issue 12 item 6: for the same raw bytes, the echo plugin's answer
// through hostd and a Node v20 server's JSON.stringify of what its
// handler sees are the same bytes.
func TestEchoAnswersWithNodesBytes(t *testing.T) {
	chunked := func(trailers string, chunks ...string) string {
		var sb strings.Builder
		sb.WriteString("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
		for _, c := range chunks {
			fmt.Fprintf(&sb, "%x\r\n%s\r\n", len(c), c)
		}
		return sb.String() + "0\r\n" + trailers + "\r\n"
	}
	cases := []struct {
		name, raw string
		maxBody   int
	}{
		{name: "a GET as wrk sends it", raw: "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
		{name: "an HTTP/1.0 GET without headers", raw: "GET /echo HTTP/1.0\r\n\r\n"},
		{name: "repeated headers: joined, cookies, set-cookie, first-only",
			raw: post("X-Dup: a\r\nCookie: c=1\r\nx-dup: b\r\nSet-Cookie: s=1\r\nCookie: d=2\r\nset-cookie: s=2\r\n"+
				"Content-Type: text/a\r\nHOST: h2\r\nUser-Agent: u1\r\ncontent-type: text/b\r\nuser-agent: u2\r\nAuthorization: a1\r\nAUTHORIZATION: a2\r\n", "x")},
		{name: "mixed-case names in varying order",
			raw: post("x-b: 1\r\nX-A: 2\r\nX-b: 3\r\nx-C: 4\r\nX-a: 5\r\nACCEPT: */*\r\nx-c: 6\r\n", "")},
		{name: "names JavaScript orders or drops",
			raw: post("Zed: z\r\n10: ten\r\n2: two\r\n__proto__: p\r\nconstructor: c1\r\n01: zero-one\r\n"+
				"Constructor: c2\r\ntoString: t\r\n4294967294: last-index\r\n4294967295: not-an-index\r\n0: zero\r\n", "")},
		{name: "latin1 header values", raw: post("X-Latin: caf\xe9 \xff\xa0\x80\r\nX-UTF8: \xc3\xa9\xe2\x80\xa8\r\n", "")},
		{name: "characters encoding/json escapes and JSON.stringify does not",
			raw: "GET /echo?a=1&b='2'&c=\"3\" HTTP/1.1\r\nHost: h\r\nX-Html: <script>&amp;'\"\\</script>\r\n" +
				"X-Tab: a\tb\r\nX-Empty:\r\nConnection: close\r\n\r\n"},
		{name: "control characters and DEL in the body", raw: post("", allControls()+"<>&'\"\\/")},
		{name: "U+2028 and U+2029 in the body", raw: post("", "a\u2028b\u2029c")},
		{name: "non-ASCII in the body", raw: post("", "café € 😀 \uFFFD")},
		{name: "invalid UTF-8 in the body", raw: post("", "\xf0\x90\x80 \xed\xa0\x80 \xc0\xaf \xff\xfe \xe2\x80 \xf4\x90\x80\x80 \x80")},
		{name: "a chunked body with trailers",
			raw: chunked("X-Sum: abc\r\nx-more: 1\r\nX-MORE: 2\r\nSet-Cookie: t=1\r\n5: five\r\n", "hel", "lo, ", "wörld\xff")},
		{name: "a body cut inside a UTF-8 sequence", maxBody: 5, raw: post("", "abcd\xe2\x82\xac and more")},
	}
	nodes, hosts := map[int]string{}, map[int]string{}
	for _, tc := range cases {
		maxBody := tc.maxBody
		if maxBody == 0 {
			maxBody = 1 << 20
		}
		if _, ok := nodes[maxBody]; !ok {
			nodes[maxBody] = testutil.StartNode(t, nodeecho.TestServer(int64(maxBody), "{}"))
			hosts[maxBody] = start(t, maxBody).Addr
		}
		t.Run(tc.name, func(t *testing.T) {
			want := answerBytes(t, nodes[maxBody], tc.raw)
			require.Equal(t, want, answerBytes(t, hosts[maxBody], tc.raw))
		})
	}
}
