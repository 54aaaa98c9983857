package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/server"
	"github.com/hostd/hostd/internal/testutil"
)

// nodeEcho is the Node v20 side of the differential test: a default
// http.createServer whose handler reads the body and answers with JSON
// describing the request. Header objects are sorted by name so that the
// JSON does not depend on insertion order, and bytes are shown as latin1,
// the way Node decodes header values.
const nodeEcho = `
const http = require('node:http');
const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({
      method: req.method,
      url: req.url,
      httpVersion: req.httpVersion,
      headers: sorted(req.headers),
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks).toString('latin1'),
      trailers: sorted(req.trailers),
      rawTrailers: req.rawTrailers,
    }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`

// describe is our side: the same handler as nodeEcho.
func describe(req *server.IncomingMessage, res *server.ServerResponse) {
	body, err := readBody(req)
	if err != nil {
		return // the connection is gone
	}
	headers := map[string]any{}
	for name, v := range req.Headers() {
		if name == "set-cookie" {
			headers[name] = latin1All(v)
		} else {
			headers[name] = latin1(v[0])
		}
	}
	trailers := map[string]any{}
	for name, v := range req.Trailers() {
		if name == "set-cookie" {
			trailers[name] = latin1All(v)
		} else {
			trailers[name] = latin1(v[0])
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Method      string         `json:"method"`
		URL         string         `json:"url"`
		HTTPVersion string         `json:"httpVersion"`
		Headers     map[string]any `json:"headers"`
		RawHeaders  []string       `json:"rawHeaders"`
		Body        string         `json:"body"`
		Trailers    map[string]any `json:"trailers"`
		RawTrailers []string       `json:"rawTrailers"`
	}{req.Method(), req.URL(), req.HTTPVersion(), headers, latin1All(req.RawHeaders()),
		latin1(body), trailers, latin1All(req.RawTrailers())})
	_ = res.SetHeader("Content-Type", "application/json")
	_ = res.End(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// latin1 decodes s as ISO-8859-1, as Node decodes header bytes.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func latin1All(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = latin1(s)
	}
	return out
}

// startNode runs the Node v20 script src and returns the address it
// listens on. The process ends with the test.
func startNode(t *testing.T, src string) string { return testutil.StartNode(t, src) }

// exchangeRaw sends raw to addr and returns every byte the server sends
// until it closes the connection, or stays quiet for quiet after its
// first byte (firstByte before it).
func exchangeRaw(addr, raw string, firstByte, quiet time.Duration) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	if _, err := nc.Write([]byte(raw)); err != nil {
		return "", err
	}
	var out []byte
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(ioTimeout)
	for time.Now().Before(deadline) {
		wait := quiet
		if len(out) == 0 {
			wait = firstByte
		}
		_ = nc.SetReadDeadline(time.Now().Add(wait))
		n, err := nc.Read(buf)
		out = append(out, buf[:n]...)
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return string(out), nil
		default:
			return string(out), nil // EOF or reset: the server closed
		}
	}
	return "", errors.New("the server kept sending")
}

// diffCase is one byte sequence sent to Node and to us. note documents a
// deliberate difference: then want is what our server must send instead
// of Node's bytes.
type diffCase struct {
	name, raw  string
	note, want string
	adjust     func(node string) string // makes want from Node's answer
	silent     bool                     // Node sends nothing at all
}

// noteLength is hostd's deliberate difference from Node for an answer
// whose length is known as its head goes out (End with data, or End
// alone, before any write).
const noteLength = "an answer whose length is known as its head goes out declares it (Node does not on HTTP/1.0 and HEAD), so an HTTP/1.0 keep-alive connection is kept and a HEAD answer carries the length its GET would have had"

// declaredLength returns the adjustment of noteLength: Node's answer with
// "Content-Length: n" added (n < 0: the length of Node's close-delimited
// body), and for an HTTP/1.0 client that asked, the connection kept.
func declaredLength(n int, keepAlive bool) func(string) string {
	return func(node string) string {
		head, body, _ := strings.Cut(node, "\r\n\r\n")
		if n < 0 {
			n = len(body)
		}
		if keepAlive {
			head = strings.Replace(head, "Connection: close", "Connection: keep-alive\r\nKeep-Alive: timeout=5", 1)
		}
		return head + "\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n" + body
	}
}

// compareWithNode sends every case to both servers at once, each on its
// own connection, then compares the responses with the Date values
// masked. Running the exchanges concurrently keeps the quiet periods
// that end keep-alive exchanges from adding up.
func compareWithNode(t *testing.T, nodeAddr, ourAddr string, cases []diffCase) {
	t.Helper()
	const firstByte, quiet = 5 * time.Second, 500 * time.Millisecond
	type outcome struct {
		node, ours       string
		nodeErr, oursErr error
	}
	got := make([]outcome, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Add(2)
		go func() { defer wg.Done(); got[i].node, got[i].nodeErr = exchangeRaw(nodeAddr, tc.raw, firstByte, quiet) }()
		go func() { defer wg.Done(); got[i].ours, got[i].oursErr = exchangeRaw(ourAddr, tc.raw, firstByte, quiet) }()
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, got[i].nodeErr, "node")
			require.NoError(t, got[i].oursErr, "ours")
			node, ours := maskDate(got[i].node), maskDate(got[i].ours)
			require.NotContains(t, node, "no route", "the Node script lacks a route")
			require.Equal(t, tc.silent, node == "", "whether Node answers at all")
			if tc.adjust != nil {
				tc.want = tc.adjust(node)
			}
			if tc.note == "" {
				require.Equal(t, node, ours, "our server differs from Node v20")
				return
			}
			require.NotEqual(t, node, tc.want, "a documented difference that no longer exists: %s", tc.note)
			require.Equal(t, tc.want, ours, "deliberate difference: %s", tc.note)
		})
	}
}

// differentialCases are the byte sequences sent to both servers.
var differentialCases = []diffCase{
	{name: "a simple GET", raw: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"},
	{name: "a GET with a query and several headers", raw: "GET /a/b?c=d&e=%20f HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\nX-Empty:\r\nX-Padded:   spaced value  \r\n\r\n"},
	{name: "a __proto__ header is in rawHeaders only, as in Node", raw: "GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\nX-A: 1\r\n\r\n"},
	{name: "a __proto__ trailer is in rawTrailers only", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n__proto__: y\r\nX-T: 2\r\n\r\n"},
	{name: "repeated headers follow Node's joining rules", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nCookie: a=1\r\ncookie: b=2\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\nAccept: text/html\r\nACCEPT: text/plain\r\nContent-Type: a/b\r\nContent-Type: c/d\r\nX-Custom: 1\r\nx-custom: 2\r\n\r\n"},
	{name: "a POST with a Content-Length body", raw: "POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"},
	{name: "a POST with an empty body", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"},
	{name: "a chunked POST with trailers", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-Other: a\r\n\r\n"},
	{name: "a chunked POST with chunk extensions", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value;q=\"quoted\"\r\nabc\r\n0\r\n\r\n"},
	{name: "binary body bytes", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n\x00\xff\x80\x7f"},
	{name: "obs-text in a header value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xe9\r\n\r\n"},
	{name: "three pipelined GETs", raw: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "pipelined requests with bodies", raw: "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"},
	{
		name: "a pipelined request after Connection: close is ignored",
		raw:  "GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
		note: "llhttp refuses bytes after a Connection: close message (HPE_CLOSED_CONNECTION), and Node parses the whole packet before its asynchronous handler answers, so its 400 replaces the response to the good request; we answer the good request and close without reading further",
		want: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: X\r\nConnection: close\r\nContent-Length: 179\r\n\r\n" +
			`{"method":"GET","url":"/1","httpVersion":"1.1","headers":{"connection":"close","host":"a"},"rawHeaders":["Host","a","Connection","close"],"body":"","trailers":{},"rawTrailers":[]}`,
	},
	{
		name: "a malformed request after a good one",
		raw:  "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nBAD /2 HTTP/1.1\r\nHost: a\r\n\r\n",
		note: "Node parses the whole packet before its asynchronous handler answers, so its 400 replaces the response to the good request; we send that response first, then the 400",
		want: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 137\r\n\r\n" +
			`{"method":"GET","url":"/1","httpVersion":"1.1","headers":{"host":"a"},"rawHeaders":["Host","a"],"body":"","trailers":{},"rawTrailers":[]}` +
			"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
	},
	{name: "an HTTP/1.0 request gets a close-delimited body", raw: "GET / HTTP/1.0\r\n\r\n", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "an HTTP/1.0 keep-alive request", raw: "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", note: noteLength,
		want: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 167\r\n\r\n{\"method\":\"GET\",\"url\":\"/1\",\"httpVersion\":\"1.0\",\"headers\":{\"connection\":\"keep-alive\"},\"rawHeaders\":[\"Connection\",\"keep-alive\"],\"body\":\"\",\"trailers\":{},\"rawTrailers\":[]}" +
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: X\r\nConnection: close\r\nContent-Length: 117\r\n\r\n{\"method\":\"GET\",\"url\":\"/2\",\"httpVersion\":\"1.0\",\"headers\":{},\"rawHeaders\":[],\"body\":\"\",\"trailers\":{},\"rawTrailers\":[]}"},
	{name: "an HTTP/1.0 POST", raw: "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "an HTTP/1.0 request that accepts chunked", raw: "GET / HTTP/1.0\r\nTE: chunked\r\nConnection: keep-alive\r\n\r\n"},
	{name: "an HTTP/0.9 request line", raw: "GET /\r\n\r\n", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "an HTTP/2.0 request line", raw: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "Connection: close", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	{name: "Connection: keep-alive on HTTP/1.1", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n"},
	{name: "a HEAD request", raw: "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", note: noteLength, adjust: declaredLength(137, false)},
	{name: "a HEAD request then a GET", raw: "HEAD /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", note: noteLength,
		adjust: func(node string) string {
			return strings.Replace(node, "timeout=5\r\n\r\n", "timeout=5\r\nContent-Length: 138\r\n\r\n", 1)
		}},
	{name: "an OPTIONS * request", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "an absolute-form target", raw: "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n"},
	{name: "empty lines before the request line", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "several spaces in the request line", raw: "GET  /x  HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "a missing Host on HTTP/1.1", raw: "GET / HTTP/1.1\r\n\r\n"},
	{name: "an empty Host", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
	{name: "Expect: 100-continue with the body", raw: "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"},
	{name: "Expect: 100-continue in another case", raw: "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc"},
	{
		name: "Expect: 100-continue without a body",
		raw:  "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
		note: "the issue's rule: 100 Continue is sent when the body is first read, and a request without a body has nothing to read",
		want: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: X\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 184\r\n\r\n" +
			`{"method":"GET","url":"/","httpVersion":"1.1","headers":{"expect":"100-continue","host":"a"},"rawHeaders":["Host","a","Expect","100-continue"],"body":"","trailers":{},"rawTrailers":[]}`,
	},
	{name: "another Expect value gets 417", raw: "GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n"},
	{name: "an Expect value on HTTP/1.0 is ignored", raw: "GET / HTTP/1.0\r\nExpect: something\r\n\r\n", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "an unknown method", raw: "FOO / HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "SOURCE with ICE/1.0 is an HTTP/1.0 request", raw: "SOURCE /mount ICE/1.0\r\nContent-Length: 3\r\n\r\nabc", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "OPTIONS with RTSP/1.0 is an HTTP/1.0 request", raw: "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "GET with RTSP/1.1 keeps the connection", raw: "GET /1 RTSP/1.1\r\nHost: a\r\n\r\nGET /2 RTSP/1.1\r\nHost: a\r\n\r\n"},
	{name: "an RTSP method with RTSP/1.0", raw: "DESCRIBE rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\n\r\n",
		note: "llhttp takes RTSP's own methods, which are not in http.METHODS; hostd refuses them (internal/http1's stricter reasons)",
		want: "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"},
	{name: "a lower-case method", raw: "get / HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "the HTTP/2 preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
	{name: "an unsupported version", raw: "GET / HTTP/1.2\r\nHost: a\r\n\r\n"},
	{name: "a misspelled protocol", raw: "GET / HTPP/1.1\r\nHost: a\r\n\r\n"},
	{name: "a control character in the target", raw: "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "a relative target", raw: "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "bare LF line endings", raw: "GET / HTTP/1.1\nHost: a\n\n"},
	{name: "a bare LF after a header", raw: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n"},
	{name: "whitespace before the colon", raw: "GET / HTTP/1.1\r\nHost : a\r\n\r\n"},
	{name: "an invalid character in a header name", raw: "GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n"},
	{name: "a control character in a header value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"},
	{name: "obs-fold", raw: "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  b\r\n\r\n"},
	{name: "a header line without a colon", raw: "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"},
	{name: "two Content-Length headers", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na"},
	{name: "a non-numeric Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\na"},
	{name: "Content-Length with Transfer-Encoding", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{name: "a Transfer-Encoding that does not end in chunked", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
	{name: "chunked followed by another coding", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"},
	{name: "an invalid chunk size", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
	{name: "chunk data without its CRLF", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"},
	{name: "a Content-Length trailer", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nContent-Length: 1\r\n\r\n"},
	{name: "a head over 16 KiB", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("a", 17<<10) + "\r\n\r\n"},
	{name: "chunk extensions over 16 KiB", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" + strings.Repeat("b", 17<<10) + "\r\nx\r\n0\r\n\r\n"},
	{name: "upper-case hex chunk sizes", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n"},
	{name: "a last chunk with an extension", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0;final=yes\r\n\r\n"},
	{name: "a chunked body in many small chunks", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1\r\nz\r\n", 300) + "0\r\n\r\n"},
	{name: "a 100 KiB body", raw: "PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 102400\r\n\r\n" + strings.Repeat("0123456789abcdef", 6400)},
	{name: "gzip then chunked is a valid Transfer-Encoding", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"},
	{name: "chunked on HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", note: noteLength, adjust: declaredLength(-1, false)},
	{name: "a GET with a body", raw: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"},
	{name: "less common methods", raw: "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\nPATCH /y HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n1PURGE /z HTTP/1.1\r\nHost: a\r\n\r\nM-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\nQUERY /q HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "every token character in a header name", raw: "GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"},
	{name: "a tab in a header value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-Tab: a\tb\t\r\n\r\n"},
	{name: "a long URL", raw: "GET /" + strings.Repeat("p", 8000) + " HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "a hundred headers", raw: "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Many: v\r\n", 100) + "\r\n"},
	{name: "Host with a port and an IPv6 literal", raw: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"},
	{name: "Connection: close and keep-alive together", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n"},
	{name: "an h2c upgrade without an upgrade handler", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"},
	{name: "a space before the method", raw: " GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
	{name: "a space after the version", raw: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"},
	{name: "a NUL in a header name", raw: "GET / HTTP/1.1\r\nHost: a\r\nX\x00: y\r\n\r\n"},
	{name: "a negative Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"},
	{name: "an Upgrade request without an upgrade handler is a normal request", raw: "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
	{name: "CONNECT without a connect handler closes the connection", raw: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", silent: true},
}

func TestDifferentialAgainstNode(t *testing.T) {
	nodeAddr := startNode(t, nodeEcho)
	_, ourAddr := start(t, server.Options{Handlers: server.Handlers{Request: describe}})
	compareWithNode(t, nodeAddr, ourAddr, differentialCases)
}
