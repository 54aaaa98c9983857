//go:build !race

package http1_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
)

func TestParseRequestAllocs(t *testing.T) {
	var p http1.Parser
	var h http1.Head
	whole := func() {
		p.Reset()
		if err := p.ParseRequest(browserGET, &h); err != nil {
			t.Fatal(err)
		}
	}
	whole() // warm-up: the parser's and the head's field slices grow once
	require.Len(t, h.Fields, 10)
	require.Zero(t, testing.AllocsPerRun(100, whole), "parsing a head whole")

	pieces := func() {
		p.Reset()
		for _, end := range []int{7, 40, 200, len(browserGET)} {
			err := p.ParseRequest(browserGET[:end], &h)
			if end < len(browserGET) && err != http1.ErrNeedMore || end == len(browserGET) && err != nil {
				t.Fatal(err)
			}
		}
	}
	require.Zero(t, testing.AllocsPerRun(100, pieces), "parsing a head in pieces")
}

func TestParseResponseAllocs(t *testing.T) {
	raw := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\nCache-Control: no-cache\r\n\r\n")
	var p http1.Parser
	var h http1.Head
	parse := func() {
		p.Reset()
		if err := p.ParseResponse(raw, &h); err != nil {
			t.Fatal(err)
		}
	}
	parse()
	require.Zero(t, testing.AllocsPerRun(100, parse))
}

func TestChunkedDecodeAllocs(t *testing.T) {
	body := []byte("5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Checksum: 42\r\n\r\n")
	var d http1.ChunkedDecoder
	out := make([]byte, 0, 64)
	decode := func() {
		d.Reset()
		out = out[:0]
		in := body
		for !d.Done() {
			n, data, err := d.Decode(in, 16)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, data...)
			in = in[n:]
		}
	}
	decode() // warm-up: the trailer buffers grow once
	require.Equal(t, "helloabcdefghijklmnopqrstuvwxyz", string(out))
	require.Len(t, d.Trailers(), 1)
	require.Zero(t, testing.AllocsPerRun(100, decode))
}
