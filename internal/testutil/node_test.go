package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records a failure or a skip instead of
// ending the goroutine.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}

// fakeNode puts on PATH a node that prints version, or no node at all
// when version is "".
func fakeNode(t *testing.T, version string) string {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if version == "" {
		return ""
	}
	path := filepath.Join(dir, "node")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\necho "+version+"\n"), 0o700))
	return path
}

// setCI sets CI to value, or unsets it for "", until the test ends.
func setCI(t *testing.T, value string) {
	t.Setenv("CI", value)
	if value == "" {
		require.NoError(t, os.Unsetenv("CI"))
	}
}

func TestNode(t *testing.T) {
	for _, tc := range []struct {
		name, version, ci string
		failed, skipped   bool
		msg               string
	}{
		{name: "missing node fails under CI", version: "", ci: "true", failed: true, msg: "node is not on PATH"},
		{name: "missing node skips elsewhere", version: "", ci: "", skipped: true, msg: "node is not on PATH"},
		{name: "another Node version fails under CI", version: "v18.19.1", ci: "1", failed: true, msg: "is Node v18.19.1, not v20"},
		{name: "another Node version skips elsewhere", version: "v21.0.0", ci: "", skipped: true, msg: "not v20"},
		{name: "a version that only starts like 20 is not 20", version: "v200.1.0", ci: "true", failed: true, msg: "not v20"},
		{name: "Node v20 is used under CI", version: "v20.11.1", ci: "true"},
		{name: "Node v20 is used elsewhere", version: "v20.0.0", ci: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := fakeNode(t, tc.version)
			setCI(t, tc.ci)
			r := &recorder{TB: t}
			got := Node(r)
			require.Equal(t, tc.failed, r.failed, "failed: %s", r.msg)
			require.Equal(t, tc.skipped, r.skipped, "skipped: %s", r.msg)
			require.Contains(t, r.msg, tc.msg)
			if tc.failed || tc.skipped {
				require.Empty(t, got)
			} else {
				require.Equal(t, want, got)
			}
		})
	}
}
