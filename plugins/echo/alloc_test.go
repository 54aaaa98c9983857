//go:build !race

package echo

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/httpspec"
	"github.com/hostd/hostd/sdk"
)

func TestAnswerEncodingReusesItsScratch(t *testing.T) {
	raw := []string{"B", "2", "A", "1", "b", "3", "10", "x", "2", "y", "Set-Cookie", "s=1", "Host", "h",
		"X-C", "c", "X-D", "d", "X-E", "e", "X-F", "f", "X-G", "g", "X-H", "h", "X-I", "i", "X-J", "j"}
	trailers := []string{"X-Sum", "1", "x-sum", "2"}
	q := &request{method: "GET", url: "/", httpVersion: "1.1",
		headers: sdk.Headers(httpspec.BuildHeaders(raw, false, 0)), rawHeaders: raw,
		trailers: sdk.Headers(httpspec.BuildHeaders(trailers, false, 0)), rawTrailers: trailers}
	var keys keyOrder
	out := appendAnswer(nil, q, &keys)
	allocs := testing.AllocsPerRun(100, func() { out = appendAnswer(out[:0], q, &keys) })
	require.Zero(t, allocs, "a warm buffer and key scratch: nothing to allocate")
}
