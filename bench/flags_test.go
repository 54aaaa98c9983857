package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, o.duration)
	require.EqualValues(t, 1024, o.streamMiB, "the 1 GiB of the issue")
	require.Nil(t, o.only, "every section")

	o, err = parseFlags([]string{"-quick", "-stream-mib", "64", "-only", "echo,idle,pipes,proxy"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, o.duration, "-quick shortens the runs")
	require.EqualValues(t, 64, o.streamMiB, "unless a flag says otherwise")
	require.Equal(t, map[string]bool{"echo": true, "idle": true, "pipes": true, "proxy": true}, o.only)

	for want, args := range map[string][]string{
		`-only: unknown section "memory"`: {"-only", "idle,memory"},
		"-rounds must be at least 3":      {"-rounds", "2"},
		`-loadgen "ab"`:                   {"-loadgen", "ab"},
		"unexpected arguments":            {"now"},
	} {
		_, err := parseFlags(args, io.Discard)
		require.ErrorContains(t, err, want)
	}
}
