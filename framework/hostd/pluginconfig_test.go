package hostd_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	hostdconfig "github.com/hostd/hostd/framework/config"
	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
)

func TestAPluginsRefusalNamesItsConfigKey(t *testing.T) {
	for _, tc := range []struct{ name, table, want string }{
		{"an unknown key (the SDK's Decode)", "[plugins.p]\ncmd = \"{{bin}}/echo\"\n[plugins.p.config]\nmax_bdy = 1\n",
			"plugins.p.config.max_bdy: unknown key"},
		{"a value of the wrong type (the SDK's Decode)", "[plugins.p]\ncmd = \"{{bin}}/echo\"\n[plugins.p.config]\nmax_body = \"big\"\n",
			"plugins.p.config.max_body: a string where int64 is expected"},
		{"the plugin's own check", "[plugins.p]\ncmd = \"{{bin}}/tunnel\"\n[plugins.p.config]\ndial_timeout = -1\n",
			"plugins.p.config.dial_timeout: must be positive"},
		{"a nested key", "[plugins.p]\ncmd = \"{{bin}}/earlyhints\"\n[plugins.p.config.paths]\n\"/a\" = [\"nope\"]\n",
			`plugins.p.config.paths./a: "nope" is not a Link value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "hostd.toml")
			require.NoError(t, os.WriteFile(file, []byte(config("[server]\nlisten = [\"127.0.0.1:0\"]\n"+tc.table)), 0o644))
			h, err := hostd.New(hostd.Options{ConfigFile: file, Logger: hostdtest.Logger(t)})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = h.Start(ctx)
			require.ErrorContains(t, err, file+": "+tc.want)
			var ce *hostdconfig.Error
			require.ErrorAs(t, err, &ce)
		})
	}
}
