package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/config"
)

func TestTLSListenersNeedACertificateAndTheReverse(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("pem"), 0o600))
	}
	t.Run("relative files resolve against the configuration's folder", func(t *testing.T) {
		c, err := config.Load([]byte("[server]\nlisten = [\"tls://127.0.0.1:8443\", \"127.0.0.1:8080\"]\n"+
			"[server.tls]\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n"), "t.toml", dir, builtins)
		require.NoError(t, err)
		require.Equal(t, filepath.Join(dir, "cert.pem"), c.Server.TLS.CertFile)
		require.Equal(t, filepath.Join(dir, "key.pem"), c.Server.TLS.KeyFile)
	})
	for _, tc := range []struct{ name, toml, want string }{
		{"a tls:// listener without [server.tls]", "[server]\nlisten = [\"tls://127.0.0.1:8443\"]\n",
			"t.toml: server.tls: a tls:// listener needs cert_file and key_file"},
		{"[server.tls] without a tls:// listener", "[server.tls]\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n",
			"t.toml: server.tls: no listener uses it"},
		{"TLS on a Unix socket", "[server]\nlisten = [\"tls://unix:/tmp/s\"]\n[server.tls]\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n",
			"t.toml: server.listen[0]: \"tls://unix:/tmp/s\": TLS is served on TCP addresses only"},
		{"a missing key file", "[server]\nlisten = [\"tls://127.0.0.1:8443\"]\n[server.tls]\ncert_file = \"cert.pem\"\nkey_file = \"nope.pem\"\n",
			"t.toml: server.tls.key_file: stat "},
		{"an unknown key in [server.tls]", "[server.tls]\ncert = \"cert.pem\"\n", "t.toml: server.tls.cert: unknown key"},
		{"an unknown key in [log]", "[log]\nacces = true\n", "t.toml: log.acces: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load([]byte(tc.toml), "t.toml", dir, builtins)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
