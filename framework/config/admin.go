package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
)

// readToken reads the admin API's bearer token: from token_file, else
// from the HOSTD_ADMIN_TOKEN value env.
func (c *Config) readToken(env string) error {
	a := &c.Admin
	if a.TokenFile == "" {
		a.Token = strings.TrimSpace(env)
		return nil
	}
	path := a.TokenFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.Dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return &Error{File: c.File, Key: "admin.token_file", Reason: err.Error()}
	}
	a.Token = strings.TrimSpace(string(b))
	if a.Token == "" {
		return &Error{File: c.File, Key: "admin.token_file", Reason: path + " is empty"}
	}
	return nil
}

// validateAdmin checks [admin]: an admin API that other machines can reach
// must require a token.
func (c *Config) validateAdmin() error {
	a := &c.Admin
	if a.Listen == "" {
		return nil
	}
	if err := checkAddr(a.Listen); err != nil {
		return &Error{File: c.File, Key: "admin.listen", Reason: err.Error()}
	}
	if a.Token == "" && !IsLocal(a.Listen) {
		return &Error{File: c.File, Key: "admin.listen", Reason: a.Listen +
			" is reachable from other machines: set admin.token_file or " + EnvAdminToken +
			" (the admin API then requires Authorization: Bearer TOKEN), or listen on loopback or unix:/path"}
	}
	return nil
}

// IsLocal reports whether a listen address can only be reached from this
// machine: a Unix socket, a loopback IP or "localhost".
func IsLocal(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
