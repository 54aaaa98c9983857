package http1_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
)

// parseAll parses raw, whole, as a request or a response.
func parseAll(t *testing.T, response bool, raw string, max int) (http1.Head, error) {
	t.Helper()
	p := http1.Parser{MaxHeaderSize: max}
	p.Reset()
	var h http1.Head
	if response {
		return h, p.ParseResponse([]byte(raw), &h)
	}
	return h, p.ParseRequest([]byte(raw), &h)
}

// field is a test shorthand for a Field.
func field(name, value string) http1.Field {
	return http1.Field{Name: []byte(name), Value: []byte(value)}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    http1.Head
		wantErr *http1.ParseError
		offset  int
	}{
		{
			name: "get_with_fields",
			raw:  "GET /a?b HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Blank: \t a b \t \r\n\r\nrest",
			want: http1.Head{Method: "GET", Target: []byte("/a?b"), Major: 1, Minor: 1,
				Fields:        []http1.Field{field("Host", "h"), field("X-Empty", ""), field("X-Blank", "a b")},
				ContentLength: -1, KeepAlive: true, Size: 59},
		},
		{
			name: "post_content_length",
			raw:  "POST / HTTP/1.0\r\nContent-Length: 007\r\nConnection: keep-alive\r\n\r\n",
			want: http1.Head{Method: "POST", Target: []byte("/"), Major: 1, Minor: 0,
				Fields:        []http1.Field{field("Content-Length", "007"), field("Connection", "keep-alive")},
				ContentLength: 7, KeepAlive: true, Size: 64},
		},
		{
			name: "chunked_close",
			raw:  "PUT / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n",
			want: http1.Head{Method: "PUT", Target: []byte("/"), Major: 1, Minor: 1,
				Fields:        []http1.Field{field("Transfer-Encoding", "gzip, chunked"), field("Connection", "close")},
				ContentLength: -1, TransferEncoding: true, Chunked: true, Size: 71},
		},
		{
			name: "upgrade",
			raw:  "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n",
			want: http1.Head{Method: "GET", Target: []byte("/"), Major: 1, Minor: 1,
				Fields:        []http1.Field{field("Upgrade", "websocket"), field("Connection", "keep-alive, Upgrade")},
				ContentLength: -1, KeepAlive: true, Upgrade: true, Size: 71},
		},
		{
			name: "connect_is_upgrade",
			raw:  "CONNECT h:443 HTTP/1.1\r\n\r\n",
			want: http1.Head{Method: "CONNECT", Target: []byte("h:443"), Major: 1, Minor: 1,
				ContentLength: -1, KeepAlive: true, Upgrade: true, Size: 26},
		},
		{
			name: "http_0_9_after_empty_lines",
			raw:  "\r\n\nGET /x\r\n\r\n",
			want: http1.Head{Method: "GET", Target: []byte("/x"), Major: 0, Minor: 9, ContentLength: -1, Size: 13},
		},
		{name: "smuggle_two_content_length", raw: "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
			wantErr: http1.ErrUnexpectedContentLength, offset: 52},
		{name: "smuggle_same_content_length_twice", raw: "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
			wantErr: http1.ErrUnexpectedContentLength, offset: 52},
		{name: "smuggle_cl_then_te", raw: "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
			wantErr: http1.ErrInvalidTransferEncoding, offset: 54},
		{name: "smuggle_te_then_cl", raw: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
			wantErr: http1.ErrInvalidContentLength, offset: 60},
		{name: "smuggle_chunked_then_gzip", raw: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
			wantErr: http1.ErrInvalidTransferEncoding, offset: 44},
		{name: "smuggle_chunked_twice", raw: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
			wantErr: http1.ErrInvalidTransferEncoding, offset: 65},
		{name: "smuggle_chunked_trailing_comma", raw: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n",
			wantErr: http1.ErrInvalidTransferEncoding, offset: 44},
		{name: "smuggle_final_coding_not_chunked", raw: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\t\r\n\r\n",
			wantErr: http1.ErrInvalidTransferEncoding, offset: 48},
		{name: "smuggle_obs_fold", raw: "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
			wantErr: http1.ErrInvalidHeaderToken, offset: 38},
		{name: "smuggle_space_before_colon", raw: "POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n",
			wantErr: http1.ErrInvalidHeaderToken, offset: 35},
		{name: "smuggle_bare_lf", raw: "POST / HTTP/1.1\r\nX: a\nContent-Length: 1\r\n\r\n",
			wantErr: http1.ErrCRExpected, offset: 21},
		{name: "content_length_empty", raw: "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
			wantErr: http1.ErrInvalidContentLength, offset: 35},
		{name: "content_length_overflow", raw: "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
			wantErr: http1.ErrInvalidContentLength, offset: 53},
		{name: "unknown_method", raw: "BREW /pot HTTP/1.1\r\n\r\n", wantErr: http1.ErrInvalidMethod, offset: 1},
		{name: "h2_preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", wantErr: http1.ErrH2Preface, offset: 24},
		{name: "bad_version", raw: "GET / HTTP/1.2\r\n\r\n", wantErr: http1.ErrInvalidVersion, offset: 14},
		{name: "bad_protocol", raw: "GET / HTTQ/1.1\r\n\r\n", wantErr: http1.ErrInvalidConstant, offset: 9},
		{name: "bad_target", raw: "GET /\x7f HTTP/1.1\r\n\r\n", wantErr: http1.ErrInvalidURL, offset: 5},
		{name: "space_first_line", raw: "GET / HTTP/1.1\r\n X: y\r\n\r\n", wantErr: http1.ErrUnexpectedSpace, offset: 17},
		{name: "lf_expected", raw: "GET / HTTP/1.1\r\nX: y\rz\r\n\r\n", wantErr: http1.ErrLFExpected, offset: 21},
		{name: "strict_blank_line", raw: "GET / HTTP/1.1\r\nX: y\r\n\rz", wantErr: http1.ErrStrict, offset: 23},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseAll(t, false, tc.raw, 0)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				var pe *http1.ParseError
				require.True(t, errors.As(err, &pe))
				require.Equal(t, tc.offset, pe.Offset, "offset of %s", pe.Reason)
				require.NotEmpty(t, pe.Reason)
				require.Equal(t, 400, pe.StatusCode())
				return
			}
			require.NoError(t, err)
			require.Equal(t, headView(&tc.want), headView(&h))
		})
	}
}

// view is the exported content of a Head, with strings for readable
// failures.
type view struct {
	Method, Target, Reason string
	Status                 int
	Version                [2]uint8
	Fields                 []string
	ContentLength          int64
	TE, Chunked, KeepAlive bool
	Upgrade                bool
	Size                   int
}

func headView(h *http1.Head) view {
	v := view{Method: h.Method, Target: string(h.Target), Reason: string(h.Reason), Status: h.StatusCode,
		Version: [2]uint8{h.Major, h.Minor}, ContentLength: h.ContentLength, TE: h.TransferEncoding,
		Chunked: h.Chunked, KeepAlive: h.KeepAlive, Upgrade: h.Upgrade, Size: h.Size}
	for _, f := range h.Fields {
		v.Fields = append(v.Fields, string(f.Name)+": "+string(f.Value))
	}
	return v
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    view
		wantErr *http1.ParseError
	}{
		{name: "ok", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
			want: view{Status: 200, Reason: "OK", Version: [2]uint8{1, 1}, Fields: []string{"Content-Length: 2"},
				ContentLength: 2, KeepAlive: true, Size: 38}},
		{name: "no_reason_until_close", raw: "HTTP/1.0 404\r\n\r\n",
			want: view{Status: 404, Version: [2]uint8{1, 0}, ContentLength: -1, Size: 16}},
		{name: "reason_kept_as_sent", raw: "HTTP/1.1 500 Oops \x01\r\nContent-Length: 0\r\n\r\n",
			want: view{Status: 500, Reason: "Oops \x01", Version: [2]uint8{1, 1}, Fields: []string{"Content-Length: 0"},
				ContentLength: 0, KeepAlive: true, Size: 42}},
		{name: "switching_protocols", raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
			want: view{Status: 101, Reason: "Switching Protocols", Version: [2]uint8{1, 1},
				Fields: []string{"Upgrade: h2c", "Connection: Upgrade"}, ContentLength: -1, KeepAlive: true, Upgrade: true, Size: 71}},
		{name: "chunked_then_gzip_is_not_chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
			want: view{Status: 200, Reason: "OK", Version: [2]uint8{1, 1}, Fields: []string{"Transfer-Encoding: chunked, gzip"},
				ContentLength: -1, TE: true, Size: 53}},
		{name: "status_four_digits", raw: "HTTP/1.1 2000 OK\r\n\r\n", wantErr: http1.ErrInvalidStatus},
		{name: "status_letters", raw: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: http1.ErrInvalidStatus},
		{name: "rtsp_refused", raw: "RTSP/1.0 200 OK\r\n\r\n", wantErr: http1.ErrInvalidConstant},
		{name: "bare_lf_status_line", raw: "HTTP/1.1 200 OK\n\r\n", wantErr: http1.ErrCRExpected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseAll(t, true, tc.raw, 0)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, headView(&h))
		})
	}
}

// validRequests are heads of every shape, to be parsed in pieces.
var validRequests = []string{
	"GET / HTTP/1.1\r\n\r\n",
	"\r\n\r\nGET /index.html?x=1#y HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty:\r\n\r\n",
	"POST /upload HTTP/1.1\r\nContent-Length: 12\r\nConnection: keep-alive, Upgrade\r\nUpgrade: x\r\n\r\n",
	"PUT http://u@h:8/p?q HTTP/1.0\r\nTransfer-Encoding: gzip , chunked  \r\nProxy-Connection: close\r\n\r\n",
	"CONNECT [::1]:443 HTTP/1.1\r\nX: \t\xff\x80 v \t\r\n\r\n",
	"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n",
	"GET /\r\nHost: a\r\n\r\n",
	"OPTIONS   *   HTTP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n",
}

// parseInPieces parses raw fed as growing prefixes ending at each cut, in
// a fresh copy of the prefix each time, as a server that compacts or
// grows its buffer between reads does.
func parseInPieces(response bool, raw []byte, cuts []int, max int) (http1.Head, error) {
	p := http1.Parser{MaxHeaderSize: max}
	p.Reset()
	var h http1.Head
	var err error
	for _, end := range append(cuts, len(raw)) {
		buf := append([]byte(nil), raw[:end]...)
		if response {
			err = p.ParseResponse(buf, &h)
		} else {
			err = p.ParseRequest(buf, &h)
		}
		if err != http1.ErrNeedMore {
			return h, err
		}
	}
	return h, err
}

func TestParseIncrementally(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, raw := range validRequests {
		whole, err := parseAll(t, false, raw, 0)
		require.NoError(t, err, "%q", raw)
		t.Run("byte_by_byte "+strings.Fields(raw)[0], func(t *testing.T) {
			var cuts []int
			for i := 1; i < len(raw); i++ {
				cuts = append(cuts, i)
			}
			h, err := parseInPieces(false, []byte(raw), cuts, 0)
			require.NoError(t, err)
			require.Equal(t, headView(&whole), headView(&h))
		})
		t.Run("random_splits "+strings.Fields(raw)[0], func(t *testing.T) {
			for round := 0; round < 50; round++ {
				var cuts []int
				for i := 1; i < len(raw); i++ {
					if rng.IntN(4) == 0 {
						cuts = append(cuts, i)
					}
				}
				h, err := parseInPieces(false, []byte(raw), cuts, 0)
				require.NoError(t, err, "cuts %v", cuts)
				require.Equal(t, headView(&whole), headView(&h), "cuts %v", cuts)
			}
		})
	}
	t.Run("every prefix of a head needs more", func(t *testing.T) {
		for _, raw := range validRequests {
			for i := 0; i < len(raw); i++ {
				if strings.TrimLeft(raw[:i], "\r\n") == "" && i > 0 {
					continue
				}
				_, err := parseAll(t, false, raw[:i], 0)
				require.Equal(t, http1.ErrNeedMore, err, "%q", raw[:i])
			}
		}
	})
	t.Run("errors are found at the same offset however the input is split", func(t *testing.T) {
		raw := []byte("GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x00b\r\n\r\n")
		_, err := parseAll(t, false, string(raw), 0)
		var want *http1.ParseError
		require.True(t, errors.As(err, &want))
		for cut := 1; cut < len(raw); cut++ {
			_, err := parseInPieces(false, raw, []int{cut}, 0)
			var got *http1.ParseError
			require.True(t, errors.As(err, &got), "cut %d: %v", cut, err)
			require.Equal(t, *want, *got, "cut %d", cut)
		}
	})
}

func TestParserReuse(t *testing.T) {
	var p http1.Parser
	var h http1.Head
	p.Reset()
	require.NoError(t, p.ParseRequest([]byte("POST /a HTTP/1.1\r\nTransfer-Encoding:\r\nContent-Length: 3\r\nConnection: close\r\nX: 1\r\n\r\n"), &h))
	require.Equal(t, int64(3), h.ContentLength)
	require.False(t, h.KeepAlive)
	p.Reset()
	require.NoError(t, p.ParseRequest([]byte("GET /b HTTP/1.1\r\n\r\n"), &h))
	require.Equal(t, view{Method: "GET", Target: "/b", Version: [2]uint8{1, 1}, ContentLength: -1, KeepAlive: true, Size: 19},
		headView(&h), "nothing of the first message may stay")
	p.Reset()
	require.NoError(t, p.ParseResponse([]byte("HTTP/1.1 204 No Content\r\n\r\n"), &h))
	require.Equal(t, view{Status: 204, Reason: "No Content", Version: [2]uint8{1, 1}, ContentLength: -1, KeepAlive: true, Size: 27},
		headView(&h), "a response after a request")
}

// countedBytes counts a request head the way MaxHeaderSize is documented
// to: the target, plus each field name and each value from its first
// non-blank byte to its CR.
func countedBytes(target string, fields [][2]string) int {
	n := len(target)
	for _, f := range fields {
		n += len(f[0]) + len(strings.TrimLeft(f[1], " \t"))
	}
	return n
}

func TestMaxHeaderSize(t *testing.T) {
	build := func(target string, fields [][2]string) string {
		var sb strings.Builder
		sb.WriteString("GET " + target + " HTTP/1.1\r\n")
		for _, f := range fields {
			sb.WriteString(f[0] + ":" + f[1] + "\r\n")
		}
		sb.WriteString("\r\n")
		return sb.String()
	}
	for _, limit := range []int{1, 2, 10, 100, 1000, http1.DefaultMaxHeaderSize} {
		for _, shape := range []string{"target", "name", "value", "trailing_blanks", "many_fields"} {
			// head returns a head with n counted bytes, n >= 10.
			head := func(t *testing.T, n int) string {
				var target string
				var fields [][2]string
				switch shape {
				case "target":
					target = "/" + strings.Repeat("t", n-1)
				case "name":
					target, fields = "/", [][2]string{{strings.Repeat("n", n-2), " v"}}
				case "value":
					target, fields = "/", [][2]string{{"N", " \t " + strings.Repeat("v", n-2)}}
				case "trailing_blanks":
					target, fields = "/", [][2]string{{"N", " v" + strings.Repeat(" ", n-3)}}
				case "many_fields":
					target = "/"
					for k := 0; k < (n-1)/2; k++ {
						fields = append(fields, [2]string{"a", "b"})
					}
					if (n-1)%2 == 1 {
						fields = append(fields, [2]string{"c", ""})
					}
				}
				require.Equal(t, n, countedBytes(target, fields))
				return build(target, fields)
			}
			if limit < 10 {
				// Even the smallest head counts one byte, for its target.
				_, err := parseAll(t, false, "GET / HTTP/1.1\r\n\r\n", limit)
				if limit == 1 {
					require.ErrorIs(t, err, http1.ErrHeaderOverflow)
				} else {
					require.NoError(t, err)
				}
				continue
			}
			t.Run(shape+" under the limit is accepted", func(t *testing.T) {
				_, err := parseAll(t, false, head(t, limit-1), limit)
				require.NoError(t, err, "limit %d", limit)
			})
			t.Run(shape+" at the limit is refused with 431", func(t *testing.T) {
				_, err := parseAll(t, false, head(t, limit), limit)
				require.ErrorIs(t, err, http1.ErrHeaderOverflow, "limit %d", limit)
				var pe *http1.ParseError
				require.True(t, errors.As(err, &pe))
				require.Equal(t, 431, pe.StatusCode())
			})
		}
	}
	t.Run("zero means the default", func(t *testing.T) {
		raw := "GET /" + strings.Repeat("a", http1.DefaultMaxHeaderSize-2) + " HTTP/1.1\r\n\r\n"
		_, err := parseAll(t, false, raw, 0)
		require.NoError(t, err)
		raw = "GET /" + strings.Repeat("a", http1.DefaultMaxHeaderSize-1) + " HTTP/1.1\r\n\r\n"
		_, err = parseAll(t, false, raw, 0)
		require.ErrorIs(t, err, http1.ErrHeaderOverflow)
	})
	t.Run("a response's reason phrase is counted", func(t *testing.T) {
		_, err := parseAll(t, true, "HTTP/1.1 200 "+strings.Repeat("r", 9)+"\r\n\r\n", 10)
		require.NoError(t, err)
		_, err = parseAll(t, true, "HTTP/1.1 200 "+strings.Repeat("r", 10)+"\r\n\r\n", 10)
		require.ErrorIs(t, err, http1.ErrHeaderOverflow)
	})
	t.Run("an unfinished field is counted as it arrives", func(t *testing.T) {
		raw := "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 200)
		_, err := parseAll(t, false, raw, 100)
		require.ErrorIs(t, err, http1.ErrHeaderOverflow)
	})
}

func TestRawHeadLimit(t *testing.T) {
	const limit = 100
	raw := http1.RawHeadLimit(limit)
	require.Equal(t, 4*limit+64, raw)
	require.Equal(t, http1.RawHeadLimit(http1.DefaultMaxHeaderSize), http1.RawHeadLimit(0))
	t.Run("the densest head under the count limit fits", func(t *testing.T) {
		// "a:\r\n" lines count 1 byte for 4; the longest method adds more.
		head := "UNSUBSCRIBE / HTTP/1.1\r\n" + strings.Repeat("a:\r\n", limit-2) + "\r\n"
		require.Less(t, len(head), raw)
		_, err := parseAll(t, false, head, limit)
		require.NoError(t, err)
	})
	t.Run("whitespace padding is refused at the limit", func(t *testing.T) {
		head := "GET / HTTP/1.1\r\nX:" + strings.Repeat(" ", raw) + "v\r\n\r\n"
		_, err := parseAll(t, false, head, limit)
		require.ErrorIs(t, err, http1.ErrHeaderOverflow)
		var pe *http1.ParseError
		require.True(t, errors.As(err, &pe))
		require.Equal(t, raw, pe.Offset)
		require.Contains(t, http1.StricterReasons, pe.Reason)
	})
	t.Run("empty lines before the start line count", func(t *testing.T) {
		_, err := parseAll(t, false, strings.Repeat("\r\n", raw/2)+"GET / HTTP/1.1\r\n\r\n", limit)
		require.ErrorIs(t, err, http1.ErrHeaderOverflow)
	})
	t.Run("bytes after a complete head do not count", func(t *testing.T) {
		h, err := parseAll(t, false, "GET / HTTP/1.1\r\n\r\n"+strings.Repeat("x", 10*raw), limit)
		require.NoError(t, err)
		require.Equal(t, 18, h.Size)
	})
}

func TestParseErrorMatching(t *testing.T) {
	_, err := parseAll(t, false, "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 0)
	require.ErrorIs(t, err, http1.ErrUnexpectedContentLength)
	require.NotErrorIs(t, err, http1.ErrInvalidContentLength, "sentinels match by code")
	require.Equal(t, "http1: Duplicate Content-Length (HPE_UNEXPECTED_CONTENT_LENGTH)", err.Error())
	require.NotErrorIs(t, http1.ErrNeedMore, http1.ErrHeaderOverflow)
	require.Equal(t, 413, (&http1.ParseError{Code: http1.ErrChunkExtensionsOverflow.Code}).StatusCode())
}

func TestHeadGet(t *testing.T) {
	h, err := parseAll(t, false, "GET / HTTP/1.1\r\nX-One: 1\r\nx-one: 2\r\nHOST: h\r\n\r\n", 0)
	require.NoError(t, err)
	require.Equal(t, "1", string(h.Get("x-one")), "the first of two")
	require.Equal(t, "h", string(h.Get("host")))
	require.Nil(t, h.Get("missing"))
}

func TestBodyKind(t *testing.T) {
	requests := []struct {
		raw  string
		want http1.BodyKind
	}{
		{"GET / HTTP/1.1\r\n\r\n", http1.BodyNone},
		{"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", http1.BodyNone},
		{"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n", http1.BodyLength},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", http1.BodyChunked},
		{"CONNECT h:1 HTTP/1.1\r\nContent-Length: 1\r\n\r\n", http1.BodyNone},
		{"POST / HTTP/1.1\r\nUpgrade: x\r\nConnection: upgrade\r\nContent-Length: 2\r\n\r\n", http1.BodyLength},
	}
	for _, tc := range requests {
		h, err := parseAll(t, false, tc.raw, 0)
		require.NoError(t, err)
		require.Equal(t, tc.want, h.RequestBody(), "%q", tc.raw)
	}
	responses := []struct {
		raw, method string
		want        http1.BodyKind
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "GET", http1.BodyLength},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "HEAD", http1.BodyNone},
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 200 OK\r\n\r\n", "GET", http1.BodyUntilClose},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", http1.BodyChunked},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "GET", http1.BodyUntilClose},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 101 Switching\r\nContent-Length: 2\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 199 Odd\r\nContent-Length: 2\r\n\r\n", "GET", http1.BodyLength},
		{"HTTP/1.1 199 Odd\r\n\r\n", "GET", http1.BodyNone},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", "CONNECT", http1.BodyNone},
		{"HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n", "CONNECT", http1.BodyLength},
	}
	for _, tc := range responses {
		h, err := parseAll(t, true, tc.raw, 0)
		require.NoError(t, err)
		require.Equal(t, tc.want, h.ResponseBody(tc.method), "%s %q", tc.method, tc.raw)
	}
}
