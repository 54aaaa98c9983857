package hostd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/hostdtest"
	"github.com/hostd/hostd/internal/testutil"
)

// clientConfig trusts the given certificates.
func clientConfig(certs ...*testutil.Cert) *tls.Config {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.Cert)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2", "http/1.1"}}
}

func tlsConfig(c *testutil.Cert) string {
	return config(fmt.Sprintf(`
[server]
listen = ["tls://127.0.0.1:0"]
[server.tls]
cert_file = %q
key_file = %q

[plugins.echo]
cmd = "{{bin}}/echo"
[plugins.sockets]
builtin = "sockets"
[plugins.tunnel]
cmd = "{{bin}}/tunnel"
[plugins.tunnel.config]
allow = ["127.0.0.1:*"]

[[routes]]
path = "/echo"
events = ["request", "upgrade"]
plugin = "echo"
[[routes]]
path = "/sockets"
events = ["upgrade"]
plugin = "sockets"
[[routes]]
authority = "127.0.0.1:*"
events = ["connect"]
plugin = "tunnel"
`, c.CertFile, c.KeyFile))
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	return c
}

func TestTLSListeners(t *testing.T) {
	dir := t.TempDir()
	cert := testutil.WriteCert(t, dir, 1)
	h := hostdtest.Start(t, tlsConfig(cert))
	var renewed *testutil.Cert

	t.Run("an HTTPS request, over TLS 1.2 or later with HTTP/1.1 by ALPN", func(t *testing.T) {
		c := dialTLS(t, h.Addr, clientConfig(cert))
		st := c.ConnectionState()
		require.Equal(t, "http/1.1", st.NegotiatedProtocol)
		require.GreaterOrEqual(t, st.Version, uint16(tls.VersionTLS12))
		_, err := io.WriteString(c, "GET /echo/secure HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		res, body := hostdtest.ReadResponse(t, bufio.NewReader(c), "GET")
		require.Equal(t, 200, res.StatusCode)
		require.Equal(t, "/echo/secure", answer(t, body).URL)

		client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientConfig(cert)}}
		r, err := client.Get("https://" + h.Addr + "/echo")
		require.NoError(t, err)
		r.Body.Close()
		require.Equal(t, 200, r.StatusCode)
	})

	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		cfg := clientConfig(cert)
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		_, err := tls.Dial("tcp", h.Addr, cfg)
		require.Error(t, err)
	})

	t.Run("plain HTTP on the TLS port gets no answer in the clear", func(t *testing.T) {
		out := h.Raw(t, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 5*time.Second)
		require.NotContains(t, out, "HTTP/1.1 200")
	})

	t.Run("an upgrade over TLS is relayed and echoes", func(t *testing.T) {
		for path, first := range map[string]string{"/sockets": "relayed\n", "/echo": ""} {
			c := dialTLS(t, h.Addr, clientConfig(cert))
			_, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nhead")
			require.NoError(t, err)
			br := bufio.NewReader(c)
			res, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, 101, res.StatusCode)
			want := first + "head"
			got := make([]byte, len(want))
			_, err = io.ReadFull(br, got)
			require.NoError(t, err)
			require.Equal(t, want, string(got), path)
			echoes(t, c, br, "over TLS, through "+path)
		}
	})

	t.Run("a CONNECT over TLS tunnels to its target", func(t *testing.T) {
		target, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer target.Close()
		go func() {
			c, err := target.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
		c := dialTLS(t, h.Addr, clientConfig(cert))
		addr := target.Addr().String()
		_, err = io.WriteString(c, "CONNECT "+addr+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode)
		echoes(t, c, br, "through the tunnel, over TLS")
	})

	t.Run("a reload with a new certificate serves it to new connections", func(t *testing.T) {
		old := dialTLS(t, h.Addr, clientConfig(cert))
		renewed = testutil.WriteCert(t, dir, 2) // the same files, rewritten
		require.NoError(t, h.Reload(context.Background()))
		c := dialTLS(t, h.Addr, clientConfig(renewed))
		require.Equal(t, int64(2), c.ConnectionState().PeerCertificates[0].SerialNumber.Int64())
		// A connection made before keeps its session and still serves.
		require.Equal(t, int64(1), old.ConnectionState().PeerCertificates[0].SerialNumber.Int64())
		_, err := io.WriteString(old, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		res, _ := hostdtest.ReadResponse(t, bufio.NewReader(old), "GET")
		require.Equal(t, 200, res.StatusCode)
	})

	t.Run("a reload with a broken key is refused and the certificate stays", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600))
		err := h.Reload(context.Background())
		require.ErrorContains(t, err, "server.tls")
		c := dialTLS(t, h.Addr, clientConfig(renewed))
		require.Equal(t, int64(2), c.ConnectionState().PeerCertificates[0].SerialNumber.Int64())
	})
}
