package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
	children := childrenOf(t, s.proc.cmd.Process.Pid)
	require.Len(t, children, 1, "the relay runs its second process")

	t.Run("the relay ends with its second process", func(t *testing.T) {
		p, err := os.FindProcess(children[0])
		require.NoError(t, err)
		require.NoError(t, p.Kill())
		<-s.proc.done
	})
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process has gone
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ")".
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			id, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, "/proc/"), "/stat"))
			out = append(out, id)
		}
	}
	return out
}
