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
	// ownCPUPerReq is the part of cpuPerReq spent in the server's own
	// process: for hostd, the host without its plugins.
	ownCPUPerReq float64
	// others is the CPUs (0…NumCPU) that processes other than the
	// server, the load generator and the bench used during the run.
	others float64
}

// childCPUPerReq is the part of cpuPerReq spent in the server's child
// processes: for hostd, its plugins.
func (s sample) childCPUPerReq() float64 { return s.cpuPerReq - s.ownCPUPerReq }

// round holds one sample per server, all taken one after another.
type round map[string]sample

// rotate returns s rotated left by k: A B C D, B C D A, …
func rotate(s []string, k int) []string {
	k %= len(s)
	return append(append([]string(nil), s[k:]...), s[:k]...)
}

// runHello starts the hello-world servers and runs the interleaved rounds
// at -connections, then the rounds at one connection: the plugin hop
// (hostd against its engine), its floor (the relay) and hostd against
// Node.
func (b *bench) runHello(ctx context.Context, res *results) error {
	srv := make(map[string]*server)
	for _, name := range res.servers {
		s, err := b.startServer(ctx, name)
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		srv[name] = s
	}
	if err := b.warmUp(ctx, res.servers, srv); err != nil {
		return err
	}
	var err error
	if res.hello, err = b.measureRounds(ctx, res, res.servers, srv, b.opts.conns, b.opts.duration); err != nil {
		return err
	}
	// At one connection, also the hop's floor: the engine relaying each
	// request to a second process and back.
	relay, err := b.startServer(ctx, srvRelay)
	if err != nil {
		return fmt.Errorf("starting %s: %w", srvRelay, err)
	}
	srv[srvRelay] = relay
	if err := b.warmUp(ctx, []string{srvRelay}, srv); err != nil {
		return err
	}
	c1 := []string{srvHostd, srvEngine, srvRelay}
	if b.node != "" {
		c1 = append(c1, srvNode)
	}
	res.hop, err = b.measureRounds(ctx, res, c1, srv, 1, b.opts.c1Duration)
	return err
}

// warmUp gives each server one load run of -warmup, not counted.
func (b *bench) warmUp(ctx context.Context, names []string, srv map[string]*server) error {
	for _, name := range names {
		b.logf("warm-up: %s, %v", name, b.opts.warmup)
		if _, err := b.load(ctx, srv[name], b.opts.conns, b.opts.warmup); err != nil {
			return fmt.Errorf("warming up %s: %w", name, err)
		}
	}
	return nil
}

// measureRounds runs -rounds interleaved rounds of conns connections for
// d: in round r each server of names in turn, the order rotated by r, so
// that a ratio within a round compares runs taken moments apart.
func (b *bench) measureRounds(ctx context.Context, res *results, names []string, srv map[string]*server, conns int, d time.Duration) ([]round, error) {
	var rounds []round
	for r := range b.opts.rounds {
		rd := round{}
		for _, name := range rotate(names, r) {
			sm, err := b.measure(ctx, srv[name], conns, d)
			if err != nil {
				return rounds, err
			}
			rd[name] = sm
			b.logf("round %d/%d c=%-2d %-8s %8.0f req/s  p50 %-8v p99 %-8v %5.1f µs CPU/req  others %.2f CPU%s", r+1, b.opts.rounds, conns,
				name, sm.rps, sm.p50.Round(time.Microsecond), sm.p99.Round(time.Microsecond), sm.cpuPerReq, sm.others, badNote(sm.bad))
			res.warnBad(fmt.Sprintf("%s (%s, c=%d)", name, srv[name].target(), conns), sm.bad)
		}
		rounds = append(rounds, rd)
	}
	return rounds, nil
}

// measure runs the load against s and reads the CPU time its process tree
// spent meanwhile.
func (b *bench) measure(ctx context.Context, s *server, conns int, d time.Duration) (sample, error) {
	before, ownBefore, err := treeCPU(s.proc.pid())
	if err != nil {
		return sample{}, err
	}
	busy0, err := machineBusy()
	if err != nil {
		return sample{}, err
	}
	self0, start := selfCPU(), time.Now()
	lr, err := b.load(ctx, s, conns, d)
	if err != nil {
		return sample{}, fmt.Errorf("load on %s: %w", s.name, err)
	}
	after, ownAfter, err := treeCPU(s.proc.pid())
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
	perReq := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(lr.requests) }
	return sample{
		loadResult:   lr,
		cpuPerReq:    perReq(after - before),
		ownCPUPerReq: perReq(ownAfter - ownBefore),
		others:       others,
	}, nil
}

func badNote(bad int64) string {
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d errors or non-2xx)", bad)
}
