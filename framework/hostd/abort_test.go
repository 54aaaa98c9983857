package hostd_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
)

func TestAClientThatLeavesCancelsItsHandler(t *testing.T) {
	h := hostdtest.Start(t, `
[server]
listen = ["127.0.0.1:0"]
[plugins.slow]
builtin = "misbehave"
[[routes]]
path = "/"
plugin = "slow"
`)
	inFlight := func() uint64 {
		st, err := h.Plugin("slow").Current().Stats(context.Background())
		require.NoError(t, err)
		return st.InFlight
	}
	c := h.Dial(t)
	_, err := io.WriteString(c, "GET /?sleep=60s HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return inFlight() == 1 }, 5*time.Second, 10*time.Millisecond, "the handler is running")

	require.NoError(t, c.Close())
	// The handler waits on req.Context(): it returns as soon as the
	// abort reaches the plugin, long before its 60 s.
	require.Eventually(t, func() bool { return inFlight() == 0 }, 5*time.Second, 20*time.Millisecond,
		"the handler's context is canceled when the client goes away")
}
