package hostdtest

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClearEnvironmentUnsetsOnlyTheOverrides(t *testing.T) {
	t.Setenv("HOSTD_SERVER__KEEP_ALIVE_TIMEOUT", "not a duration")
	t.Setenv("HOSTD_ADMIN_TOKEN", "t")
	t.Setenv("HOSTDX", "not ours")
	ClearEnvironment()
	for _, name := range []string{"HOSTD_SERVER__KEEP_ALIVE_TIMEOUT", "HOSTD_ADMIN_TOKEN"} {
		_, set := os.LookupEnv(name)
		require.False(t, set, name)
	}
	require.Equal(t, "not ours", os.Getenv("HOSTDX"))
}
