package pluginhost

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hostd/hostd/framework/metrics"
)

// Restart backoff bounds, and how long a generation must live for a crash
// to start the backoff over.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
	stableFor  = 10 * time.Second
)

var (
	// ErrDown is returned by Acquire while the plugin is restarting.
	ErrDown = errors.New("pluginhost: plugin is down")
	// ErrBusy is returned by Acquire past MaxConcurrent.
	ErrBusy = errors.New("pluginhost: plugin is at its concurrency limit")
)

// Plugin supervises the generations of one configured plugin.
type Plugin struct {
	name string
	log  hclog.Logger

	metrics *metrics.Plugin // set before Start; nil records nothing

	cur     atomic.Pointer[Instance]
	retryAt atomic.Int64 // Unix ns of the next restart attempt while down

	mu       sync.Mutex // serializes Start, Swap, restarts and Stop
	spec     Spec
	gen      uint64
	started  time.Time
	backoff  time.Duration
	restart  *time.Timer
	stopped  bool
	draining sync.WaitGroup
}

// New returns a supervisor for spec; Start launches it.
func New(spec Spec, log hclog.Logger) *Plugin {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Plugin{name: spec.Name, log: log.Named(spec.Name), spec: spec}
}

// SetMetrics makes the plugin and its generations record into m. It is
// called before Start.
func (p *Plugin) SetMetrics(m *metrics.Plugin) { p.metrics = m }

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Spec returns the spec of the current generation.
func (p *Plugin) Spec() Spec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.spec
}

// Current returns the serving generation, or nil while down.
func (p *Plugin) Current() *Instance { return p.cur.Load() }

// Start launches the first generation.
func (p *Plugin) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.launchLocked(ctx, p.spec)
	if err != nil {
		return err
	}
	p.cur.Store(in)
	return nil
}

func (p *Plugin) launchLocked(ctx context.Context, spec Spec) (*Instance, error) {
	gen := p.gen + 1
	in, err := launch(ctx, &spec, gen, p.log)
	if err != nil {
		return nil, err
	}
	p.gen = gen
	p.started = time.Now()
	in.onDeath = p.died
	in.metrics = p.metrics
	p.log.Info("plugin started", "generation", gen, "pid", in.Pid(), "events", in.events.Names())
	return in, nil
}

// Swap replaces the current generation with a new one running spec, as
// described in the package documentation. On error nothing changed.
func (p *Plugin) Swap(ctx context.Context, spec Spec) error {
	in, err := p.Prepare(ctx, spec)
	if err != nil {
		return err
	}
	p.Publish(in)
	return nil
}

// Prepare launches a generation running spec without publishing it:
// Publish does, or Discard stops it. Preparing every plugin of a new
// configuration before publishing any makes a reload all or nothing.
func (p *Plugin) Prepare(ctx context.Context, spec Spec) (*Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, errors.New("pluginhost: plugin stopped")
	}
	in, err := p.launchLocked(ctx, spec)
	if err != nil {
		p.log.Error("new generation refused; the current one keeps serving", "error", err)
		return nil, err
	}
	return in, nil
}

// Publish makes a prepared generation the current one and retires the
// previous one.
func (p *Plugin) Publish(in *Instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spec = *in.spec
	if p.restart != nil {
		p.restart.Stop()
		p.restart = nil
	}
	if old := p.cur.Swap(in); old != nil {
		p.retire(old)
	}
	p.metrics.Swapped()
	p.log.Info("swapped", "generation", in.gen)
}

// Discard stops a prepared generation that will not be published.
func (p *Plugin) Discard(in *Instance) { in.Stop() }

// retire drains and stops a replaced generation in the background.
func (p *Plugin) retire(old *Instance) {
	old.closed.Store(true)
	p.draining.Add(1)
	go func() {
		defer p.draining.Done()
		ctx, cancel := context.WithTimeout(context.Background(), old.spec.drainTimeout())
		start := time.Now()
		err := old.Drain(ctx)
		p.metrics.Drained(time.Since(start))
		cancel()
		if err != nil {
			p.log.Warn("drain timed out; stopping the old generation anyway", "generation", old.gen)
		}
		old.Stop()
		p.log.Info("old generation stopped", "generation", old.gen)
	}()
}

// died handles the death of a generation that was not stopped.
func (p *Plugin) died(in *Instance, err error) {
	in.proc.end(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.cur.Load() != in {
		return // a retired generation; its drain is over
	}
	p.cur.Store(nil)
	if time.Since(p.started) > stableFor || p.backoff == 0 {
		p.backoff = minBackoff
	}
	delay := p.backoff
	p.backoff = min(2*p.backoff, maxBackoff)
	p.retryAt.Store(time.Now().Add(delay).UnixNano())
	p.log.Error("plugin exited; its routes answer 503 until it restarts", "generation", in.gen, "error", err, "restart_in", delay)
	p.restart = time.AfterFunc(delay, p.tryRestart)
}

// tryRestart launches a generation after a crash, or schedules another try.
func (p *Plugin) tryRestart() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.cur.Load() != nil {
		return
	}
	ctx := context.Background()
	in, err := p.launchLocked(ctx, p.spec)
	if err != nil {
		delay := p.backoff
		p.backoff = min(2*p.backoff, maxBackoff)
		p.retryAt.Store(time.Now().Add(delay).UnixNano())
		p.log.Error("restart failed", "error", err, "retry_in", delay)
		p.restart = time.AfterFunc(delay, p.tryRestart)
		return
	}
	p.restart = nil
	p.cur.Store(in)
	p.metrics.Restarted()
}

// Acquire returns the generation that takes a new request, with a slot
// reserved on it (Instance.release frees it). While the plugin is down it
// returns ErrDown and how long until the next restart attempt; past
// MaxConcurrent, ErrBusy.
func (p *Plugin) Acquire() (*Instance, time.Duration, error) {
	for range 3 {
		in := p.cur.Load()
		if in == nil {
			wait := time.Until(time.Unix(0, p.retryAt.Load()))
			return nil, max(wait, time.Second), ErrDown
		}
		if in.acquire() {
			return in, 0, nil
		}
		if in.isDead() {
			return nil, time.Second, ErrDown // its restart is being scheduled
		}
		if !in.closed.Load() {
			return nil, 0, ErrBusy
		}
		// Swapped out between the load and the reservation: retry with
		// the new generation.
	}
	return nil, time.Second, ErrDown
}

// Stop drains and stops the current generation, waits for earlier ones to
// finish draining, and forbids restarts. ctx bounds the drain.
func (p *Plugin) Stop(ctx context.Context) {
	p.mu.Lock()
	p.stopped = true
	if p.restart != nil {
		p.restart.Stop()
	}
	in := p.cur.Swap(nil)
	p.mu.Unlock()
	if in != nil {
		_ = in.Drain(ctx)
		in.Stop()
	}
	p.draining.Wait()
}
