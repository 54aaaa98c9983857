package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/hostd/hostd/framework/config"
	"github.com/hostd/hostd/framework/hostd"
)

// reload asks a running hostd, through its admin API, to reload its
// configuration: `hostd -config FILE reload`.
func reload(ctx context.Context, opts hostd.Options, stdout io.Writer) error {
	var cfg *config.Config
	var err error
	copts := config.Options{Builtins: opts.Builtins}
	if opts.ConfigFile != "" {
		cfg, err = config.LoadFile(opts.ConfigFile, copts)
	} else {
		cfg, err = config.Load(opts.Config, opts.ConfigName, ".", copts)
	}
	if err != nil {
		return err
	}
	addr := cfg.Admin.Listen
	if addr == "" {
		return fmt.Errorf("%s has no [admin] listen address; send SIGHUP to hostd instead", cfg.File)
	}
	client, url := http.DefaultClient, "http://"+addr+"/reload"
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
		url = "http://hostd/reload"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	if cfg.Admin.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Admin.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("reaching hostd's admin API at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reload refused: %s", strings.TrimSpace(string(body)))
	}
	_, _ = stdout.Write(body)
	return nil
}
