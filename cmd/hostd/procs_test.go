package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHostProcsLeavesACPUToThePlugins(t *testing.T) {
	for _, tc := range []struct {
		goDefault int
		env       string
		want      int
		set       bool
	}{
		{1, "", 1, true},
		{2, "", 1, true},
		{8, "", 7, true},
		{8, "3", 0, false},   // the environment's value is the user's
		{8, " 8 ", 0, false}, // however it is written
	} {
		n, set := hostProcs(tc.goDefault, tc.env)
		require.Equal(t, tc.set, set, "%+v", tc)
		require.Equal(t, tc.want, n, "%+v", tc)
	}
}
