package hostd

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"

	"github.com/hostd/hostd/framework/config"
)

// certificates holds the certificate of the tls:// listeners. A reload
// replaces it; a connection's handshake takes the one in force then, so
// new connections get a renewed certificate and open ones keep theirs.
type certificates struct {
	cur atomic.Pointer[tls.Certificate]
}

// read loads the key pair of [server.tls], or nil when no listener uses
// TLS.
func (c *certificates) read(cfg *config.Config) (*tls.Certificate, error) {
	t := cfg.Server.TLS
	if t.CertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: server.tls: %w", cfg.File, err)
	}
	return &cert, nil
}

// load reads and uses the key pair of [server.tls].
func (c *certificates) load(cfg *config.Config) error {
	cert, err := c.read(cfg)
	if err != nil {
		return err
	}
	c.use(cert)
	return nil
}

// use makes cert the one new handshakes present. A configuration
// without TLS keeps the previous one, which the listeners started with
// TLS go on serving until the next start.
func (c *certificates) use(cert *tls.Certificate) {
	if cert != nil {
		c.cur.Store(cert)
	}
}

// tlsConfig is the listeners' configuration: TLS 1.2 and up with Go's
// default cipher suites, HTTP/1.1 by ALPN, and the current certificate.
func (c *certificates) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
