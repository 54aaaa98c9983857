package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
)

func TestMain(m *testing.M) {
	hostdtest.ClearEnvironment() // run reads HOSTD_ overrides: only the tests' own
	os.Exit(m.Run())
}

// quietConfig is a configuration a test may serve: a free port, no plugin.
func quietConfig(t *testing.T) string {
	file := filepath.Join(t.TempDir(), "hostd.toml")
	require.NoError(t, os.WriteFile(file, []byte("[server]\nlisten = [\"127.0.0.1:0\"]\n"), 0o644))
	return file
}

func TestHelpPrintsUsageAndExitsZero(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{arg}, &out)
		require.ErrorIs(t, err, flag.ErrHelp)
		require.Equal(t, 0, exitCode(err))
		for _, want := range []string{"hostd [flags] reload", "-config file", "-version", "HOSTD_SERVER__KEEP_ALIVE_TIMEOUT", "HOSTD_ADMIN_TOKEN", "SIGHUP"} {
			require.Contains(t, out.String(), want)
		}
	}
}

func TestABadCommandLineIsRefusedWithoutServing(t *testing.T) {
	file := quietConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", file, "serve"}, `unknown argument "serve"`},
		{[]string{"-config", file, "reload", "now"}, `reload takes no argument, got "now"`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-watch=maybe"}, "invalid boolean value"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// A server would run until ctx ends; a refusal returns at once.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := run(ctx, tc.args, &bytes.Buffer{})
			require.ErrorContains(t, err, tc.want)
			require.NoError(t, ctx.Err(), "it did not serve")
			require.Equal(t, 2, exitCode(err))
		})
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-version"}, &out))
	require.True(t, strings.HasPrefix(out.String(), "hostd "), out.String())
	require.Contains(t, out.String(), runtime.Version())

	t.Run("a tagged build from a repository", func(t *testing.T) {
		info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "true"},
		}}
		require.Equal(t, "hostd v1.2.3 (revision 0123abc+modified, go1.26.8)", describe(info))
		info.Settings = nil
		require.Equal(t, "hostd v1.2.3 (go1.26.8)", describe(info), "no VCS information")
	})
}

func TestServeStopsWhenItsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", quietConfig(t), "-watch=false"}, &bytes.Buffer{}) }()
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, 1, exitCode(os.ErrNotExist), "other errors exit 1")
}

func TestReloadSendsTheAdminToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hostd.toml")
	require.NoError(t, os.WriteFile(file, []byte("[server]\nlisten = [\"127.0.0.1:0\"]\n[admin]\nlisten = \"127.0.0.1:0\"\n"), 0o644))
	t.Setenv("HOSTD_ADMIN_TOKEN", "s3cret")
	h, err := hostd.New(hostd.Options{ConfigFile: file, Logger: hclog.NewNullLogger()})
	require.NoError(t, err)
	require.NoError(t, h.Start(context.Background()))
	defer h.Shutdown(context.Background()) //nolint:errcheck
	// reload reads the admin address from the file: point it at the port.
	require.NoError(t, os.WriteFile(file, []byte("[server]\nlisten = [\"127.0.0.1:0\"]\n[admin]\nlisten = \""+h.AdminAddr().String()+"\"\n"), 0o644))

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-config", file, "reload"}, &out))
	require.Equal(t, "reloaded\n", out.String())

	t.Setenv("HOSTD_ADMIN_TOKEN", "wrong")
	err = run(context.Background(), []string{"-config", file, "reload"}, &out)
	require.ErrorContains(t, err, "reload refused: admin API: a valid bearer token is required")
}
