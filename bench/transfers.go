package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// transfer is a large body streamed through a plugin, with the peak RSS
// (VmHWM) of hostd and of the plugin process during it.
type transfer struct {
	plugin             string
	bytes              int64
	elapsed            time.Duration
	hostKiB, pluginKiB int64
	// sinceStart is set when the peaks could not be reset before the
	// transfer: they then count from the process's start.
	sinceStart bool
}

func (t transfer) mbps() float64 { return mbps(t.bytes, t.elapsed) }

// runTransfers streams -stream-mib MiB up through the echo plugin (which
// reads the body as a stream and keeps 1 KiB of it) and down from the
// bench's stream plugin, on a fresh hostd.
func (b *bench) runTransfers(ctx context.Context, res *results) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	h, err := b.startHostd(ctx, "hostd-transfers", addr, b.streamConfig(addr), "/stream?size=1")
	if err != nil {
		return err
	}
	n := b.opts.streamMiB << 20
	for _, tc := range []struct {
		name, plugin string
		out          *transfer
		run          func() error
	}{
		{"upload", "echo", &res.upload, func() error { return upload(ctx, h.addr, n) }},
		{"download", "stream", &res.download, func() error { return download(ctx, h.addr, n) }},
	} {
		plugin, err := childNamed(h.proc.pid(), tc.plugin)
		if err != nil {
			return err
		}
		t := transfer{plugin: tc.plugin, bytes: n}
		if resetPeakRSS(h.proc.pid()) != nil || resetPeakRSS(plugin) != nil {
			t.sinceStart = true
		}
		start := time.Now()
		if err := tc.run(); err != nil {
			return fmt.Errorf("%s through %s: %w", tc.name, tc.plugin, err)
		}
		t.elapsed = time.Since(start)
		if t.hostKiB, err = statusKiB(h.proc.pid(), "VmHWM"); err != nil {
			return err
		}
		if t.pluginKiB, err = statusKiB(plugin, "VmHWM"); err != nil {
			return err
		}
		if err := h.alive(); err != nil {
			return err
		}
		*tc.out = t
		b.logf("%-8s %d MiB through %s: %.0f MB/s, peak RSS hostd %.1f MiB, plugin %.1f MiB",
			tc.name, b.opts.streamMiB, tc.plugin, t.mbps(), float64(t.hostKiB)/1024, float64(t.pluginKiB)/1024)
	}
	return nil
}

// upload POSTs n bytes to the echo plugin and checks that it counted them.
func upload(ctx context.Context, addr string, n int64) error {
	c, br, done, err := dialPipe(ctx, addr, nil, n)
	if err != nil {
		return err
	}
	defer done()
	if _, err := fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", n); err != nil {
		return err
	}
	for left := n; left > 0; {
		m, err := c.Write(chunk[:min(left, int64(len(chunk)))])
		left -= int64(m)
		if err != nil {
			return err
		}
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		BodyLength int64 `json:"bodyLength"`
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	if answer.BodyLength != n {
		return fmt.Errorf("the plugin read %d bytes of %d", answer.BodyLength, n)
	}
	return nil
}

// download GETs n bytes from the stream plugin.
func download(ctx context.Context, addr string, n int64) error {
	c, br, done, err := dialPipe(ctx, addr, nil, n)
	if err != nil {
		return err
	}
	defer done()
	if _, err := fmt.Fprintf(c, "GET /stream?size=%d HTTP/1.1\r\nHost: bench\r\n\r\n", n); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	got, err := readN(resp.Body, n+1)
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("got %d bytes of %d", got, n)
	}
	return nil
}
