package echo

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/internal/testutil"
	"github.com/hostd/hostd/sdk"
)

// stringify is the answer for q written the plain way, by the letter of
// JSON.stringify (ECMA-262 QuoteJSONString, OrdinaryOwnPropertyKeys) over
// the strings a Node handler sees: maps, sorting and string building
// where the encoder reuses its memory. The encoder must equal it byte
// for byte; TestAnswerIsNodesJSONStringify holds both to Node.
func stringify(q *request) string {
	var sb strings.Builder
	obj := func(h sdk.Headers, raw []string) {
		sb.WriteByte('{')
		for i, name := range nodeKeys(h, raw) {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(quote(latin1(name)) + ":")
			if name == "set-cookie" {
				sb.WriteString(list(h[name]))
			} else {
				sb.WriteString(quote(latin1(h[name][0])))
			}
		}
		sb.WriteByte('}')
	}
	sb.WriteString(`{"method":` + quote(latin1(q.method)) + `,"url":` + quote(latin1(q.url)) +
		`,"httpVersion":` + quote(latin1(q.httpVersion)) + `,"headers":`)
	obj(q.headers, q.rawHeaders)
	sb.WriteString(`,"rawHeaders":` + list(q.rawHeaders) + `,"trailers":`)
	obj(q.trailers, q.rawTrailers)
	sb.WriteString(`,"rawTrailers":` + list(q.rawTrailers) + `,"body":` + quote(decodeUTF8(q.body)) +
		`,"bodyLength":` + strconv.FormatInt(q.bodyLength, 10) + "}")
	return sb.String()
}

// quote is QuoteJSONString for a well-formed string.
func quote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\b':
			sb.WriteString(`\b`)
		case '\t':
			sb.WriteString(`\t`)
		case '\n':
			sb.WriteString(`\n`)
		case '\f':
			sb.WriteString(`\f`)
		case '\r':
			sb.WriteString(`\r`)
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&sb, `\u%04x`, r)
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

func list(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = quote(latin1(s))
	}
	return "[" + strings.Join(q, ",") + "]"
}

// nodeKeys is the key order of the object Node folds from raw, as
// JSON.stringify walks it: array indices in numeric order, then names in
// order of first arrival (names of h that raw lacks last, sorted);
// __proto__ is never an own key.
func nodeKeys(h sdk.Headers, raw []string) []string {
	var indices, names []string
	seen := map[string]bool{}
	add := func(name string) {
		v, ok := h[name]
		if seen[name] || !ok || name == "__proto__" || (name != "set-cookie" && len(v) == 0) {
			return
		}
		seen[name] = true
		if n, err := strconv.ParseUint(name, 10, 64); err == nil && strconv.FormatUint(n, 10) == name && n < 1<<32-1 {
			indices = append(indices, name)
		} else {
			names = append(names, name)
		}
	}
	for i := 0; i < len(raw); i += 2 {
		add(httpspec.ToLower(raw[i]))
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		add(name)
	}
	slices.SortFunc(indices, func(a, b string) int {
		x, _ := strconv.ParseUint(a, 10, 64)
		y, _ := strconv.ParseUint(b, 10, 64)
		return int(x) - int(y)
	})
	return append(indices, names...)
}

func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// decodeUTF8 is WHATWG's UTF-8 decode, one maximal subpart at a time.
func decodeUTF8(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n, ok := nextRune(b)
		if ok {
			sb.Write(b[:n])
		} else {
			sb.WriteRune('\uFFFD')
		}
		b = b[n:]
	}
	return sb.String()
}

// requireStringify fails unless appendAnswer writes stringify(q), and
// encoding/json reads back from it every string of the request as Node
// shows it.
func requireStringify(t testing.TB, q *request) {
	t.Helper()
	var keys keyOrder
	got := appendAnswer(nil, q, &keys)
	require.Equal(t, stringify(q), string(got), "for %#v", q)
	require.True(t, json.Valid(got), "%q", got)

	var a Answer
	require.NoError(t, json.Unmarshal(got, &a))
	require.Equal(t, latin1(q.method), a.Method)
	require.Equal(t, latin1(q.url), a.URL)
	require.Equal(t, latin1(q.httpVersion), a.HTTPVersion)
	require.Equal(t, decodeUTF8(q.body), a.Body)
	require.Equal(t, q.bodyLength, a.BodyLength)
	for _, f := range []struct {
		h, decoded sdk.Headers
		raw, list  []string
	}{{q.headers, a.Headers, q.rawHeaders, a.RawHeaders}, {q.trailers, a.Trailers, q.rawTrailers, a.RawTrailers}} {
		require.Len(t, f.list, len(f.raw))
		for i, s := range f.raw {
			require.Equal(t, latin1(s), f.list[i])
		}
		keys := nodeKeys(f.h, f.raw)
		require.Len(t, f.decoded, len(keys))
		for _, k := range keys {
			v := f.h[k]
			if k != "set-cookie" {
				v = v[:1]
			}
			want := make([]string, len(v))
			for i, s := range v {
				want[i] = latin1(s)
			}
			require.Equal(t, want, f.decoded[latin1(k)], "the header %q", k)
		}
	}
}

// pieces are the fragments random strings are made of: every escape
// JSON.stringify makes and those it does not (<, >, &, ', DEL, U+2028,
// U+2029), bytes above 0x7F, well-formed and ill-formed UTF-8, a literal
// U+FFFD.
var pieces = []string{
	"a", "Z", "0", " ", "\"", "\\", "/", "'", "<", ">", "&", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t",
	"\x0b", "\x1f", "\x7f", "\x80", "\xbf", "\xc0", "\xc2", "\xe9", "\xff", "\xe2\x80\xa8", "\xe2\x80\xa9",
	"\xef\xbf\xbd", "é", "€", "😀", "\xe0\xa0", "\xf0\x90\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"caf\xe9", "u1, u2",
}

func randomString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(8) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

// names are header names with a Node rule or a place of their own in a
// JavaScript object's key order.
var names = []string{
	"Host", "host", "Content-Type", "content-type", "User-Agent", "Set-Cookie", "set-cookie", "Cookie",
	"cookie", "X-A", "x-a", "X-a", "X-B", "Accept", "0", "2", "10", "01", "4294967294", "4294967295",
	"99999999999", "__proto__", "__PROTO__", "constructor", "toString", "hasOwnProperty", "a-b_c.d~e!",
}

// randomFields returns a raw field list of names, random tokens and
// random values.
func randomFields(r *rand.Rand) []string {
	var raw []string
	for range r.IntN(10) {
		name := names[r.IntN(len(names))]
		if r.IntN(4) == 0 {
			name = strconv.Itoa(r.IntN(40)) + string("aB-_"[r.IntN(4)])
		}
		raw = append(raw, name, randomString(r))
	}
	return raw
}

// randomRequest is a request as the SDK gives it: headers folded from
// the raw fields by the SDK's rules.
func randomRequest(r *rand.Rand, joinDuplicates bool) *request {
	raw, trailers := randomFields(r), randomFields(r)
	return &request{
		method: randomString(r), url: randomString(r), httpVersion: randomString(r),
		headers: sdk.Headers(httpspec.BuildHeaders(raw, joinDuplicates, 0)), rawHeaders: raw,
		trailers: sdk.Headers(httpspec.BuildHeaders(trailers, joinDuplicates, 0)), rawTrailers: trailers,
		body: []byte(randomString(r) + randomString(r)), bodyLength: r.Int64() >> 11, // a safe integer
	}
}

// nodeStringify reads a JSON list of requests, each with its strings as
// hex, folds each one's fields with Node's own IncomingMessage, and
// prints the hex of what JSON.stringify writes for the object a handler
// builds from it.
const nodeStringify = `
const http = require('http');
const latin1 = (h) => Buffer.from(h, 'hex').toString('latin1');
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((q) => {
    const req = new http.IncomingMessage(null);
    req.joinDuplicateHeaders = q.join;
    const raw = q.rawHeaders.map(latin1), rawTrailers = q.rawTrailers.map(latin1);
    req._addHeaderLines(raw, raw.length);
    req.complete = true;
    req._addHeaderLines(rawTrailers, rawTrailers.length);
    const json = JSON.stringify({
      method: latin1(q.method), url: latin1(q.url), httpVersion: latin1(q.httpVersion),
      headers: req.headers, rawHeaders: req.rawHeaders,
      trailers: req.trailers, rawTrailers: req.rawTrailers,
      body: Buffer.from(q.body, 'hex').toString('utf8'), bodyLength: q.bodyLength,
    });
    return Buffer.from(json, 'utf8').toString('hex');
  });
  process.stdout.write(JSON.stringify(out));
});
`

func hexList(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = hex.EncodeToString([]byte(s))
	}
	return out
}

// Issue 12 item 6: the answer is, byte for byte, what JSON.stringify
// writes in a Node handler for the same request, on random requests made
// of every escape, Node's header rules and JavaScript's key order.
func TestAnswerIsNodesJSONStringify(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var reqs []*request
	var in []map[string]any
	for i := range 3000 {
		join := i%3 == 0
		q := randomRequest(r, join)
		reqs = append(reqs, q)
		in = append(in, map[string]any{
			"join": join, "method": hex.EncodeToString([]byte(q.method)), "url": hex.EncodeToString([]byte(q.url)),
			"httpVersion": hex.EncodeToString([]byte(q.httpVersion)),
			"rawHeaders":  hexList(q.rawHeaders), "rawTrailers": hexList(q.rawTrailers),
			"body": hex.EncodeToString(q.body), "bodyLength": q.bodyLength,
		})
	}
	stdin, err := json.Marshal(in)
	require.NoError(t, err)
	var node []string
	require.NoError(t, json.Unmarshal(testutil.RunNode(t, nodeStringify, string(stdin)), &node))
	require.Len(t, node, len(reqs))
	for i, q := range reqs {
		want, err := hex.DecodeString(node[i])
		require.NoError(t, err)
		var keys keyOrder
		require.Equal(t, string(want), string(appendAnswer(nil, q, &keys)), "for %#v", q)
		require.Equal(t, string(want), stringify(q), "the plain reference, for %#v", q)
	}
}

func TestAnswerEncoding(t *testing.T) {
	t.Run("a typical request", func(t *testing.T) {
		raw := []string{"Host", "h", "X-Latin", "caf\xe9", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "cookie", "c=1"}
		requireStringify(t, &request{
			method: "POST", url: "/echo?a=<b>&c=d", httpVersion: "1.1",
			headers: sdk.Headers(httpspec.BuildHeaders(raw, false, 0)), rawHeaders: raw,
			trailers: sdk.Headers{}, rawTrailers: []string{},
			body: []byte("{\"json\": \"in a body\"}\n\xf0\x90\x80"), bodyLength: 1 << 40,
		})
	})
	t.Run("an empty request: empty arrays and objects, never null", func(t *testing.T) {
		var keys keyOrder
		require.Equal(t, `{"method":"","url":"","httpVersion":"","headers":{},"rawHeaders":[],"trailers":{},`+
			`"rawTrailers":[],"body":"","bodyLength":0}`, string(appendAnswer(nil, &request{}, &keys)))
	})
	t.Run("names in order of first arrival, array indices first, no __proto__", func(t *testing.T) {
		raw := []string{"X-B", "1", "__proto__", "p", "x-a", "2", "10", "t", "x-b", "3", "2", "w", "01", "z", "X-A", "4"}
		var keys keyOrder
		got := appendAnswer(nil, &request{headers: sdk.Headers(httpspec.BuildHeaders(raw, false, 0)), rawHeaders: raw}, &keys)
		require.Contains(t, string(got), `"headers":{"2":"w","10":"t","x-b":"1, 3","x-a":"2, 4","01":"z"}`)
	})
	t.Run("names the fields lack come last, sorted", func(t *testing.T) {
		var keys keyOrder
		got := appendAnswer(nil, &request{headers: sdk.Headers{"c": {"3"}, "b": {"2"}, "a": {"1"}}, rawHeaders: []string{"B", "2"}}, &keys)
		require.Contains(t, string(got), `"headers":{"b":"2","a":"1","c":"3"}`)
	})
	t.Run("only JSON.stringify's escapes", func(t *testing.T) {
		var keys keyOrder
		got := appendAnswer(nil, &request{url: "<>&'\x7f", body: []byte("\x00\x1f\b\t\n\f\r\"\\<>&\x7f\xe2\x80\xa8\xe2\x80\xa9")}, &keys)
		require.Contains(t, string(got), `"url":"<>&'`+"\x7f"+`"`)
		require.Contains(t, string(got), `"body":"\u0000\u001f\b\t\n\f\r\"\\<>&`+"\x7f\u2028\u2029"+`"`)
	})
	t.Run("ten thousand random requests", func(t *testing.T) {
		r := rand.New(rand.NewPCG(12, 34))
		for i := range 10000 {
			requireStringify(t, randomRequest(r, i%2 == 0))
		}
	})
	t.Run("every byte and every pair of bytes in a body and a value", func(t *testing.T) {
		for a := range 256 {
			for b := 0x70; b < 256; b += 3 {
				s := string([]byte{byte(a), byte(b), 'x'})
				raw := []string{"x", s}
				requireStringify(t, &request{headers: sdk.Headers{"x": {s}}, rawHeaders: raw, body: []byte(s)})
			}
		}
	})
}

// FuzzAnswerEncoding: for any bytes, the answer is stringify's, valid
// JSON, and reads back as the strings Node shows.
func FuzzAnswerEncoding(f *testing.F) {
	f.Add("GET", "/", "X-A", "caf\xe9", "10", []byte("\xf0\x90\x80 \xe2\x80\xa8 <&>"))
	f.Add("POST", "/a?b", "set-cookie", "\x00\x7f\xff", "__proto__", []byte("\xed\xa0\x80\xc0\xaf"))
	f.Fuzz(func(t *testing.T, method, url, name, value, other string, body []byte) {
		raw := []string{name, value, other, name, strings.ToUpper(name), other, "set-cookie", value}
		trailers := []string{value, name}
		requireStringify(t, &request{
			method: method, url: url, httpVersion: "1.1",
			headers: sdk.Headers(httpspec.BuildHeaders(raw, false, 0)), rawHeaders: raw,
			trailers: sdk.Headers(httpspec.BuildHeaders(trailers, true, 0)), rawTrailers: trailers,
			body: body, bodyLength: int64(len(body)),
		})
	})
}
