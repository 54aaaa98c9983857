package http1_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
)

// decoded is what a ChunkedDecoder made of a body.
type decoded struct {
	Data     string
	Trailers []string
	Done     bool
	Used     int // bytes of the input consumed
	Err      error
}

// decodePieces feeds body to a fresh decoder in pieces ending at cuts,
// each piece in a fresh copy, reading data runs of at most max bytes.
func decodePieces(t *testing.T, body string, cuts []int, max, maxHeader int) decoded {
	t.Helper()
	d := http1.ChunkedDecoder{MaxHeaderSize: maxHeader}
	d.Reset()
	var out decoded
	start := 0
	for _, end := range append(cuts, len(body)) {
		piece := []byte(body[start:end])
		for len(piece) > 0 && !d.Done() {
			n, data, err := d.Decode(piece, max)
			require.LessOrEqual(t, len(data), max, "Decode returned more than max")
			out.Data += string(data)
			out.Used += n
			piece = piece[n:]
			if err != nil {
				out.Err = err
				return out
			}
			require.True(t, n > 0 || d.Done(), "Decode consumed nothing")
		}
		start = end
		if d.Done() {
			break
		}
	}
	out.Done = d.Done()
	for _, f := range d.Trailers() {
		out.Trailers = append(out.Trailers, string(f.Name)+": "+string(f.Value))
	}
	return out
}

func decodeWhole(t *testing.T, body string) decoded {
	return decodePieces(t, body, nil, math.MaxInt, 0)
}

func TestChunkedDecoder(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		data     string
		trailers []string
		rest     string // bytes after the body
		wantErr  *http1.ParseError
		offset   int
	}{
		{name: "one_chunk", body: "5\r\nhello\r\n0\r\n\r\nGET", data: "hello", rest: "GET"},
		{name: "chunks_and_extensions", body: "3;a=b;c\r\nabc\r\nA;q=\"x\\\"y\"\r\n0123456789\r\n0;last\r\n\r\n",
			data: "abc0123456789", rest: ""},
		{name: "trailers", body: "1\r\nx\r\n0\r\nA: 1\r\nB: \t2 \r\nC:\r\n\r\nrest", data: "x",
			trailers: []string{"A: 1", "B: 2", "C: "}, rest: "rest"},
		{name: "data_holding_crlf", body: "2\r\n\r\n\r\n0\r\n\r\n\r\n", data: "\r\n", rest: "\r\n"},
		{name: "bad_size", body: "x\r\n", wantErr: http1.ErrInvalidChunkSize, offset: 0},
		{name: "size_overflow", body: "10000000000000000\r\n", wantErr: http1.ErrInvalidChunkSize, offset: 17},
		{name: "size_then_space", body: "3 \r\nabc\r\n", wantErr: http1.ErrInvalidChunkSize, offset: 2},
		{name: "size_bare_lf", body: "3\nabc\r\n", wantErr: http1.ErrCRExpected, offset: 2},
		{name: "extension_space", body: "3; a=b\r\nabc\r\n", wantErr: http1.ErrStrict, offset: 3},
		{name: "extension_semicolon_only", body: "3;\r\nabc\r\n", wantErr: http1.ErrStrict, offset: 3},
		{name: "data_too_long", body: "3\r\nabcd\r\n", data: "abc", wantErr: http1.ErrStrict, offset: 6},
		{name: "data_bare_lf", body: "3\r\nabc\n", data: "abc", wantErr: http1.ErrCRExpected, offset: 7},
		{name: "content_length_trailer", body: "0\r\nContent-Length: 1\r\n\r\n", wantErr: http1.ErrInvalidContentLength, offset: 18},
		{name: "transfer_encoding_trailer", body: "0\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: http1.ErrInvalidTransferEncoding, offset: 23},
		{name: "obs_fold_trailer", body: "0\r\nA: 1\r\n 2\r\n\r\n", wantErr: http1.ErrInvalidHeaderToken, offset: 9},
		{name: "bare_lf_trailers_end", body: "0\r\nA: 1\r\n\n", wantErr: http1.ErrInvalidHeaderToken, offset: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeWhole(t, tc.body)
			require.Equal(t, tc.data, got.Data)
			if tc.wantErr != nil {
				require.ErrorIs(t, got.Err, tc.wantErr)
				var pe *http1.ParseError
				require.True(t, errors.As(got.Err, &pe))
				require.Equal(t, tc.offset, pe.Offset, "offset of %s", pe.Reason)
				require.Equal(t, tc.offset, got.Used, "consumed up to the error")
				return
			}
			require.NoError(t, got.Err)
			require.True(t, got.Done)
			require.Equal(t, tc.trailers, got.Trailers)
			require.Equal(t, tc.rest, tc.body[got.Used:], "the bytes after the body are left")
		})
	}
}

func TestChunkedDecoderSplits(t *testing.T) {
	bodies := []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"3;a=b;c=\"d;e\"\r\nabc\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\nY:  z \r\n\r\n",
		"000A\r\n0123456789\r\n0;end\r\n\r\n",
		"3\r\nabc\r\nZ\r\n",               // refused in the second size
		"2\r\nab\r\n0\r\nA: \x01\r\n\r\n", // refused in a trailer
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, body := range bodies {
		whole := decodeWhole(t, body)
		t.Run("byte by byte", func(t *testing.T) {
			var cuts []int
			for i := 1; i < len(body); i++ {
				cuts = append(cuts, i)
			}
			require.Equal(t, whole, decodePieces(t, body, cuts, math.MaxInt, 0), "%q", body)
		})
		t.Run("random splits", func(t *testing.T) {
			for round := 0; round < 100; round++ {
				var cuts []int
				for i := 1; i < len(body); i++ {
					if rng.IntN(3) == 0 {
						cuts = append(cuts, i)
					}
				}
				require.Equal(t, whole, decodePieces(t, body, cuts, math.MaxInt, 0), "%q cut at %v", body, cuts)
			}
		})
		t.Run("max is honoured", func(t *testing.T) {
			for max := 1; max <= 5; max++ {
				require.Equal(t, whole, decodePieces(t, body, nil, max, 0), "%q with max %d", body, max)
			}
		})
	}
	t.Run("each call returns at most one run of data", func(t *testing.T) {
		var d http1.ChunkedDecoder
		d.Reset()
		in := []byte("2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n")
		n, data, err := d.Decode(in, 100)
		require.NoError(t, err)
		require.Equal(t, "ab", string(data))
		require.Equal(t, 5, n)
		n2, data, err := d.Decode(in[n:], 100)
		require.NoError(t, err)
		require.Equal(t, "cd", string(data))
		_, data, err = d.Decode(in[n+n2:], 100)
		require.NoError(t, err)
		require.Empty(t, data)
		require.True(t, d.Done())
	})
}

func TestChunkedTrailers(t *testing.T) {
	t.Run("trailers are copied and survive the input", func(t *testing.T) {
		var d http1.ChunkedDecoder
		d.Reset()
		in := []byte("0\r\nA: 1\r\n\r\n")
		_, _, err := d.Decode(in, 10)
		require.NoError(t, err)
		require.True(t, d.Done())
		copy(in, strings.Repeat("#", len(in)))
		require.Equal(t, []http1.Field{field("A", "1")}, d.Trailers())
	})
	t.Run("reset forgets the trailers", func(t *testing.T) {
		var d http1.ChunkedDecoder
		d.Reset()
		_, _, err := d.Decode([]byte("0\r\nA: 1\r\n\r\n"), 10)
		require.NoError(t, err)
		d.Reset()
		require.False(t, d.Done())
		_, _, err = d.Decode([]byte("0\r\n\r\n"), 10)
		require.NoError(t, err)
		require.True(t, d.Done())
		require.Empty(t, d.Trailers())
	})
	t.Run("trailers are limited like a head", func(t *testing.T) {
		// Counted: name plus value, from zero after the head.
		ok := decodePieces(t, "0\r\nName: "+strings.Repeat("v", 5)+"\r\n\r\n", nil, 10, 10)
		require.NoError(t, ok.Err)
		require.True(t, ok.Done)
		over := decodePieces(t, "0\r\nName: "+strings.Repeat("v", 6)+"\r\n\r\n", nil, 10, 10)
		require.ErrorIs(t, over.Err, http1.ErrHeaderOverflow)
		var pe *http1.ParseError
		require.True(t, errors.As(over.Err, &pe))
		require.Equal(t, 431, pe.StatusCode())
		padded := decodePieces(t, "0\r\nN:"+strings.Repeat(" ", http1.RawHeadLimit(10))+"v\r\n\r\n", nil, 10, 10)
		require.ErrorIs(t, padded.Err, http1.ErrHeaderOverflow, "whitespace padding is bounded too")
	})
	t.Run("a Connection trailer decides keep-alive", func(t *testing.T) {
		for _, tc := range []struct {
			head, trailers string
			want           bool
		}{
			{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "", true},
			{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "Connection: close\r\n", false},
			{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "", false},
			{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Connection: keep-alive\r\n", true},
			{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", "Connection: keep-alive\r\n", false},
		} {
			h, err := parseAll(t, false, tc.head, 0)
			require.NoError(t, err)
			got := decodePieces(t, "0\r\n"+tc.trailers+"\r\n", nil, 10, 0)
			require.True(t, got.Done)
			var d http1.ChunkedDecoder
			d.Reset()
			_, _, err = d.Decode([]byte("0\r\n"+tc.trailers+"\r\n"), 10)
			require.NoError(t, err)
			require.Equal(t, tc.want, d.KeepAlive(&h), "%q then %q", tc.head, tc.trailers)
		}
	})
}

func TestChunkExtensionsLimit(t *testing.T) {
	const limit = http1.MaxChunkExtensionsSize
	for _, tc := range []struct {
		name string
		ext  func(n int) string // extensions counting n bytes
	}{
		{"name", func(n int) string { return ";" + strings.Repeat("n", n) }},
		{"token value", func(n int) string { return ";n=" + strings.Repeat("v", n-1) }},
		{"quoted value, quotes counted", func(n int) string { return ";n=\"" + strings.Repeat("v", n-3) + "\"" }},
		{"several", func(n int) string { return ";" + strings.Repeat("a", n/2) + ";" + strings.Repeat("b", n-n/2) }},
	} {
		t.Run(tc.name+" at the limit is accepted", func(t *testing.T) {
			got := decodeWhole(t, "1"+tc.ext(limit)+"\r\nx\r\n0\r\n\r\n")
			require.NoError(t, got.Err)
			require.Equal(t, "x", got.Data)
		})
		t.Run(tc.name+" past the limit is refused with 413", func(t *testing.T) {
			got := decodeWhole(t, "1"+tc.ext(limit+1)+"\r\nx\r\n0\r\n\r\n")
			require.ErrorIs(t, got.Err, http1.ErrChunkExtensionsOverflow)
			var pe *http1.ParseError
			require.True(t, errors.As(got.Err, &pe))
			require.Equal(t, 413, pe.StatusCode())
		})
	}
	t.Run("the limit is per chunk-size line", func(t *testing.T) {
		ext := ";" + strings.Repeat("e", limit-1)
		got := decodeWhole(t, "1"+ext+"\r\nx\r\n1"+ext+"\r\ny\r\n0"+ext+"\r\n\r\n")
		require.NoError(t, got.Err)
		require.Equal(t, "xy", got.Data)
	})
	t.Run("an unfinished extension is counted as it arrives", func(t *testing.T) {
		got := decodeWhole(t, "1;"+strings.Repeat("e", limit+1))
		require.ErrorIs(t, got.Err, http1.ErrChunkExtensionsOverflow)
	})
}
