//go:build !race

package echo

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/sdk"
)

func TestAnswerEncodingReusesItsScratch(t *testing.T) {
	q := &request{method: "GET", url: "/", httpVersion: "1.1", headers: sdk.Headers{"b": {"2"}, "a": {"1"}},
		rawHeaders: []string{"B", "2", "A", "1"}, trailers: sdk.Headers{}, rawTrailers: []string{}}
	out, keys := appendAnswer(nil, q, nil)
	allocs := testing.AllocsPerRun(100, func() { out, keys = appendAnswer(out[:0], q, keys) })
	require.Zero(t, allocs, "a warm buffer and key list: nothing to allocate")
}
