package main

import (
	"context"
	"fmt"
	"time"
)

// sample is one load run against one server, with the CPU time the
// server's processes (hostd and its plugin, for hostd) spent during it.
type sample struct {
	loadResult
	cpuPerReq float64 // µs of user + system time per request
	// others is the CPUs (0…NumCPU) that processes other than the
	// server, the load generator and the bench used during the run.
	others float64
}

// round holds one sample per server, all taken one after another.
type round map[string]sample

// rotate returns s rotated left by k: A B C D, B C D A, …
func rotate(s []string, k int) []string {
	k %= len(s)
	return append(append([]string(nil), s[k:]...), s[:k]...)
}

// runHello starts the hello-world servers and runs the interleaved rounds
// at -connections, then the plugin-hop rounds at one connection.
func (b *bench) runHello(ctx context.Context, res *results) error {
	srv := make(map[string]*server)
	for _, name := range res.servers {
		s, err := b.startServer(ctx, name)
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		srv[name] = s
	}
	for _, name := range res.servers {
		b.logf("warm-up: %s, %v", name, b.opts.warmup)
		if _, err := b.load(ctx, srv[name].addr, b.opts.conns, b.opts.warmup); err != nil {
			return fmt.Errorf("warming up %s: %w", name, err)
		}
	}
	for r := range b.opts.rounds {
		rd := round{}
		for _, name := range rotate(res.servers, r) {
			sm, err := b.measure(ctx, srv[name], b.opts.conns, b.opts.duration)
			if err != nil {
				return err
			}
			rd[name] = sm
			b.logf("round %d/%d c=%d %-8s %8.0f req/s  p50 %-8v p99 %-8v %5.1f µs CPU/req  others %.2f CPU%s", r+1, b.opts.rounds, b.opts.conns,
				name, sm.rps, sm.p50.Round(time.Microsecond), sm.p99.Round(time.Microsecond), sm.cpuPerReq, sm.others, badNote(sm.bad))
			res.warnBad(name, sm.bad)
		}
		res.hello = append(res.hello, rd)
	}
	// The plugin hop: one connection, one request at a time.
	pair := []string{srvHostd, srvEngine}
	for r := range b.opts.rounds {
		rd := round{}
		for _, name := range rotate(pair, r) {
			sm, err := b.measure(ctx, srv[name], 1, b.opts.c1Duration)
			if err != nil {
				return err
			}
			rd[name] = sm
			b.logf("round %d/%d c=1  %-8s %8.0f req/s  p50 %-8v p99 %-8v others %.2f CPU%s", r+1, b.opts.rounds,
				name, sm.rps, sm.p50.Round(time.Microsecond), sm.p99.Round(time.Microsecond), sm.others, badNote(sm.bad))
			res.warnBad(name+" (c=1)", sm.bad)
		}
		res.hop = append(res.hop, rd)
	}
	return nil
}

// measure runs the load against s and reads the CPU time its process tree
// spent meanwhile.
func (b *bench) measure(ctx context.Context, s *server, conns int, d time.Duration) (sample, error) {
	before, err := treeCPU(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	busy0, err := machineBusy()
	if err != nil {
		return sample{}, err
	}
	self0, start := selfCPU(), time.Now()
	lr, err := b.load(ctx, s.addr, conns, d)
	if err != nil {
		return sample{}, fmt.Errorf("load on %s: %w", s.name, err)
	}
	after, err := treeCPU(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	busy1, err := machineBusy()
	if err != nil {
		return sample{}, err
	}
	ours := (after - before) + (selfCPU() - self0) + lr.loaderCPU
	others := max(float64(busy1-busy0-ours)/float64(time.Since(start)), 0)
	if err := s.alive(); err != nil {
		return sample{}, err
	}
	if lr.requests == 0 {
		return sample{}, fmt.Errorf("%s answered no request (%d errors)\n%s", s.name, lr.bad, s.proc.tail())
	}
	return sample{
		loadResult: lr,
		cpuPerReq:  float64(after-before) / float64(time.Microsecond) / float64(lr.requests),
		others:     others,
	}, nil
}

func badNote(bad int64) string {
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d errors or non-2xx)", bad)
}
