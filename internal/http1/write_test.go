package http1_test

import (
	"math"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/http1"
)

func TestAppendStatusLine(t *testing.T) {
	for _, tc := range []struct {
		code   int
		reason string
		want   string
	}{
		{200, "OK", "HTTP/1.1 200 OK\r\n"},
		{404, "Not Found", "HTTP/1.1 404 Not Found\r\n"},
		{599, "", "HTTP/1.1 599 \r\n"},
		{101, "Switching Protocols", "HTTP/1.1 101 Switching Protocols\r\n"},
	} {
		got := http1.AppendStatusLine([]byte("prefix|"), tc.code, tc.reason)
		require.Equal(t, "prefix|"+tc.want, string(got), "it appends")
		h, err := parseAll(t, true, tc.want+"\r\n", 0)
		require.NoError(t, err, "the parser reads what the writer writes")
		require.Equal(t, tc.code, h.StatusCode)
		require.Equal(t, tc.reason, string(h.Reason))
	}
}

func TestAppendField(t *testing.T) {
	got := http1.AppendField(nil, "Content-Type", "text/plain; charset=utf-8")
	require.Equal(t, "Content-Type: text/plain; charset=utf-8\r\n", string(got))
	got = http1.AppendField(got, "X-Empty", "")
	require.Equal(t, "Content-Type: text/plain; charset=utf-8\r\nX-Empty: \r\n", string(got))
	h, err := parseAll(t, false, "GET / HTTP/1.1\r\n"+string(got)+"\r\n", 0)
	require.NoError(t, err)
	require.Equal(t, []http1.Field{field("Content-Type", "text/plain; charset=utf-8"), field("X-Empty", "")}, h.Fields)
}

func TestAppendChunkHeader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0\r\n"},
		{1, "1\r\n"},
		{15, "f\r\n"},
		{4096, "1000\r\n"},
		{math.MaxInt64, "7fffffffffffffff\r\n"},
	} {
		require.Equal(t, tc.want, string(http1.AppendChunkHeader(nil, tc.n)))
	}
	t.Run("the decoder reads what the writer writes", func(t *testing.T) {
		var body []byte
		for _, chunk := range []string{"a", "0123456789abcdef", "xyz"} {
			body = http1.AppendChunkHeader(body, len(chunk))
			body = append(body, chunk+"\r\n"...)
		}
		body = http1.AppendChunkHeader(body, 0)
		body = append(body, "\r\n"...)
		got := decodeWhole(t, string(body))
		require.NoError(t, got.Err)
		require.True(t, got.Done)
		require.Equal(t, "a0123456789abcdefxyz", got.Data)
	})
}

var imfFixdate = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT$`)

func TestAppendDate(t *testing.T) {
	t.Parallel()
	before := time.Now().Truncate(time.Second)
	got := http1.AppendDate([]byte("Date: "))
	after := time.Now()
	require.Regexp(t, `^Date: `, string(got), "it appends")
	value := string(got[len("Date: "):])
	require.Regexp(t, imfFixdate, value)
	when, err := time.Parse(http.TimeFormat, value)
	require.NoError(t, err, "net/http reads it")
	require.False(t, when.Before(before) || when.After(after), "%s is not between %s and %s", when, before, after)
	require.Equal(t, time.UTC, when.Location(), "the time is in GMT")

	t.Run("the cached value follows the clock", func(t *testing.T) {
		at := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		first := string(http1.AppendDateAt(nil, at))
		require.Equal(t, "Sat, 03 Feb 2001 04:05:06 GMT", first)
		require.Equal(t, first, string(http1.AppendDateAt(nil, at.Add(999*time.Millisecond))), "the same second")
		require.Equal(t, "Sat, 03 Feb 2001 04:05:07 GMT", string(http1.AppendDateAt(nil, at.Add(time.Second))), "the next second")
		require.Equal(t, first, string(http1.AppendDateAt(nil, at.In(time.FixedZone("X", 3600)))), "in GMT whatever the zone")
	})
}
