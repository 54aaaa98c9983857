package main

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/testutil"
)

// The relay, the hop's floor, answers hello world after a round trip
// through its second process.
func TestRelayAnswersThroughASecondProcess(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	b := &bench{self: self, procs: newProcSet(t.TempDir())}
	t.Cleanup(b.procs.stopAll)
	ctx := context.Background()
	s, err := b.startServer(ctx, srvRelay)
	require.NoError(t, err)

	body, err := askOnce(ctx, s.addr, loadRequest("/", "x"))
	require.NoError(t, err)
	require.Equal(t, string(helloBody), string(body))
	children := testutil.Children(s.proc.cmd.Process.Pid)
	require.Len(t, children, 1, "the relay runs its second process")

	t.Run("the relay ends with its second process", func(t *testing.T) {
		p, err := os.FindProcess(children[0])
		require.NoError(t, err)
		require.NoError(t, p.Kill())
		<-s.proc.done
	})
}
