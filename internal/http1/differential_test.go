package http1_test

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
	"github.com/hostd/hostd/internal/testutil"
)

//go:embed testdata/llhttp_harness.js
var llhttpHarness []byte

// diffCase is one input of the differential test.
type diffCase struct {
	Name     string
	Response bool
	Raw      []byte
	Max      int // MaxHeaderSize, 0 for the default
}

// nodeResult is what testdata/llhttp_harness.js prints for one case.
type nodeResult struct {
	Log    []string `json:"log"`
	Offset int      `json:"offset"`
}

// runNode runs every case through Node's llhttp, split between a few
// node processes that run at once.
func runNode(t *testing.T, node string, cases []diffCase) []nodeResult {
	t.Helper()
	script := filepath.Join(t.TempDir(), "llhttp_harness.js")
	require.NoError(t, os.WriteFile(script, llhttpHarness, 0o600))
	procs := min(runtime.NumCPU(), 4)
	per := (len(cases) + procs - 1) / procs
	results := make([][]nodeResult, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := 0; i < procs; i++ {
		part := cases[min(i*per, len(cases)):min((i+1)*per, len(cases))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = runNodeProcess(node, script, part)
		}()
	}
	wg.Wait()
	var all []nodeResult
	for i := range results {
		require.NoError(t, errs[i])
		all = append(all, results[i]...)
	}
	require.Len(t, all, len(cases))
	return all
}

// runNodeProcess runs cases through one node process.
func runNodeProcess(node, script string, cases []diffCase) ([]nodeResult, error) {
	type jsCase struct {
		Kind string `json:"kind"`
		Raw  string `json:"raw"`
		Max  int    `json:"max,omitempty"`
	}
	in := struct {
		Cases []jsCase `json:"cases"`
	}{}
	for _, c := range cases {
		kind := "request"
		if c.Response {
			kind = "response"
		}
		max := c.Max
		if max == 0 {
			max = http1.DefaultMaxHeaderSize
		}
		in.Cases = append(in.Cases, jsCase{Kind: kind, Raw: base64.StdEncoding.EncodeToString(c.Raw), Max: max})
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(node, "--no-deprecation", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node: %w: %s", err, stderr.String())
	}
	var res []nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}
	if len(res) != len(cases) {
		return nil, fmt.Errorf("node answered %d cases of %d", len(res), len(cases))
	}
	return res, nil
}

// TestDifferential runs the golden inputs and thousands of mutations of
// them through Node v20's llhttp and through this package, and requires
// the same transcript: the same verdict, the same error code and offset
// when both refuse, the same method, target, version, fields, body,
// trailers, keep-alive and upgrade when both accept. The only allowed
// differences are the refusals the parser documents as deliberately
// stricter than Node (http1.StricterReasons).
func TestDifferential(t *testing.T) {
	node := testutil.Node(t)
	golden := loadGolden(t)
	cases := make([]diffCase, 0, 200_000)
	for _, g := range golden {
		cases = append(cases, diffCase{Name: "golden " + g.File + "/" + g.Name, Response: g.Response, Raw: g.Raw, Max: g.MaxHeader})
	}
	cases = append(cases, mutations(golden)...)
	results := runNode(t, node, cases)

	t.Run("golden_cases_match_node", func(t *testing.T) {
		for i, g := range golden {
			want := g.Want
			if g.Node != nil {
				want = g.Node
			}
			require.Equal(t, want, results[i].Log, "%s:%d: %s: Node's transcript of %q", g.File, g.Line, g.Name, g.Raw)
		}
	})

	t.Run("parser_matches_node", func(t *testing.T) {
		var bad []string
		classes := map[string]int{}
		for i, c := range cases {
			ours := runTranscript(c.Response, c.Raw, c.Max, 0)
			if msg := compareWithNode(ours, results[i], len(c.Raw)); msg != "" {
				classes[mismatchClass(ours, results[i])]++
				if len(bad) < 40 {
					bad = append(bad, fmt.Sprintf("%s: %q\n%s", c.Name, c.Raw, msg))
				}
			}
		}
		if len(bad) > 0 {
			var summary []string
			for k, v := range classes {
				summary = append(summary, fmt.Sprintf("%6d  %s", v, k))
			}
			sort.Sort(sort.Reverse(sort.StringSlice(summary)))
			t.Fatalf("%d of %d inputs differ from Node; by class:\n%s\nfirst ones:\n%s",
				sumValues(classes), len(cases), strings.Join(summary, "\n"), strings.Join(bad, "\n\n"))
		}
		t.Logf("%d inputs, all as Node parses them or refused as documented", len(cases))
	})
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// compareWithNode returns "" when ours is what Node produced, or is a
// documented stricter refusal where Node accepts; else a description.
func compareWithNode(ours transcript, node nodeResult, inputLen int) string {
	if slices.Equal(ours.Log, node.Log) && ours.Offset == node.Offset {
		return ""
	}
	if n := len(node.Log); n > 0 && len(ours.Log) == n && ours.errorCode() != "" &&
		slices.Equal(ours.Log[:n-1], node.Log[:n-1]) && slices.Contains(node.Log, "upgrade true") &&
		(node.Log[n-1] == fmt.Sprintf("error ignored for upgrade at %d", ours.Offset) ||
			node.Log[n-1] == "incomplete" && ours.Offset == inputLen) {
		// Node ignores an error in the body of an upgrade request and
		// hands the bytes from the error on to its 'upgrade' handler (an
		// error at the end of the input then looks like an incomplete
		// body); hostd refuses the body at the same byte. See the golden
		// case pipelining/upgrade_with_bad_body.
		return ""
	}
	if slices.Contains(http1.StricterReasons, ours.Reason) && ours.errorCode() != "" {
		// A deliberate refusal: everything before it must agree, and
		// Node must not have refused earlier.
		prefix := ours.Log[:len(ours.Log)-1]
		if len(node.Log) >= len(prefix) && slices.Equal(prefix, node.Log[:len(prefix)]) {
			return ""
		}
	}
	return fmt.Sprintf("ours (offset %d, %s):\n  %s\nnode (offset %d):\n  %s",
		ours.Offset, ours.Reason, strings.Join(ours.Log, "\n  "), node.Offset, strings.Join(node.Log, "\n  "))
}

// mismatchClass names a kind of difference, to summarize failures.
func mismatchClass(ours transcript, node nodeResult) string {
	n := transcript{Log: node.Log, Offset: node.Offset}
	oc, nc := ours.errorCode(), n.errorCode()
	switch {
	case oc == "" && nc == "":
		return "both accept, transcripts differ"
	case oc != "" && nc == "":
		return "ours refuses " + oc + ", node accepts"
	case oc == "" && nc != "":
		return "ours accepts, node refuses " + nc
	case oc != nc:
		return "codes differ: ours " + oc + ", node " + nc
	case ours.Offset != node.Offset:
		return "offsets differ for " + oc
	}
	return "same code " + oc + ", transcripts differ"
}

// mutations derives inputs from the golden cases and from templates:
// every byte inserted at and substituted for each position of short
// messages, bytes deleted, every prefix, line ends doubled, dropped and swapped,
// Content-Length, Transfer-Encoding and Connection combinations, and
// seeded random edits.
func mutations(golden []goldenCase) []diffCase {
	var out []diffCase
	add := func(name string, response bool, raw []byte) {
		out = append(out, diffCase{Name: name, Response: response, Raw: raw})
	}
	type template struct {
		name     string
		response bool
		raw      string
	}
	templates := []template{
		{"get", false, "GET /p?q=1#f HTTP/1.1\r\nHost: a.b\r\nX-A: v w\r\n\r\n"},
		{"post_cl", false, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"},
		{"post_chunked", false, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e=v\r\nhello\r\n0\r\nT: x\r\n\r\n"},
		{"chunked_quoted_ext", false, "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"q\\\"x\"\r\nabc\r\n0\r\n\r\n"},
		{"absolute_form", false, "GET http://u@h:80/p?q HTTP/1.1\r\n\r\n"},
		{"connect", false, "CONNECT h.example:443 HTTP/1.1\r\n\r\n"},
		{"pipelined", false, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"},
		{"upgrade", false, "GET / HTTP/1.1\r\nUpgrade: ws\r\nConnection: upgrade\r\n\r\n"},
		{"http09", false, "GET /\r\n\r\n"},
		{"response_cl", true, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"},
		{"response_chunked", true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{"response_eof", true, "HTTP/1.0 404 Not Found\r\n\r\nbody"},
	}
	for _, tp := range templates {
		raw := []byte(tp.raw)
		add(tp.name, tp.response, raw)
		for i := 0; i <= len(raw); i++ {
			for c := 0; c < 256; c++ {
				add(fmt.Sprintf("%s insert %#02x at %d", tp.name, c, i), tp.response, splice(raw, i, 0, []byte{byte(c)}))
				if i < len(raw) && byte(c) != raw[i] {
					add(fmt.Sprintf("%s replace %d with %#02x", tp.name, i, c), tp.response, splice(raw, i, 1, []byte{byte(c)}))
				}
			}
			if i < len(raw) {
				add(fmt.Sprintf("%s delete %d", tp.name, i), tp.response, splice(raw, i, 1, nil))
			}
		}
	}

	// Every prefix of every golden input: an input that ends early must
	// be refused at the same byte or be incomplete, as in llhttp.
	for _, g := range golden {
		for i := 1; i < len(g.Raw) && i < 400; i++ {
			add(fmt.Sprintf("golden %s prefix %d", g.Name, i), g.Response, g.Raw[:i])
		}
	}

	// Line ends of every golden input: each CR and LF dropped, doubled
	// and replaced by the other.
	for _, g := range golden {
		for i, c := range g.Raw {
			if c != '\r' && c != '\n' {
				continue
			}
			other := byte('\r')
			if c == '\r' {
				other = '\n'
			}
			name := fmt.Sprintf("golden %s line end %d", g.Name, i)
			add(name+" dropped", g.Response, splice(g.Raw, i, 1, nil))
			add(name+" doubled", g.Response, splice(g.Raw, i, 0, []byte{c}))
			add(name+" swapped", g.Response, splice(g.Raw, i, 1, []byte{other}))
		}
	}

	out = append(out, framingCombinations()...)
	out = append(out, startLineVariants()...)
	out = append(out, chunkVariants()...)
	out = append(out, sizeBoundaries()...)

	// Seeded random edits of the golden inputs: a few bytes changed,
	// inserted or removed at once.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("\x00\t\n\r \"#,/:;=?@\\\x7f\x80\xffaAzZ09-_.")
	for round := 0; round < 8; round++ {
		for _, g := range golden {
			raw := slices.Clone(g.Raw)
			for k := 1 + rng.IntN(3); k > 0 && len(raw) > 0; k-- {
				i := rng.IntN(len(raw))
				c := alphabet[rng.IntN(len(alphabet))]
				switch rng.IntN(3) {
				case 0:
					raw[i] = c
				case 1:
					raw = splice(raw, i, 0, []byte{c})
				default:
					raw = splice(raw, i, 1, nil)
				}
			}
			add(fmt.Sprintf("golden %s random %d", g.Name, round), g.Response, raw)
		}
	}

	// The header-size limit at every size around a message's own size.
	for _, tp := range templates {
		for max := 1; max <= len(tp.raw)+2; max++ {
			out = append(out, diffCase{Name: fmt.Sprintf("%s max %d", tp.name, max), Response: tp.response, Raw: []byte(tp.raw), Max: max})
		}
	}
	return out
}

// splice returns a copy of b with n bytes at i replaced by ins.
func splice(b []byte, i, n int, ins []byte) []byte {
	out := make([]byte, 0, len(b)-n+len(ins))
	out = append(out, b[:i]...)
	out = append(out, ins...)
	return append(out, b[i+n:]...)
}

// framingCombinations pairs Content-Length, Transfer-Encoding and
// Connection variants, in both orders, for requests and responses, each
// followed by a body that would be read differently under each framing
// and a second message.
func framingCombinations() []diffCase {
	cls := []string{
		"Content-Length: 5", "Content-Length: 05", "Content-Length: 0", "Content-Length:5",
		"Content-Length: 5 ", "Content-Length: 5\t", "Content-Length: \t5", "content-length: 5",
		"Content-Length: 5, 5", "Content-Length: 5,5", "Content-Length: +5", "Content-Length: -1",
		"Content-Length: 5 5", "Content-Length: 0x5", "Content-Length: ", "Content-Length:",
		"Content-Length: 99999999999999999999", "Content-Length: 9223372036854775807",
		"Content-Length: 18446744073709551615", "Content-Length: 18446744073709551616",
		"Content-Length : 5", "Content-Length\t: 5", "Content-Lengthx: 5", "Content-Lengt: 5",
	}
	tes := []string{
		"Transfer-Encoding: chunked", "Transfer-Encoding: Chunked", "Transfer-Encoding: CHUNKED",
		"Transfer-Encoding: chunked ", "Transfer-Encoding: chunked\t", "Transfer-Encoding:  chunked",
		"Transfer-Encoding:\tchunked", "Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip,chunked",
		"Transfer-Encoding: gzip,\tchunked", "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: chunked,",
		"Transfer-Encoding: chunked ,", "Transfer-Encoding: ,chunked", "Transfer-Encoding: , chunked",
		"Transfer-Encoding: chunked, chunked", "Transfer-Encoding: identity", "Transfer-Encoding: gzip",
		"Transfer-Encoding: ", "Transfer-Encoding: chunkedx", "Transfer-Encoding: xchunked",
		"Transfer-Encoding: gzip chunked", "Transfer-Encoding: chunked;q=1", "Transfer-Encoding: \"chunked\"",
		"transfer-encoding: chunked", "Transfer-Encoding : chunked", "Transfer-Encodings: chunked",
	}
	conns := []string{
		"Connection: close", "Connection: Close", "Connection: keep-alive", "Connection: Keep-Alive",
		"Connection: upgrade", "Connection: close, keep-alive", "Connection: keep-alive, close",
		"Connection: foo, close", "Connection: closex", "Connection: close ", "Connection: close,",
		"Connection: ,close", "Connection: clo se", "Connection: keep-alive\t", "Connection: x close",
		"Connection: close\t,", "Connection: keep-alive,upgrade", "Connection:", "Connection: \tclose",
		"Proxy-Connection: close", "Proxy-Connection: keep-alive", "Connection: keep-alivex",
		"Connection: upgradex", "Connection: upgrade, close", "Upgrade: ws", "Upgrade:",
	}
	const body = "5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n"
	var out []diffCase
	add := func(name string, lines ...string) {
		for _, response := range []bool{false, true} {
			for _, version := range []string{"1.1", "1.0"} {
				start := "POST / HTTP/" + version + "\r\n"
				if response {
					start = "HTTP/" + version + " 200 OK\r\n"
				}
				raw := start + strings.Join(lines, "\r\n") + "\r\n\r\n" + body
				out = append(out, diffCase{Name: "framing " + version + " " + name, Response: response, Raw: []byte(raw)})
			}
		}
	}
	for _, a := range cls {
		add(a, a)
		for _, b := range tes {
			add(a+" + "+b, a, b)
			add(b+" + "+a, b, a)
		}
		for _, b := range cls {
			add(a+" + "+b, a, b)
		}
	}
	for _, a := range tes {
		add(a, a)
		for _, b := range tes {
			add(a+" + "+b, a, b)
		}
	}
	for _, a := range conns {
		add(a, a)
		add(a+" + upgrade", a, "Upgrade: ws")
		add(a+" + cl", a, "Content-Length: 3")
		for _, b := range conns {
			add(a+" + "+b, a, b)
		}
	}
	return out
}

// startLineVariants combines methods, targets and versions, and status
// codes with the bodies their framing allows.
func startLineVariants() []diffCase {
	var out []diffCase
	methods := append(slices.Clone(llhttpMethods), "get", "Get", "GE", "GETS", "M-SEARC", "PRI", "HTTP", "")
	for _, m := range methods {
		for _, target := range []string{"/", "*", "http://h/", "h:1", "/a b"} {
			for _, version := range []string{" HTTP/1.1", " HTTP/1.0", "", " RTSP/1.0", " ICE/1.0", " HTTP/2.0"} {
				raw := m + " " + target + version + "\r\n\r\n"
				out = append(out, diffCase{Name: "start line " + raw, Raw: []byte(raw)})
			}
		}
	}
	for _, v := range []string{"HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/2.1", "HTTP/3.0", "HTTP/1.2",
		"HTTP/11.1", "HTTP/1", "HTTP/1.", "http/1.1", "HTTPS/1.1", "HTTP/a.1", "HTTP/1.1 ", "HTTP/1.1  ", "HTTP /1.1", "HTTP\\1.1"} {
		raw := "GET / " + v + "\r\nHost: h\r\n\r\n"
		out = append(out, diffCase{Name: "version " + v, Raw: []byte(raw)})
		resp := v + " 200 OK\r\nContent-Length: 0\r\n\r\n"
		out = append(out, diffCase{Name: "response version " + v, Response: true, Raw: []byte(resp)})
	}
	out = append(out,
		diffCase{Name: "h2 preface", Raw: []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")},
		diffCase{Name: "h2 preface short", Raw: []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n")},
		diffCase{Name: "h2 preface wrong", Raw: []byte("PRI * HTTP/2.0\r\n\r\nSX\r\n\r\n")},
		diffCase{Name: "h2 preface 1.1", Raw: []byte("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n")},
	)
	for code := 0; code < 1000; code += 7 {
		for _, code := range []int{code, 100 + code%100, 200 + code%7, 300 + code%9} {
			for _, framing := range []string{"", "Content-Length: 2\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: 0\r\n"} {
				raw := fmt.Sprintf("HTTP/1.1 %03d R\r\n%s\r\n2\r\nab\r\n0\r\n\r\n", code, framing)
				out = append(out, diffCase{Name: "status " + raw, Response: true, Raw: []byte(raw)})
			}
		}
	}
	for _, line := range []string{"HTTP/1.1 200", "HTTP/1.1 200 ", "HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/1.1  200 OK",
		"HTTP/1.1 200  OK", "HTTP/1.1 200\tOK", "HTTP/1.1 -20 OK", "HTTP/1.1 099 OK", "HTTP/1.1 200 \x01\x7f\xff",
		"HTTP/1.1 200 OK\r", "HTTP/1.1\t200 OK", "HTTP/1.1 2x0 OK", "ICE/1.0 200 OK", "RTSP/1.0 200 OK"} {
		raw := line + "\r\nContent-Length: 1\r\n\r\nx"
		out = append(out, diffCase{Name: "status line " + line, Response: true, Raw: []byte(raw)})
	}
	return out
}

// llhttpMethods is every method llhttp knows (its allMethods), including
// the RTSP ones that Node's http.METHODS leaves out.
var llhttpMethods = []string{
	"DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL",
	"MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT",
	"MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH",
	"PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "PRI", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY",
	"PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH", "QUERY",
}

// chunkVariants covers chunk sizes, extensions, data ends and trailers.
func chunkVariants() []diffCase {
	sizes := []string{"0", "00", "000000000000000000000003", "3", "03", "A", "a", "ffffffffffffffff",
		"10000000000000000", "fffffffffffffffff", " 3", "3 ", "3\t", "-3", "+3", "0x3", "3g", "", "3\n", "3\r\r"}
	exts := []string{"", ";", ";a", ";a=", ";a=b", ";a=\"b\"", ";a=\"b\\\"\"", ";a=\"b", ";a=b;c", ";a;b",
		"; a", ";a =b", ";a= b", ";a=b ", ";=b", ";;a", ";a=\"b\" ", ";a=\"b\";c=d", ";a=\"\\\x01\"",
		";a=b\"c\"", ";a=\"\t\x80\"", ";a,b", ";a=b,c", ";a@b", ";a=\"b\"c"}
	trailers := []string{"", "X: y\r\n", "Content-Length: 3\r\n", "Transfer-Encoding: chunked\r\n",
		"Transfer-Encoding: gzip\r\n", "Transfer-Encoding:\r\n", "Connection: close\r\n", " X: y\r\n",
		"X : y\r\n", "X: y\r\n z\r\n", "X: \x01\r\n", "X: y\n", ": y\r\n", "Upgrade: ws\r\nConnection: upgrade\r\n"}
	ends := []string{"\r\n", "\n", "\r", "\r\r\n", "x\r\n", "\n\r", ""}
	var out []diffCase
	for _, response := range []bool{false, true} {
		start := "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		if response {
			start = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		}
		for _, size := range sizes {
			for _, ext := range exts {
				raw := start + size + ext + "\r\nabc\r\n0\r\n\r\n"
				out = append(out, diffCase{Name: "chunk " + size + ext, Response: response, Raw: []byte(raw)})
			}
		}
		for _, end := range ends {
			raw := start + "3\r\nabc" + end + "0\r\n\r\n"
			out = append(out, diffCase{Name: "chunk data end " + end, Response: response, Raw: []byte(raw)})
			raw = start + "0" + end + "\r\n"
			out = append(out, diffCase{Name: "last chunk end " + end, Response: response, Raw: []byte(raw)})
		}
		for _, tr := range trailers {
			for _, next := range []string{"", "GET / HTTP/1.1\r\n\r\n"} {
				raw := start + "1\r\na\r\n0\r\n" + tr + "\r\n" + next
				out = append(out, diffCase{Name: "trailer " + tr, Response: response, Raw: []byte(raw)})
			}
		}
	}
	return out
}

// sizeBoundaries puts each counted span, and the sum of several, at the
// default header-size limit and the chunk-extension limit, one byte
// either side, complete and cut off inside the span.
func sizeBoundaries() []diffCase {
	const max = http1.DefaultMaxHeaderSize
	var out []diffCase
	add := func(name string, response bool, raw string) {
		out = append(out, diffCase{Name: name, Response: response, Raw: []byte(raw)})
		// The same input cut inside its longest run, where llhttp counts
		// the partial span at the end of the buffer.
		if i := strings.Index(raw, strings.Repeat("a", 64)); i >= 0 {
			for _, cut := range []int{i + max/2, i + max - 20, i + max + 20} {
				if cut < len(raw) {
					out = append(out, diffCase{Name: name + " cut", Response: response, Raw: []byte(raw[:cut])})
				}
			}
		}
	}
	a := func(n int) string { return strings.Repeat("a", n) }
	const chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	for d := -3; d <= 3; d++ {
		n := max + d
		add(fmt.Sprintf("target %d", n), false, "GET /"+a(n-1)+" HTTP/1.1\r\n\r\n")
		add(fmt.Sprintf("target http09 %d", n), false, "GET /"+a(n-1)+"\r\n\r\n")
		add(fmt.Sprintf("name %d", n), false, "GET / HTTP/1.1\r\n"+a(n-2)+": v\r\n\r\n")
		add(fmt.Sprintf("value %d", n), false, "GET / HTTP/1.1\r\nX: "+a(n-2)+"\r\n\r\n")
		add(fmt.Sprintf("value with blanks %d", n), false, "GET / HTTP/1.1\r\nX: "+a(n-5)+" \t \r\n\r\n")
		add(fmt.Sprintf("empty value %d", n), false, "GET / HTTP/1.1\r\n"+a(n-2)+":\r\n\r\n")
		add(fmt.Sprintf("sum %d", n), false, "GET /x HTTP/1.1\r\nA: "+a(n/2)+"\r\nB: "+a(n-n/2-4)+"\r\n\r\n")
		add(fmt.Sprintf("reason %d", n), true, "HTTP/1.1 200 "+a(n-1)+"\r\nContent-Length: 0\r\n\r\n")
		add(fmt.Sprintf("trailer %d", n), false, chunked+"1\r\nx\r\n0\r\nT: "+a(n-1)+"\r\n\r\n")
		add(fmt.Sprintf("head and trailer %d", n), false,
			"POST / HTTP/1.1\r\nX: "+a(n-40)+"\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: "+a(n-20)+"\r\n\r\n")
		for _, ext := range []string{";" + a(n), ";x=" + a(n-1), ";x=\"" + a(n-3) + "\"", ";" + a(n/2) + ";" + a(n-n/2)} {
			add(fmt.Sprintf("extension %d %.8q", n, ext), false, chunked+"1"+ext+"\r\nx\r\n0\r\n\r\n")
		}
		add(fmt.Sprintf("extensions over chunks %d", n), true,
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"+a(n/2)+"\r\nx\r\n1;"+a(n-n/2)+"\r\ny\r\n0\r\n\r\n")
	}
	for _, n := range []int{1, 2, 100, 1000} {
		add(fmt.Sprintf("%d line ends first", n), false, strings.Repeat("\r\n", n)+"GET / HTTP/1.1\r\n\r\n")
	}
	return out
}
