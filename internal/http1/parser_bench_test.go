package http1_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hostd/hostd/internal/http1"
)

// browserGET is a typical request of ten fields.
var browserGET = []byte("GET /static/app.js?v=3 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"Accept: */*\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: no-cors\r\n" +
	"Referer: https://www.example.com/\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"\r\n")

// largeRequest has about 8 KiB of fields.
var largeRequest = func() []byte {
	var sb strings.Builder
	sb.WriteString("POST /api/v1/items?filter=" + strings.Repeat("x", 200) + " HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 0\r\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&sb, "X-Custom-Header-%02d: %s\r\n", i, strings.Repeat(string(rune('a'+i%26)), 150))
	}
	sb.WriteString("Cookie: " + strings.Repeat("k=v; ", 300) + "end=1\r\n\r\n")
	return []byte(sb.String())
}()

var benchRequests = []struct {
	name string
	raw  []byte
}{
	{"small_get", []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")},
	{"browser_get", browserGET},
	{"large_headers", largeRequest},
}

// readNetHTTP reads raw with net/http's http.ReadRequest from a reused
// bufio.Reader.
type readNetHTTP struct {
	rd bytes.Reader
	br *bufio.Reader
}

func (r *readNetHTTP) read(raw []byte) error {
	if r.br == nil {
		r.br = bufio.NewReaderSize(nil, 64<<10)
	}
	r.rd.Reset(raw)
	r.br.Reset(&r.rd)
	_, err := http.ReadRequest(r.br)
	return err
}

func benchNetHTTP(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var r readNetHTTP
	for b.Loop() {
		if err := r.read(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// netHTTPTime measures net/http's time per read of raw, in ns, for the
// ratios (testing.Benchmark cannot run inside a benchmark).
func netHTTPTime(b *testing.B, raw []byte, d time.Duration) float64 {
	var r readNetHTTP
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		for i := 0; i < 50; i++ {
			if err := r.read(raw); err != nil {
				b.Fatal(err)
			}
		}
		n += 50
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkParseRequest parses each request with a reused Parser and
// Head, and with net/http as a baseline. The hostd runs report
// "x_net/http": how many times faster than net/http they are, against
// net/http timed just before and just after them, so that both see the
// same machine.
func BenchmarkParseRequest(b *testing.B) {
	for _, br := range benchRequests {
		b.Run(br.name+"/hostd", func(b *testing.B) {
			before := netHTTPTime(b, br.raw, 100*time.Millisecond)
			var p http1.Parser
			var h http1.Head
			b.SetBytes(int64(len(br.raw)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				p.Reset()
				if err := p.ParseRequest(br.raw, &h); err != nil {
					b.Fatal(err)
				}
				n++
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(n)
			after := netHTTPTime(b, br.raw, 100*time.Millisecond)
			b.ReportMetric((before+after)/2/perOp, "x_net/http")
		})
		b.Run(br.name+"/net_http", func(b *testing.B) { benchNetHTTP(b, br.raw) })
	}
}

// BenchmarkDecodeChunked decodes a 64 KiB body sent in 4 KiB chunks.
func BenchmarkDecodeChunked(b *testing.B) {
	var body []byte
	chunk := bytes.Repeat([]byte("z"), 4096)
	for i := 0; i < 16; i++ {
		body = http1.AppendChunkHeader(body, len(chunk))
		body = append(body, chunk...)
		body = append(body, "\r\n"...)
	}
	body = append(body, "0\r\nX-Sum: 1\r\n\r\n"...)
	var d http1.ChunkedDecoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		in := body
		for !d.Done() {
			n, _, err := d.Decode(in, 32<<10)
			if err != nil {
				b.Fatal(err)
			}
			in = in[n:]
		}
	}
}
