package sysmon

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnvAddsTheSettingUnlessSchedtraceIsSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want string // GODEBUG in the result; "" for none
	}{
		{"no GODEBUG", []string{"A=1"}, "GODEBUG=" + Setting},
		{"other settings kept", []string{"GODEBUG=madvdontneed=1", "A=1"}, "GODEBUG=madvdontneed=1," + Setting},
		{"an explicit schedtrace is the user's", []string{"GODEBUG=gctrace=1, schedtrace=0", "A=1"}, "GODEBUG=gctrace=1, schedtrace=0"},
		{"the first GODEBUG counts, as for the runtime", []string{"GODEBUG=x=1", "A=1", "GODEBUG=schedtrace=5"}, "GODEBUG=x=1," + Setting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Env(tc.in)
			var got []string
			for _, kv := range out {
				if len(kv) > 8 && kv[:8] == "GODEBUG=" {
					got = append(got, kv)
				}
			}
			require.Equal(t, []string{tc.want}, got)
			require.Contains(t, out, "A=1", "the rest of the environment is kept")
		})
	}
}

func TestTraceLine(t *testing.T) {
	require.True(t, TraceLine([]byte("SCHED 2147483647ms: gomaxprocs=1 idleprocs=1 threads=6 spinningthreads=0")))
	require.False(t, TraceLine([]byte("SCHED a plugin's own line")))
	require.False(t, TraceLine([]byte("listening on 127.0.0.1:80")))
}

// TestReexecStartsTheProcessAgainWithTheSetting runs this test binary as a
// child that calls Reexec: the same process (its id) must come back with
// the setting in GODEBUG and its arguments intact.
func TestReexecStartsTheProcessAgainWithTheSetting(t *testing.T) {
	if os.Getenv("SYSMON_CHILD") == "1" {
		fmt.Printf("pid=%d godebug=%s args=%d\n", os.Getpid(), os.Getenv("GODEBUG"), len(os.Args))
		if err := Reexec(); err != nil {
			fmt.Println("error:", err)
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReexecStartsTheProcessAgainWithTheSetting$")
	cmd.Env = append(os.Environ(), "SYSMON_CHILD=1", "GODEBUG=madvdontneed=1")
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, 2, "the child printed before and after its exec:\n%s", out)
	pid := fmt.Sprintf("pid=%d ", cmd.Process.Pid)
	require.Equal(t, pid+"godebug=madvdontneed=1 args=2", lines[0])
	require.Equal(t, pid+"godebug=madvdontneed=1,"+Setting+" args=2", lines[1], "the same process, started again with the setting, and no second exec")
}
